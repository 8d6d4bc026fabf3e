variable "project_id" {
  type        = string
  description = "Google Cloud project id."
}

variable "region" {
  type        = string
  description = "Region of the Artifact Registry repository."
}

variable "name" {
  type        = string
  description = "Prefix for service account ids (6-30 characters in all)."
}

variable "bucket_names" {
  type        = list(string)
  description = "Buckets pipeline runs may write."
}

variable "mlmd_password_secret_id" {
  type        = string
  description = "Secret holding the ML Metadata database password."
}

variable "repository_id" {
  type        = string
  description = "Artifact Registry repository CI pushes images to."
}

variable "kfp_namespace" {
  type        = string
  description = "Kubernetes namespace of Kubeflow Pipelines."
}

variable "ci_principal_set" {
  type        = string
  description = "Workload Identity Federation principalSet:// of the CI repository; empty to skip."
}
