# ---- Names ----

variable "names" {
  description = "AWS names of the module's resources, computed by the renderer and used literally."
  type = object({
    web_acl   = string # aws_wafv2_web_acl; also the web ACL's metric name
    log_group = string # aws_cloudwatch_log_group of the traffic log; starts with "aws-waf-logs-"
  })
  nullable = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.names.web_acl))
    error_message = "names.web_acl: 1-128 letters, digits, '-' or '_'."
  }

  validation {
    condition     = can(regex("^aws-waf-logs-[A-Za-z0-9._/#-]{1,499}$", var.names.log_group))
    error_message = "names.log_group must start with \"aws-waf-logs-\" (WAF delivers to no other log group)."
  }
}

# ---- Web ACL ----

variable "alb_arn" {
  description = "ARN of the Application Load Balancer the web ACL is associated with."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:loadbalancer/app/.+$", var.alb_arn))
    error_message = "alb_arn must be an Application Load Balancer ARN (arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/...)."
  }
}

variable "rule_actions" {
  description = "Per rule, \"block\" or \"count\": the managed rule groups common (AWSManagedRulesCommonRuleSet), sqli (AWSManagedRulesSQLiRuleSet), ip_reputation (AWSManagedRulesAmazonIpReputationList), and the login rate rule login_rate. count lets matching requests through, counted and logged. AWSManagedRulesKnownBadInputsRuleSet always blocks."
  type = object({
    common        = string
    sqli          = string
    ip_reputation = string
    login_rate    = string
  })
  nullable = false

  validation {
    condition     = alltrue([for action in values(var.rule_actions) : contains(["block", "count"], action)])
    error_message = "rule_actions: each \"block\" or \"count\"."
  }
}

variable "login_rate" {
  description = "Requests one IP address may send to the login pages (/accounts/login/, /admin/login/) per window of `window` seconds before the rule acts."
  type = object({
    limit  = number
    window = number
  })
  nullable = false

  validation {
    # AWS WAF Developer Guide, "Rate-based rule high-level settings".
    condition     = var.login_rate.limit >= 10 && var.login_rate.limit <= 2000000000 && contains([60, 120, 300, 600], var.login_rate.window)
    error_message = "login_rate: limit 10-2,000,000,000; window 60, 120, 300 or 600 seconds."
  }
}

# ---- Logs ----

variable "kms_key_arn" {
  description = "Customer-managed KMS key of the log group. Its policy must let logs.<region>.amazonaws.com use it for this log group (modules/ssm's additional_log_group_prefixes)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the traffic log."
  type        = number
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch Logs' retention periods (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}
