variable "project_id" {
  type        = string
  description = "Google Cloud project id."
}

variable "region" {
  type        = string
  description = "Region of the cluster."
}

variable "cluster_name" {
  type        = string
  description = "GKE cluster to install into."
}

variable "kfp_version" {
  type        = string
  description = "Kubeflow Pipelines release tag of the upstream manifests, e.g. 2.4.0."
}

variable "namespace" {
  type        = string
  description = "Namespace of Kubeflow Pipelines."
}

variable "pipeline_root_bucket" {
  type        = string
  description = "Bucket name (no gs://) for KFP's artifacts."
}

variable "sql_connection_name" {
  type        = string
  description = "Cloud SQL connection name for KFP's databases."
}

variable "pipeline_service_account" {
  type        = string
  description = "GSA that pipeline pods act as through Workload Identity."
}

variable "sql_user" {
  type        = string
  description = "Cloud SQL user KFP connects as."
}

variable "sql_password_secret_id" {
  type        = string
  description = "Secret Manager secret holding that user's password."
}
