# ---- Network ----

output "alb_security_group_id" {
  description = "ID of the load balancer's security group; the tasks' security group admits the target port from it only."
  value       = aws_security_group.this.id
}

# ---- Load balancer ----

output "alb_arn" {
  description = "ARN of the Application Load Balancer."
  value       = aws_lb.this.arn
}

output "alb_arn_suffix" {
  description = "ARN suffix of the load balancer (the LoadBalancer dimension of its CloudWatch metrics and of ALBRequestCountPerTarget scaling)."
  value       = aws_lb.this.arn_suffix
}

output "alb_dns_name" {
  description = "DNS name AWS gives the load balancer."
  value       = aws_lb.this.dns_name
}

output "alb_zone_id" {
  description = "Route 53 hosted zone ID of the load balancer's DNS name, for alias records."
  value       = aws_lb.this.zone_id
}

# ---- Target group ----

output "target_group_arn" {
  description = "ARN of the target group the ECS service registers its tasks' nginx containers in. Known only once a listener forwards to it, so a service created from it never meets a target group without a load balancer."
  value       = aws_lb_target_group.this["primary"].arn

  # CreateService rejects a target group that no listener uses yet; with a domain the HTTPS
  # listener waits for ACM validation, so without this the service could be created first.
  depends_on = [aws_lb_listener.https, aws_lb_listener_rule.plain_http]
}

output "target_group_arn_suffix" {
  description = "ARN suffix of the target group (the TargetGroup dimension of its CloudWatch metrics and of ALBRequestCountPerTarget scaling)."
  value       = aws_lb_target_group.this["primary"].arn_suffix
}

output "alternate_target_group_arn" {
  description = "ARN of the blue/green alternate target group, attached to the test listener; null without blue_green."
  value       = local.blue_green ? aws_lb_target_group.this["alternate"].arn : null

  # Like target_group_arn: CreateService refuses a target group no listener uses yet.
  depends_on = [aws_lb_listener.test, aws_lb_listener_rule.blue_green]
}

output "alternate_target_group_arn_suffix" {
  description = "ARN suffix of the blue/green alternate target group (its TargetGroup dimension: production traffic is in it after every other deployment); null without blue_green."
  value       = local.blue_green ? aws_lb_target_group.this["alternate"].arn_suffix : null
}

# ---- Listeners ----

output "listener_arn" {
  description = "ARN of the listener that forwards to the target group: HTTPS on 443 with a domain, HTTP on 80 without."
  value       = local.https ? one(aws_lb_listener.https[*].arn) : aws_lb_listener.http.arn
}

output "production_listener_rule_arn" {
  description = "ARN of the listener rule whose weights ECS moves to shift production traffic (blue/green); null without blue_green."
  value       = local.blue_green ? aws_lb_listener_rule.blue_green["production"].arn : null
}

output "test_listener_rule_arn" {
  description = "ARN of the test listener's rule, which ECS points at the green tasks during a deployment (blue/green); null without blue_green."
  value       = local.blue_green ? aws_lb_listener_rule.blue_green["test"].arn : null
}

output "test_url" {
  description = "Base URL of the test listener (https://<app name>:<test_port>), which serves the green revision during a blue/green deployment; null without blue_green."
  value       = local.blue_green ? "https://${local.served_names[0]}:${var.blue_green.test_port}" : null
}

# ---- Domain and TLS ----

output "https_enabled" {
  description = "Whether the app is served over HTTPS (a domain is set); false means plain HTTP on the load balancer's DNS name."
  value       = local.https
}

output "app_url" {
  description = "Base URL of the app: https:// and the first served name with a domain, otherwise http:// and the load balancer's DNS name."
  value       = local.https ? "https://${local.served_names[0]}" : "http://${aws_lb.this.dns_name}"
}

output "zone_name_servers" {
  description = "Name servers of the hosted zone when this module creates it (to be set at the registrar before the certificate can validate); empty otherwise."
  value       = flatten(aws_route53_zone.this[*].name_servers)
}
