output "pipeline_root" {
  value = "gs://${google_storage_bucket.pipeline_root.name}"
}

output "serving_uri" {
  value = "gs://${google_storage_bucket.published["serving"].name}"
}

output "hub_uri" {
  value = "gs://${google_storage_bucket.published["hub"].name}"
}

output "mobile_uri" {
  value = "gs://${google_storage_bucket.published["mobile"].name}"
}

output "bucket_names" {
  value = concat([google_storage_bucket.pipeline_root.name], [for b in google_storage_bucket.published : b.name])
}
