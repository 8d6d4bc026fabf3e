# Kubeflow Pipelines standalone, from the upstream kustomize manifests at a pinned version, with
# its metadata and run store in Cloud SQL and its artifacts in GCS (upstream's env/gcp overlay).
# Applied by a null_resource running kubectl: the kubernetes provider cannot apply a remote
# kustomization, and kubectl is on every operator's and CI's machine. It reruns when the version
# or the parameters change. Needs kubectl with credentials for the cluster (see README).
locals {
  params = {
    kfp_version     = var.kfp_version
    namespace       = var.namespace
    project_id      = var.project_id
    bucket_name     = var.pipeline_root_bucket
    sql_connection  = var.sql_connection_name
    service_account = var.pipeline_service_account
  }
}

resource "local_file" "kustomization" {
  filename        = "${path.root}/.kfp/${var.cluster_name}/kustomization.yaml"
  file_permission = "0600"
  content         = templatefile("${path.module}/templates/kustomization.yaml.tftpl", local.params)
}

resource "null_resource" "kfp" {
  triggers = {
    kustomization = sha256(local_file.kustomization.content)
    cluster       = var.cluster_name
  }

  provisioner "local-exec" {
    interpreter = ["/bin/bash", "-euo", "pipefail", "-c"]
    command     = <<-EOT
      gcloud container clusters get-credentials ${var.cluster_name} --region ${var.region} --project ${var.project_id}
      kubectl apply -k "github.com/kubeflow/pipelines/manifests/kustomize/cluster-scoped-resources?ref=${var.kfp_version}"
      kubectl wait --for condition=established --timeout=120s crd/applications.app.k8s.io
      # KFP's database credentials, straight from Secret Manager into a Kubernetes secret: the
      # password never lands in a file, a log line or Terraform output.
      kubectl create namespace ${var.namespace} --dry-run=client -o yaml | kubectl apply -f -
      kubectl -n ${var.namespace} create secret generic mysql-secret \
        --from-literal=username=${var.sql_user} \
        --from-literal=password="$(gcloud secrets versions access latest --secret=${var.sql_password_secret_id} --project ${var.project_id})" \
        --dry-run=client -o yaml | kubectl apply -f -
      kubectl apply -k "${dirname(local_file.kustomization.filename)}"
      kubectl -n ${var.namespace} wait --for=condition=available --timeout=900s deployment/ml-pipeline
    EOT
  }
}
