variable "project_id" {
  type        = string
  description = "Google Cloud project id."
}

variable "region" {
  type        = string
  description = "Region of the subnet, router and NAT."
}

variable "name" {
  type        = string
  description = "Prefix for resource names."
}

variable "subnet_cidr" {
  type        = string
  description = "Primary range of the subnet (nodes)."
}

variable "pods_cidr" {
  type        = string
  description = "Secondary range for GKE pods."
}

variable "services_cidr" {
  type        = string
  description = "Secondary range for GKE services."
}
