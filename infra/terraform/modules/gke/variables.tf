variable "project_id" {
  type        = string
  description = "Google Cloud project id."
}

variable "region" {
  type        = string
  description = "Region of the (regional) cluster."
}

variable "name" {
  type        = string
  description = "Cluster name."
}

variable "network_name" {
  type        = string
  description = "VPC the cluster lives in."
}

variable "subnet_name" {
  type        = string
  description = "Subnet with the 'pods' and 'services' secondary ranges."
}

variable "master_cidr" {
  type        = string
  description = "A /28 for the control plane's private endpoint."
}

variable "master_authorized_cidrs" {
  type        = list(string)
  description = "CIDRs allowed to reach the control plane (CI runners, operators)."
}

variable "release_channel" {
  type        = string
  description = "GKE release channel: RAPID, REGULAR or STABLE."
}

variable "node_count" {
  type        = number
  description = "Nodes per zone at the least."
}

variable "max_node_count" {
  type        = number
  description = "Nodes per zone at the most (autoscaling)."
}

variable "machine_type" {
  type        = string
  description = "Machine type of the node pool."
}

variable "disk_size_gb" {
  type        = number
  description = "Boot disk size of each node."
}

variable "node_service_account" {
  type        = string
  description = "Email of the minimal service account the nodes run as."
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to destroy the cluster."
}

variable "labels" {
  type        = map(string)
  description = "Labels on the cluster and nodes."
}
