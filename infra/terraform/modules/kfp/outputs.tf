output "namespace" {
  value = var.namespace
}

output "ui_port_forward" {
  description = "How to reach the KFP API/UI without exposing it."
  value       = "kubectl -n ${var.namespace} port-forward svc/ml-pipeline-ui 8080:80"
}
