variable "project_id" {
  type        = string
  description = "Google Cloud project id."
}

variable "region" {
  type        = string
  description = "Region of the instance."
}

variable "name" {
  type        = string
  description = "Instance name."
}

variable "network_id" {
  type        = string
  description = "VPC whose private services access gives the instance its private IP."
}

variable "private_services_connection" {
  type        = string
  description = "The service networking connection the instance must wait for."
}

variable "tier" {
  type        = string
  description = "Machine tier, e.g. db-custom-1-3840."
}

variable "high_availability" {
  type        = bool
  description = "REGIONAL (failover replica) instead of ZONAL."
}

variable "retained_backups" {
  type        = number
  description = "How many automated backups to keep."
}

variable "database_name" {
  type        = string
  description = "Database for ML Metadata."
}

variable "user_name" {
  type        = string
  description = "User ML Metadata connects as."
}

variable "labels" {
  type        = map(string)
  description = "Labels on the instance and the secret."
}
