# ---- VPC endpoints ----

# Gateway endpoints cost nothing. S3 traffic from the private subnets (including the image layers
# that ECR serves from S3) stays off the NAT gateways. The default endpoint policy is kept: the
# image-layer buckets belong to AWS, so a tighter bucket list would break image pulls.
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [for zone in var.availability_zones : aws_route_table.private[zone].id]

  tags = {
    Name = var.names.s3_endpoint
  }
}

resource "aws_security_group" "endpoints" {
  name        = var.names.endpoint_security_group
  description = "Interface VPC endpoints: HTTPS from inside the VPC only"
  vpc_id      = aws_vpc.this.id

  tags = {
    Name = var.names.endpoint_security_group
  }
}

# No egress rule: endpoints only answer connections, and security groups are stateful.
resource "aws_vpc_security_group_ingress_rule" "endpoints_https" {
  security_group_id = aws_security_group.endpoints.id
  description       = "HTTPS from resources in the VPC to AWS service endpoints"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = aws_vpc.this.cidr_block
}

resource "aws_vpc_endpoint" "interface" {
  for_each = toset(var.interface_endpoints)

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${data.aws_region.current.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = [for zone in var.availability_zones : aws_subnet.private[zone].id]
  security_group_ids  = [aws_security_group.endpoints.id]
  private_dns_enabled = true
}
