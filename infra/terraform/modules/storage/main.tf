# Buckets: the pipeline root (artifacts, with lifecycle rules) and the three published-model
# destinations (versioned). Uniform bucket-level access and public access prevention everywhere.
locals {
  published = {
    serving = "${var.name_prefix}-serving-models"
    hub     = "${var.name_prefix}-hub-modules"
    mobile  = "${var.name_prefix}-mobile-models"
  }
}

resource "google_storage_bucket" "pipeline_root" {
  project                     = var.project_id
  name                        = "${var.name_prefix}-pipeline-root"
  location                    = var.location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = var.labels

  versioning {
    enabled = true
  }

  logging {
    log_bucket = var.access_log_bucket
  }

  lifecycle_rule {
    condition {
      age = var.pipeline_root_retention_days
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 7
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_storage_bucket" "published" {
  for_each                    = local.published
  project                     = var.project_id
  name                        = each.value
  location                    = var.location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = var.labels

  versioning {
    enabled = true
  }

  logging {
    log_bucket = var.access_log_bucket
  }
}
