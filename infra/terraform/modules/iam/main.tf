# Service accounts, least privilege, bound through Workload Identity: no service-account keys.
# - nodes:    what GKE nodes run as (logging, monitoring, pulling images).
# - pipeline: what pipeline pods run as (KSA pipeline-runner in the kubeflow namespace).
# - ci:       what CI impersonates through Workload Identity Federation to build, push and deploy.
resource "google_service_account" "nodes" {
  project      = var.project_id
  account_id   = "${var.name}-nodes"
  display_name = "GKE nodes of ${var.name}"
}

resource "google_service_account" "pipeline" {
  project      = var.project_id
  account_id   = "${var.name}-pipeline"
  display_name = "Pipeline runs of ${var.name}"
}

resource "google_service_account" "ci" {
  project      = var.project_id
  account_id   = "${var.name}-ci"
  display_name = "CI of ${var.name}"
}

locals {
  node_roles = ["roles/logging.logWriter", "roles/monitoring.metricWriter",
  "roles/monitoring.viewer", "roles/artifactregistry.reader"]
  pipeline_roles = ["roles/cloudsql.client", "roles/dataflow.developer", "roles/dataflow.worker",
  "roles/logging.logWriter"]
  ci_roles = ["roles/container.developer"]
}

resource "google_project_iam_member" "nodes" {
  for_each = toset(local.node_roles)
  project  = var.project_id
  role     = each.value
  member   = "serviceAccount:${google_service_account.nodes.email}"
}

resource "google_project_iam_member" "pipeline" {
  # checkov:skip=CKV_GCP_49: launching Dataflow jobs (Beam at scale) needs dataflow.developer; it is granted only to the pipeline service account
  for_each = toset(local.pipeline_roles)
  project  = var.project_id
  role     = each.value
  member   = "serviceAccount:${google_service_account.pipeline.email}"
}

resource "google_project_iam_member" "ci" {
  for_each = toset(local.ci_roles)
  project  = var.project_id
  role     = each.value
  member   = "serviceAccount:${google_service_account.ci.email}"
}

# Pipeline pods write artifacts and published models; bucket-level grants, not project-wide.
resource "google_storage_bucket_iam_member" "pipeline_buckets" {
  for_each = toset(var.bucket_names)
  bucket   = each.value
  role     = "roles/storage.objectAdmin"
  member   = "serviceAccount:${google_service_account.pipeline.email}"
}

resource "google_secret_manager_secret_iam_member" "pipeline_mlmd_password" {
  project   = var.project_id
  secret_id = var.mlmd_password_secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.pipeline.email}"
}

resource "google_artifact_registry_repository_iam_member" "ci_push" {
  project    = var.project_id
  location   = var.region
  repository = var.repository_id
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${google_service_account.ci.email}"
}

# Workload Identity: the Kubernetes service account of pipeline pods acts as the pipeline GSA.
resource "google_service_account_iam_member" "pipeline_workload_identity" {
  service_account_id = google_service_account.pipeline.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${var.kfp_namespace}/pipeline-runner]"
}

# CI authenticates with Workload Identity Federation (e.g. GitHub OIDC), never with a key.
resource "google_service_account_iam_member" "ci_federation" {
  count              = var.ci_principal_set == "" ? 0 : 1
  service_account_id = google_service_account.ci.name
  role               = "roles/iam.workloadIdentityUser"
  member             = var.ci_principal_set
}
