variable "project_id" {
  type        = string
  description = "Google Cloud project id."
}

variable "region" {
  type        = string
  description = "Region for everything regional."
}

variable "environment" {
  type        = string
  description = "dev or prod; part of every name."
}

variable "labels" {
  type        = map(string)
  description = "Extra labels on every resource that takes labels."
}

variable "subnet_cidr" {
  type        = string
  description = "Primary range of the subnet."
}

variable "pods_cidr" {
  type        = string
  description = "Secondary range for pods."
}

variable "services_cidr" {
  type        = string
  description = "Secondary range for services."
}

variable "master_cidr" {
  type        = string
  description = "A /28 for the GKE control plane."
}

variable "master_authorized_cidrs" {
  type        = list(string)
  description = "CIDRs allowed to reach the GKE control plane."
}

variable "release_channel" {
  type        = string
  description = "GKE release channel."
}

variable "node_count" {
  type        = number
  description = "Minimum nodes per zone."
}

variable "max_node_count" {
  type        = number
  description = "Maximum nodes per zone."
}

variable "machine_type" {
  type        = string
  description = "Node machine type."
}

variable "disk_size_gb" {
  type        = number
  description = "Node boot disk size."
}

variable "deletion_protection" {
  type        = bool
  description = "Protect the GKE cluster from terraform destroy."
}

variable "sql_tier" {
  type        = string
  description = "Cloud SQL machine tier."
}

variable "sql_high_availability" {
  type        = bool
  description = "Regional (HA) Cloud SQL."
}

variable "sql_retained_backups" {
  type        = number
  description = "Automated backups kept."
}

variable "pipeline_root_retention_days" {
  type        = number
  description = "Days pipeline artifacts are kept."
}

variable "access_log_bucket" {
  type        = string
  description = "Existing bucket for storage access logs."
}

variable "kfp_version" {
  type        = string
  description = "Pinned Kubeflow Pipelines manifests version."
}

variable "kfp_namespace" {
  type        = string
  description = "Namespace of Kubeflow Pipelines."
}

variable "ci_principal_set" {
  type        = string
  description = "Workload Identity Federation principalSet of CI; empty to skip."
}
