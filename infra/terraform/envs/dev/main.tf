# Development: small, zonal database, cluster may be destroyed.
module "platform" {
  source                       = "../../modules/platform"
  project_id                   = var.project_id
  region                       = var.region
  environment                  = "dev"
  labels                       = { cost-center = "mlops-dev" }
  subnet_cidr                  = "10.10.0.0/20"
  pods_cidr                    = "10.20.0.0/16"
  services_cidr                = "10.30.0.0/20"
  master_cidr                  = "172.16.0.0/28"
  master_authorized_cidrs      = var.master_authorized_cidrs
  release_channel              = "REGULAR"
  node_count                   = 1
  max_node_count               = 2
  machine_type                 = "e2-standard-4"
  disk_size_gb                 = 50
  deletion_protection          = false
  sql_tier                     = "db-custom-1-3840"
  sql_high_availability        = false
  sql_retained_backups         = 7
  pipeline_root_retention_days = 30
  access_log_bucket            = var.access_log_bucket
  kfp_version                  = var.kfp_version
  kfp_namespace                = "kubeflow"
  ci_principal_set             = var.ci_principal_set
}
