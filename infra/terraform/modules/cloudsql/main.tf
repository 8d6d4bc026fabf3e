# Cloud SQL for MySQL 8 holding ML Metadata (and KFP's run store): private IP only, encrypted
# connections, automated backups with point-in-time recovery, deletion protection. The password is
# generated here and kept in Secret Manager; no output prints it.
resource "random_password" "mlmd" {
  length  = 32
  special = false
}

resource "google_sql_database_instance" "mlmd" {
  project             = var.project_id
  name                = var.name
  region              = var.region
  database_version    = "MYSQL_8_0"
  deletion_protection = true

  settings {
    tier              = var.tier
    availability_type = var.high_availability ? "REGIONAL" : "ZONAL"
    disk_autoresize   = true
    user_labels       = var.labels

    ip_configuration {
      ipv4_enabled    = false
      private_network = var.network_id
      ssl_mode        = "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
    }

    backup_configuration {
      enabled            = true
      binary_log_enabled = true # point-in-time recovery for MySQL
      start_time         = "03:00"
      backup_retention_settings {
        retained_backups = var.retained_backups
      }
    }

    database_flags {
      name  = "local_infile"
      value = "off"
    }
    database_flags {
      name  = "skip_show_database"
      value = "on"
    }
  }

  depends_on = [var.private_services_connection]
}

resource "google_sql_database" "mlmd" {
  project  = var.project_id
  name     = var.database_name
  instance = google_sql_database_instance.mlmd.name
}

resource "google_sql_user" "mlmd" {
  project  = var.project_id
  name     = var.user_name
  instance = google_sql_database_instance.mlmd.name
  password = random_password.mlmd.result
}

resource "google_secret_manager_secret" "mlmd_password" {
  project   = var.project_id
  secret_id = "${var.name}-mlmd-password"
  labels    = var.labels

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "mlmd_password" {
  secret      = google_secret_manager_secret.mlmd_password.id
  secret_data = random_password.mlmd.result
}
