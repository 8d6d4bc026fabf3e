# Re-exported for `make deploy-pipeline` (terraform output -json in this directory).
output "platform" {
  description = "KFP endpoint, image repository, bucket URIs, MLMD connection (no secrets)."
  value = {
    kfp_endpoint             = module.platform.kfp_endpoint
    kfp_port_forward         = module.platform.kfp_port_forward
    gke_cluster              = module.platform.gke_cluster
    image_repository         = module.platform.image_repository
    pipeline_root            = module.platform.pipeline_root
    serving_uri              = module.platform.serving_uri
    hub_uri                  = module.platform.hub_uri
    mobile_uri               = module.platform.mobile_uri
    mlmd_connection_name     = module.platform.mlmd_connection_name
    mlmd_database            = module.platform.mlmd_database
    mlmd_user                = module.platform.mlmd_user
    mlmd_password_secret     = module.platform.mlmd_password_secret
    pipeline_service_account = module.platform.pipeline_service_account
    ci_service_account       = module.platform.ci_service_account
  }
}
