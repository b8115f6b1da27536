# ---- Load balancer ----

#trivy:ignore:AVD-AWS-0053 The web app's load balancer is meant for the internet; the WAF, TLS 1.3 and its security group (80 and 443 only) guard it.
resource "aws_lb" "this" {
  # checkov:skip=CKV_AWS_150: Deletion protection is an environment setting (proxy.deletion_protection): on in prod, off in dev and stg, whose `terraform destroy` must be able to remove them; checkov scanning the dev root sees the off value.
  # checkov:skip=CKV2_AWS_28: The root associates the web ACL of modules/waf with this load balancer (aws_wafv2_web_acl_association on its alb_arn output) while waf.enabled, as it is in every environment by default; checkov cannot follow a module output across modules, so it sees no association here.
  name               = var.names.alb
  load_balancer_type = "application"
  internal           = false
  ip_address_type    = "ipv4"
  security_groups    = [aws_security_group.this.id]
  subnets            = var.public_subnet_ids

  idle_timeout               = var.idle_timeout
  enable_deletion_protection = var.deletion_protection
  enable_http2               = true

  # Request smuggling defences: drop headers that are not valid HTTP, and let only
  # RFC 7230-compliant requests through ("strictest"); browsers send nothing else.
  drop_invalid_header_fields = true
  desync_mitigation_mode     = "strictest"

  access_logs {
    enabled = true
    bucket  = module.log_bucket.id
  }

  # The load balancer checks on creation that it may write to the bucket.
  depends_on = [module.log_bucket]
}

# ---- Target group ----

resource "aws_lb_target_group" "this" {
  # checkov:skip=CKV_AWS_378: TLS ends at the load balancer; targets are nginx containers in private subnets that only the load balancer's security group may reach, and they speak plain HTTP.
  name                 = var.names.target_group
  target_type          = "ip" # Fargate tasks (awsvpc networking) register by IP address
  protocol             = "HTTP"
  port                 = var.target_port
  vpc_id               = var.vpc_id
  deregistration_delay = var.deregistration_delay

  health_check {
    enabled             = true
    protocol            = "HTTP"
    port                = "traffic-port"
    path                = var.health_check_path
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

# ---- Listeners ----

resource "aws_lb_listener" "https" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  # The validated ARN: the listener waits until ACM has issued the certificate.
  certificate_arn = aws_acm_certificate_validation.this[0].certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }
}

# Port 80 only ever redirects to HTTPS. The listener is the same in both modes, so adding or
# removing the domain never replaces it (two listeners on one port cannot coexist).
resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      protocol    = "HTTPS"
      port        = "443"
      status_code = "HTTP_301"
    }
  }
}

# Only in an environment whose YAML opts into plain HTTP (proxy.allow_plain_http; the renderer
# refuses a missing domain otherwise): every request on port 80 is forwarded instead of
# redirected. Rules are evaluated before the default action.
resource "aws_lb_listener_rule" "plain_http" {
  count = local.https ? 0 : 1

  listener_arn = aws_lb_listener.http.arn
  # After the /admin* rules below (lower numbers are evaluated first).
  priority = 100

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }

  condition {
    path_pattern {
      values = ["/*"]
    }
  }
}

# ---- Admin allow-list ----

# With var.admin_allowed_cidrs set, /admin* is forwarded only for clients whose source address is
# in one of the networks, and answered 403 by the load balancer for everyone else. A source-ip
# condition is met when the address is in any of its CIDRs and never looks at X-Forwarded-For;
# a rule's conditions hold at most 5 values in all ("Quotas for your Application Load
# Balancers", condition values per rule), so the path takes one and each rule 4 networks.
# Empty list: no rule, /admin* goes wherever every other path goes.
locals {
  listener_arn      = local.https ? one(aws_lb_listener.https[*].arn) : aws_lb_listener.http.arn
  admin_path        = "/admin*"
  admin_cidr_chunks = chunklist(var.admin_allowed_cidrs, 4)
}

resource "aws_lb_listener_rule" "admin_allowed" {
  count = length(local.admin_cidr_chunks)

  listener_arn = local.listener_arn
  priority     = 10 + count.index

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }

  condition {
    path_pattern {
      values = [local.admin_path]
    }
  }

  condition {
    source_ip {
      values = local.admin_cidr_chunks[count.index]
    }
  }
}

resource "aws_lb_listener_rule" "admin_denied" {
  count = length(var.admin_allowed_cidrs) > 0 ? 1 : 0

  listener_arn = local.listener_arn
  priority     = 20

  action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      message_body = "Forbidden"
      status_code  = "403"
    }
  }

  condition {
    path_pattern {
      values = [local.admin_path]
    }
  }
}
