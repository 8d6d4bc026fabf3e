# What `make deploy-pipeline` consumes (`terraform output -json`). No secret is output.
output "kfp_endpoint" {
  description = "KFP API through a port-forward (or put an IAP endpoint in front)."
  value       = "http://localhost:8080"
}

output "kfp_port_forward" {
  value = module.kfp.ui_port_forward
}

output "gke_cluster" {
  value = module.gke.cluster_name
}

output "image_repository" {
  value = module.registry.image_repository
}

output "pipeline_root" {
  value = module.storage.pipeline_root
}

output "serving_uri" {
  value = module.storage.serving_uri
}

output "hub_uri" {
  value = module.storage.hub_uri
}

output "mobile_uri" {
  value = module.storage.mobile_uri
}

output "mlmd_connection_name" {
  value = module.cloudsql.connection_name
}

output "mlmd_database" {
  value = module.cloudsql.database_name
}

output "mlmd_user" {
  value = module.cloudsql.user_name
}

output "mlmd_password_secret" {
  value = module.cloudsql.password_secret_id
}

output "pipeline_service_account" {
  value = module.iam.pipeline_service_account
}

output "ci_service_account" {
  value = module.iam.ci_service_account
}
