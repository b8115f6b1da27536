# ---- Container registry ----

locals {
  repositories = {
    app   = var.names.app_repository
    proxy = var.names.proxy_repository
  }

  # The release program (deploy/images.py) tags the images it deploys, and the ones they
  # replaced (a rollback's target), "deployed-<commit>", and removes that tag from any other
  # image, so at most a few images carry it. Rules apply by ascending rulePriority, and "an image
  # that matches the tagging requirements of a rule cannot be expired by a rule with a lower
  # priority" (ECR User Guide, "Lifecycle policies"): rule 1 selects the marked images, so the
  # count of rule 3 (builds nobody released, pushed later) never reaches the running image or
  # the one a rollback needs. Rule 1 keeps more than the two the program leaves, for marks a
  # killed release left behind; it sorts by push time, which is why the program must not let
  # marks pile up (an older commit deployed again would be the first to go).
  deployed_tag_prefix  = "deployed-"
  deployed_images_kept = 5
  ecr_lifecycle_policy = {
    rules = [
      {
        rulePriority = 1
        description  = "Keep the released images (the running one and the previous one), tagged ${local.deployed_tag_prefix}<commit> by the release"
        selection = {
          tagStatus     = "tagged"
          tagPrefixList = [local.deployed_tag_prefix]
          countType     = "imageCountMoreThan"
          countNumber   = local.deployed_images_kept
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
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
        rulePriority = 3
        description  = "Keep the ${var.ecr_keep_images} most recently pushed other tagged images"
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
