# ---- Security group ----

locals {
  postgres_port = 5432
  redis_port    = 6379
}

resource "aws_security_group" "this" {
  name        = var.names.security_group
  description = "ECS tasks of the web service and its batch jobs"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "proxy_from_alb" {
  security_group_id            = aws_security_group.this.id
  description                  = "HTTP from the ALB to the nginx proxy"
  referenced_security_group_id = var.alb_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = var.proxy_port
  to_port                      = var.proxy_port
}

# The tasks reach ECR, SSM, Secrets Manager, CloudWatch Logs and the ECS Exec channel through
# the NAT gateway: public AWS endpoints on HTTPS only, whose addresses are not fixed.
#trivy:ignore:AVD-AWS-0104 HTTPS only, to AWS public endpoints through NAT, whose addresses are not fixed; with network.nat none there is no route out of the VPC.
resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS to AWS APIs (ECR, SSM, Secrets Manager, Logs, ECS Exec) through NAT"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "postgres" {
  security_group_id = aws_security_group.this.id
  description       = "PostgreSQL inside the VPC"
  cidr_ipv4         = var.vpc_cidr_block
  ip_protocol       = "tcp"
  from_port         = local.postgres_port
  to_port           = local.postgres_port
}

resource "aws_vpc_security_group_egress_rule" "redis" {
  security_group_id = aws_security_group.this.id
  description       = "Redis / Valkey inside the VPC"
  cidr_ipv4         = var.vpc_cidr_block
  ip_protocol       = "tcp"
  from_port         = local.redis_port
  to_port           = local.redis_port
}

# Blue/green only: the smoke test of a release runs as a task in the private subnets and reaches
# the load balancer's test listener through the NAT gateways (deploy/smoke.py).
#trivy:ignore:AVD-AWS-0104 one port, the test listener of this environment's own public load balancer, whose addresses are not fixed; its listener admits only the NAT gateways.
resource "aws_vpc_security_group_egress_rule" "test_listener" {
  count = local.blue_green ? 1 : 0

  security_group_id = aws_security_group.this.id
  description       = "The load balancer's blue/green test listener, through NAT"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = var.blue_green.test_port
  to_port           = var.blue_green.test_port
}
