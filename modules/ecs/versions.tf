terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.4" # deployment_configuration.strategy, load_balancer.advanced_configuration: 6.4.0
    }
  }
}
