variable "project_id" {
  type        = string
  description = "Google Cloud project id."
}

variable "region" {
  type        = string
  description = "Location of the repository."
}

variable "repository_id" {
  type        = string
  description = "Repository name."
}

variable "labels" {
  type        = map(string)
  description = "Labels on the repository."
}
