# Artifact Registry repository for the pipeline image.
resource "google_artifact_registry_repository" "images" {
  # checkov:skip=CKV_GCP_84: images hold no secrets or data; Google-managed encryption avoids a KMS key ring and its cost
  project       = var.project_id
  location      = var.region
  repository_id = var.repository_id
  format        = "DOCKER"
  description   = "Pipeline images of the mlops platform"
  labels        = var.labels

  docker_config {
    immutable_tags = true
  }
}
