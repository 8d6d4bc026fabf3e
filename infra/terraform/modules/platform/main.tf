# The whole Google Cloud home of the platform, composed from the modules beside this one.
# envs/dev and envs/prod call it with their own sizes.
locals {
  labels = merge(var.labels, { platform = "mlops", environment = var.environment })
  name   = "mlops-${var.environment}"
}

module "network" {
  source        = "../network"
  project_id    = var.project_id
  region        = var.region
  name          = local.name
  subnet_cidr   = var.subnet_cidr
  pods_cidr     = var.pods_cidr
  services_cidr = var.services_cidr
}

module "storage" {
  source                       = "../storage"
  project_id                   = var.project_id
  location                     = var.region
  name_prefix                  = "${var.project_id}-${local.name}"
  pipeline_root_retention_days = var.pipeline_root_retention_days
  access_log_bucket            = var.access_log_bucket
  labels                       = local.labels
}

module "registry" {
  source        = "../registry"
  project_id    = var.project_id
  region        = var.region
  repository_id = "${local.name}-images"
  labels        = local.labels
}

module "cloudsql" {
  source                      = "../cloudsql"
  project_id                  = var.project_id
  region                      = var.region
  name                        = "${local.name}-mlmd"
  network_id                  = module.network.network_id
  private_services_connection = module.network.private_services_connection
  tier                        = var.sql_tier
  high_availability           = var.sql_high_availability
  retained_backups            = var.sql_retained_backups
  database_name               = "mlmd"
  user_name                   = "mlmd"
  labels                      = local.labels
}

module "iam" {
  source                  = "../iam"
  project_id              = var.project_id
  region                  = var.region
  name                    = local.name
  bucket_names            = module.storage.bucket_names
  mlmd_password_secret_id = module.cloudsql.password_secret_id
  repository_id           = "${local.name}-images"
  kfp_namespace           = var.kfp_namespace
  ci_principal_set        = var.ci_principal_set
  depends_on              = [module.registry]
}

module "gke" {
  source                  = "../gke"
  project_id              = var.project_id
  region                  = var.region
  name                    = "${local.name}-gke"
  network_name            = module.network.network_name
  subnet_name             = module.network.subnet_name
  master_cidr             = var.master_cidr
  master_authorized_cidrs = var.master_authorized_cidrs
  release_channel         = var.release_channel
  node_count              = var.node_count
  max_node_count          = var.max_node_count
  machine_type            = var.machine_type
  disk_size_gb            = var.disk_size_gb
  node_service_account    = module.iam.node_service_account
  deletion_protection     = var.deletion_protection
  labels                  = local.labels
}

module "kfp" {
  source                   = "../kfp"
  project_id               = var.project_id
  region                   = var.region
  cluster_name             = module.gke.cluster_name
  kfp_version              = var.kfp_version
  namespace                = var.kfp_namespace
  pipeline_root_bucket     = trimprefix(module.storage.pipeline_root, "gs://")
  sql_connection_name      = module.cloudsql.connection_name
  sql_user                 = module.cloudsql.user_name
  sql_password_secret_id   = module.cloudsql.password_secret_id
  pipeline_service_account = module.iam.pipeline_service_account
}
