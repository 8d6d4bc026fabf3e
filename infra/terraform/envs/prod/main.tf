# Production: larger nodes, regional (HA) database, everything protected from destroy.
module "platform" {
  source                       = "../../modules/platform"
  project_id                   = var.project_id
  region                       = var.region
  environment                  = "prod"
  labels                       = { cost-center = "mlops-prod" }
  subnet_cidr                  = "10.110.0.0/20"
  pods_cidr                    = "10.120.0.0/16"
  services_cidr                = "10.130.0.0/20"
  master_cidr                  = "172.16.1.0/28"
  master_authorized_cidrs      = var.master_authorized_cidrs
  release_channel              = "STABLE"
  node_count                   = 1
  max_node_count               = 5
  machine_type                 = "e2-standard-8"
  disk_size_gb                 = 100
  deletion_protection          = true
  sql_tier                     = "db-custom-2-7680"
  sql_high_availability        = true
  sql_retained_backups         = 30
  pipeline_root_retention_days = 90
  access_log_bucket            = var.access_log_bucket
  kfp_version                  = var.kfp_version
  kfp_namespace                = "kubeflow"
  ci_principal_set             = var.ci_principal_set
}
