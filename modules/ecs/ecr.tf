# ---- Container registry ----

locals {
  repositories = {
    app   = var.names.app_repository
    proxy = var.names.proxy_repository
  }

  # Rules are applied by ascending rulePriority and an image is expired by one rule at most.
  # The two rules select disjoint images (untagged / tagged), so their order does not matter;
  # a rule with tagStatus "any" would have to carry the highest priority, none is needed.
  ecr_lifecycle_policy = {
    rules = [
      {
        rulePriority = 1
        description  = "Expire untagged images (superseded layers, failed pushes) one day after push"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = 1
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the ${var.ecr_keep_images} most recently pushed tagged images"
        selection = {
          tagStatus      = "tagged"
          tagPatternList = ["*"]
          countType      = "imageCountMoreThan"
          countNumber    = var.ecr_keep_images
        }
        action = { type = "expire" }
      },
    ]
  }
}

resource "aws_ecr_repository" "this" {
  for_each = local.repositories

  name = each.value
  # A tag always means the same image: deploys and rollbacks are reproducible.
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.ecr_force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }
}

resource "aws_ecr_lifecycle_policy" "this" {
  for_each = aws_ecr_repository.this

  repository = each.value.name
  policy     = jsonencode(local.ecr_lifecycle_policy)
}
