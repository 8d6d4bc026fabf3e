output "node_service_account" {
  value = google_service_account.nodes.email
}

output "pipeline_service_account" {
  value = google_service_account.pipeline.email
}

output "ci_service_account" {
  value = google_service_account.ci.email
}
