locals {
  # With a domain the load balancer terminates TLS on 443 and port 80 only redirects;
  # without one (an environment documented as HTTP-only) port 80 serves the app.
  https = var.domain != null

  # Every name the certificate covers and Route 53 serves; the first is the app's URL.
  served_names = local.https ? var.domain.names : []

  # ECS-native blue/green deployments (null: rolling): a second target group, a production
  # listener rule and a test listener whose weights ECS moves.
  blue_green = var.blue_green != null
}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

# ---- Network ----

resource "aws_security_group" "this" {
  name        = var.names.security_group
  description = "Internet-facing load balancer: HTTP/HTTPS from anywhere, HTTP to the tasks in the VPC only"
  vpc_id      = var.vpc_id

  tags = {
    Name = var.names.security_group
  }
}

resource "aws_vpc_security_group_ingress_rule" "https" {
  # Public web entry point: the load balancer is the only resource open to the internet.
  count = local.https ? 1 : 0

  security_group_id = aws_security_group.this.id
  description       = "HTTPS from the internet"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "http" {
  # checkov:skip=CKV_AWS_260: Port 80 of the internet-facing load balancer must be reachable from anywhere; with a domain it only answers with a redirect to HTTPS.
  security_group_id = aws_security_group.this.id
  description       = local.https ? "HTTP from the internet, redirected to HTTPS" : "HTTP from the internet (environment without a domain)"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

# Blue/green only: the test listener, from the networks that run the smoke test and no others.
resource "aws_vpc_security_group_ingress_rule" "test" {
  count = local.blue_green ? length(var.blue_green.test_source_cidrs) : 0

  security_group_id = aws_security_group.this.id
  description       = "Blue/green test listener: the green revision before it takes production traffic"
  ip_protocol       = "tcp"
  from_port         = var.blue_green.test_port
  to_port           = var.blue_green.test_port
  cidr_ipv4         = var.blue_green.test_source_cidrs[count.index]
}

resource "aws_vpc_security_group_egress_rule" "targets" {
  security_group_id = aws_security_group.this.id
  description       = "HTTP to the targets (nginx in the tasks) inside the VPC"
  ip_protocol       = "tcp"
  from_port         = var.target_port
  to_port           = var.target_port
  cidr_ipv4         = var.vpc_cidr_block
}

# ---- Access logs ----

# Elastic Load Balancing's account in this region; regions opened before August 2022
# (ap-northeast-1 among them) deliver access logs as this account.
data "aws_elb_service_account" "current" {}

data "aws_iam_policy_document" "log_delivery" {
  statement {
    sid    = "AllowElbAccountLogDelivery"
    effect = "Allow"

    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.current.arn]
    }

    actions   = ["s3:PutObject"]
    resources = ["${local.log_bucket_arn}/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]
  }

  # Regions opened in or after August 2022 deliver as this service principal instead.
  statement {
    sid    = "AllowElbServiceLogDelivery"
    effect = "Allow"

    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }

    actions   = ["s3:PutObject"]
    resources = ["${local.log_bucket_arn}/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]
  }
}

locals {
  # Built from the literal bucket name, so the policy does not depend on the bucket module.
  log_bucket_arn = "arn:${data.aws_partition.current.partition}:s3:::${var.names.log_bucket}"
}

#trivy:ignore:AVD-AWS-0089 This bucket receives the load balancer's access logs; its own access logs would need a second log bucket, which would need a third.
module "log_bucket" {
  source = "../s3_bucket"

  name = var.names.log_bucket
  # Load balancer access logs are only delivered to buckets encrypted with SSE-S3 (AES256);
  # AWS rejects SSE-KMS for them, so this bucket cannot use the customer-managed key.
  kms_key_arn                = null
  force_destroy              = var.log_bucket_force_destroy
  expiration_days            = var.log_expiration_days
  noncurrent_expiration_days = 7 # log objects are never overwritten; only expiry leaves old versions
  policy_documents           = [data.aws_iam_policy_document.log_delivery.json]
}
