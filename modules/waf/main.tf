data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  # Managed rule groups by rule key (var.rule_actions), in evaluation order (KnownBadInputs, always
  # blocking, is written out below). The IP reputation list
  # is first: it is the cheapest to evaluate and drops known-bad sources before the rest inspect
  # bodies. Each costs WCU from the ACL's 5,000 (AWS WAF Developer Guide, "AWS Managed Rules
  # rule groups list"): 25 + 700 + 200 + 200, far below it.
  managed_rule_groups = {
    ip_reputation = { priority = 10, name = "AWSManagedRulesAmazonIpReputationList" }
    common        = { priority = 20, name = "AWSManagedRulesCommonRuleSet" }
    sqli          = { priority = 40, name = "AWSManagedRulesSQLiRuleSet" }
  }

  # The Django login pages: the app's (/accounts/login/, app/todo/auth_urls.py under
  # app/config/urls.py) and the admin's (/admin/login/).
  login_paths = ["/accounts/login/", "/admin/login/"]
  # Also its metric name: the Rule dimension of its CloudWatch metrics (output login_rate_metric_name).
  login_rate_rule = "login-rate"
}

# ---- Web ACL ----

resource "aws_wafv2_web_acl" "this" {
  name        = var.names.web_acl
  description = "In front of the load balancer: AWS managed rules and a rate limit on the login pages."
  # REGIONAL: the scope of a web ACL for an Application Load Balancer (CLOUDFRONT is us-east-1 only).
  scope = "REGIONAL"

  # Whatever no rule blocks is allowed: the managed groups and the rate rule decide what is not.
  default_action {
    allow {}
  }

  dynamic "rule" {
    for_each = local.managed_rule_groups

    content {
      name     = rule.value.name
      priority = rule.value.priority

      # A managed rule group has no action of its own: `none` keeps the group's (block), `count`
      # overrides every rule in it to count.
      override_action {
        dynamic "none" {
          for_each = var.rule_actions[rule.key] == "block" ? [1] : []
          content {}
        }
        dynamic "count" {
          for_each = var.rule_actions[rule.key] == "count" ? [1] : []
          content {}
        }
      }

      statement {
        managed_rule_group_statement {
          vendor_name = "AWS"
          name        = rule.value.name

          # SizeRestrictions_BODY blocks bodies over 8 KB. The notes of a TODO may hold 2,000
          # characters, and the form posts them URL-encoded: 2,000 Japanese characters are
          # 2,000 x 3 UTF-8 bytes x 3 ("%E3%81%82") = 18 KB. Only counted: Django bounds every
          # field itself (max_length, DATA_UPLOAD_MAX_MEMORY_SIZE).
          dynamic "rule_action_override" {
            for_each = rule.key == "common" ? ["SizeRestrictions_BODY"] : []

            content {
              name = rule_action_override.value
              action_to_use {
                count {}
              }
            }
          }
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = rule.value.name
        sampled_requests_enabled   = true
      }
    }
  }

  # Always blocks, whatever var.rule_actions says: its rules match exploit payloads only (Log4Shell
  # CVE-2021-44228, Java deserialization, requests for exploitable paths), never a real user's
  # request, so counting them would only let attacks through (checkov CKV_AWS_192).
  rule {
    name     = "AWSManagedRulesKnownBadInputsRuleSet"
    priority = 30

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesKnownBadInputsRuleSet"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "AWSManagedRulesKnownBadInputsRuleSet"
      sampled_requests_enabled   = true
    }
  }

  # Complements the app's per-account lockout (django-axes): this one limits one source address,
  # whichever accounts it tries, before its requests reach a task.
  rule {
    name     = local.login_rate_rule
    priority = 50

    action {
      dynamic "block" {
        for_each = var.rule_actions.login_rate == "block" ? [1] : []
        content {}
      }
      dynamic "count" {
        for_each = var.rule_actions.login_rate == "count" ? [1] : []
        content {}
      }
    }

    statement {
      rate_based_statement {
        limit                 = var.login_rate.limit
        evaluation_window_sec = var.login_rate.window
        # The client's own address: the load balancer is the first hop, so WAF sees it directly.
        aggregate_key_type = "IP"

        scope_down_statement {
          or_statement {
            dynamic "statement" {
              for_each = local.login_paths

              content {
                byte_match_statement {
                  search_string         = statement.value
                  positional_constraint = "STARTS_WITH"

                  field_to_match {
                    uri_path {}
                  }

                  text_transformation {
                    priority = 0
                    type     = "LOWERCASE"
                  }
                }
              }
            }
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = local.login_rate_rule
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = var.names.web_acl
    sampled_requests_enabled   = true
  }
}

# ---- Association ----

# Every request the load balancer receives is evaluated by the web ACL associated with it; a
# load balancer has at most one (AWS WAF Developer Guide, "Associating or disassociating a web
# ACL with an AWS resource").
resource "aws_wafv2_web_acl_association" "this" {
  resource_arn = var.alb_arn
  web_acl_arn  = aws_wafv2_web_acl.this.arn
}
