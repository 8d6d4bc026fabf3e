output "connection_name" {
  description = "project:region:instance, for the Cloud SQL connector / proxy."
  value       = google_sql_database_instance.mlmd.connection_name
}

output "private_ip" {
  value = google_sql_database_instance.mlmd.private_ip_address
}

output "database_name" {
  value = google_sql_database.mlmd.name
}

output "user_name" {
  value = google_sql_user.mlmd.name
}

output "password_secret_id" {
  description = "Secret Manager secret holding the password (the password itself is never output)."
  value       = google_secret_manager_secret.mlmd_password.secret_id
}
