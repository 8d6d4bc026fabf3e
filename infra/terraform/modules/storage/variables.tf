variable "project_id" {
  type        = string
  description = "Google Cloud project id."
}

variable "location" {
  type        = string
  description = "Bucket location (region or multi-region)."
}

variable "name_prefix" {
  type        = string
  description = "Globally unique prefix for bucket names."
}

variable "pipeline_root_retention_days" {
  type        = number
  description = "Age after which pipeline artifacts are deleted."
}

variable "access_log_bucket" {
  type        = string
  description = "Bucket that receives access logs."
}

variable "labels" {
  type        = map(string)
  description = "Labels on every bucket."
}
