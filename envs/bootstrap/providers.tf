provider "aws" {
  region              = var.region
  allowed_account_ids = [var.allowed_account_id]

  default_tags {
    tags = {
      System    = var.system
      Env       = "shared"
      ManagedBy = "terraform"
    }
  }
}
