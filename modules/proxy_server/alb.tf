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

# ---- Target groups ----

locals {
  # The primary group, and with blue/green the second of the pair ("alternate target group",
  # Amazon ECS Developer Guide, "Application Load Balancer resources for blue/green deployments").
  # Neither group is blue or green for good: each deployment registers the new tasks in the idle
  # one, and the production rule's weights move between them, so both are built alike.
  target_group_names = merge(
    { primary = var.names.target_group },
    local.blue_green ? { alternate = var.names.alternate_target_group } : {},
  )
}

resource "aws_lb_target_group" "this" {
  # checkov:skip=CKV_AWS_378: TLS ends at the load balancer; targets are nginx containers in private subnets that only the load balancer's security group may reach, and they speak plain HTTP.
  for_each = local.target_group_names

  name                 = each.value
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
    target_group_arn = aws_lb_target_group.this["primary"].arn
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
    target_group_arn = aws_lb_target_group.this["primary"].arn
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
    target_group_arn = aws_lb_target_group.this["primary"].arn
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

# ---- Blue/green listener rules ----

# ECS moves production traffic by rewriting the weights of one listener rule (productionListenerRule)
# and test traffic by those of another (testListenerRule); a listener's default action is never
# touched. Each rule matches every path ("/*") and forwards to both target groups by weight;
# Terraform creates them (production all on the primary group, test all on the alternate one) and
# leaves the weights to ECS afterwards.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb-resources-for-blue-green.html
locals {
  blue_green_rules = !local.blue_green ? {} : {
    # On the HTTPS listener, after the /admin* rules (10-20; blue/green refuses them anyway).
    production = { listener_arn = local.listener_arn, priority = 100, primary_weight = 100 }
    test       = { listener_arn = aws_lb_listener.test[0].arn, priority = 1, primary_weight = 0 }
  }
}

resource "aws_lb_listener_rule" "blue_green" {
  for_each = local.blue_green_rules

  listener_arn = each.value.listener_arn
  priority     = each.value.priority

  action {
    type = "forward"

    forward {
      target_group {
        arn    = aws_lb_target_group.this["primary"].arn
        weight = each.value.primary_weight
      }

      target_group {
        arn    = aws_lb_target_group.this["alternate"].arn
        weight = 100 - each.value.primary_weight
      }
    }
  }

  condition {
    path_pattern {
      values = ["/*"]
    }
  }

  lifecycle {
    # ECS owns the weights from the first deployment on; a plan must not swing traffic back.
    ignore_changes = [action]
  }
}

# The test listener: a port of its own, open only to test_source_cidrs (the NAT gateways'
# addresses, through which the release's smoke-test task in the private subnets reaches the
# load balancer). A separate port rather than a header-matched rule on 443: a request that
# misses the rule is refused by the security group instead of being served by production, so
# a smoke test can never pass by testing the blue revision, and nobody on the internet can
# reach the green revision before it takes production traffic.
resource "aws_lb_listener" "test" {
  count = local.blue_green ? 1 : 0

  load_balancer_arn = aws_lb.this.arn
  port              = var.blue_green.test_port
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = aws_acm_certificate_validation.this[0].certificate_arn

  # Forward actions only: the same AWS page lists listeners that mix forward with non-forward
  # actions (redirect, fixed-response) among what blue/green does not support. The rule above
  # matches every path, so this default is never reached.
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this["alternate"].arn
  }
}
