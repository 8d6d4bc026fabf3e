terraform {
  required_version = ">= 1.5"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.10"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
    null = {
      source  = "hashicorp/null"
      version = "~> 3.2"
    }
    local = {
      source  = "hashicorp/local"
      version = "~> 2.5"
    }
  }

  # State in a bucket of its own, created once by hand (see ../../README.md).
  backend "gcs" {
    prefix = "mlops/dev"
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}
