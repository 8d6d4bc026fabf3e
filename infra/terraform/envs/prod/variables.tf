variable "project_id" {
  type        = string
  description = "Google Cloud project id."
}

variable "region" {
  type        = string
  description = "Region for everything regional."
  default     = "europe-west4"
}

variable "master_authorized_cidrs" {
  type        = list(string)
  description = "CIDRs allowed to reach the GKE control plane (operators, CI)."
}

variable "access_log_bucket" {
  type        = string
  description = "Existing bucket for storage access logs."
}

variable "ci_principal_set" {
  type        = string
  description = "Workload Identity Federation principalSet:// of the CI repository; empty to skip."
  default     = ""
}

variable "kfp_version" {
  type        = string
  description = "Pinned Kubeflow Pipelines manifests version."
  default     = "2.4.0"
}
