# ---- Web ACL ----

output "web_acl_arn" {
  description = "ARN of the web ACL."
  value       = aws_wafv2_web_acl.this.arn
}

output "web_acl_name" {
  description = "Name of the web ACL: the WebACL dimension of its CloudWatch metrics (AWS/WAFV2)."
  value       = aws_wafv2_web_acl.this.name
}

output "login_rate_metric_name" {
  description = "Metric name of the login rate rule: the Rule dimension of its CloudWatch metrics."
  value       = local.login_rate_rule
}

# ---- Logs ----

output "log_group_name" {
  description = "Log group of the web ACL's traffic log (one JSON record per evaluated request)."
  value       = aws_cloudwatch_log_group.this.name
}
