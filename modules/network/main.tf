locals {
  # Position of each zone in availability_zones. Every per-zone resource is keyed by zone name,
  # so adding a zone never renumbers the others; names and CIDRs are looked up by position.
  zones = { for index, zone in var.availability_zones : zone => index }

  first_zone = var.availability_zones[0]

  # NAT gateways keyed by zone. "single" keeps its gateway in the first zone, under the same key
  # that "per_az" uses for that zone, so switching single <-> per_az only adds or removes the
  # other zones' gateways: the first gateway and its Elastic IP are never replaced.
  nat_zones = {
    for zone, index in local.zones : zone => index
    if var.nat == "per_az" || (var.nat == "single" && zone == local.first_zone)
  }

  # Private route tables that get a default route: all of them unless nat = "none".
  nat_routes = {
    for zone, index in local.zones : zone => index
    if var.nat != "none"
  }
}

# ---- VPC and subnets ----

resource "aws_vpc" "this" {
  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = {
    Name = var.names.vpc
  }
}

# Takes over the VPC's default security group and removes all of its rules, so nothing that
# falls back to it (by omission) can send or receive traffic.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name = var.names.default_security_group
  }
}

# Takes over the VPC's default network ACL, which every subnet here uses, so its rules are those
# below and drift is put back. It allows everything both ways: security groups (stateful, one
# per tier, each admitting only the tier in front of it) are the filter. A stateless deny of a
# single port would also drop return traffic: the NAT gateways and the load balancer pick their
# source ports from 1024-65535 (VPC User Guide, "Ephemeral ports",
# https://docs.aws.amazon.com/vpc/latest/userguide/nacl-ephemeral-ports.html), so a deny of RDP
# 3389 dropped the replies of every connection that drew that port. Nothing here accepts SSH or
# RDP from the internet anyway: no instance has a public address, and the load balancer and
# the NAT gateways listen on neither port.
resource "aws_default_network_acl" "this" {
  default_network_acl_id = aws_vpc.this.default_network_acl_id
  subnet_ids             = concat([for s in aws_subnet.public : s.id], [for s in aws_subnet.private : s.id])

  ingress {
    rule_no    = 100
    action     = "allow"
    protocol   = "-1"
    cidr_block = "0.0.0.0/0"
    from_port  = 0
    to_port    = 0
  }

  egress {
    rule_no    = 100
    action     = "allow"
    protocol   = "-1"
    cidr_block = "0.0.0.0/0"
    from_port  = 0
    to_port    = 0
  }

  tags = {
    Name = var.names.default_network_acl
  }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name = var.names.internet_gateway
  }
}

resource "aws_subnet" "public" {
  for_each = local.zones

  vpc_id            = aws_vpc.this.id
  availability_zone = each.key
  cidr_block        = var.public_subnet_cidrs[each.value]

  # Only the NAT gateways (Elastic IPs) and the load balancer (managed by AWS) live here; neither
  # needs an automatic public address, and nothing else should get one.
  map_public_ip_on_launch = false

  tags = {
    Name = var.names.public_subnets[each.value]
  }
}

resource "aws_subnet" "private" {
  for_each = local.zones

  vpc_id                  = aws_vpc.this.id
  availability_zone       = each.key
  cidr_block              = var.private_subnet_cidrs[each.value]
  map_public_ip_on_launch = false

  tags = {
    Name = var.names.private_subnets[each.value]
  }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name = var.names.public_route_table
  }
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  for_each = local.zones

  subnet_id      = aws_subnet.public[each.key].id
  route_table_id = aws_route_table.public.id
}

# One private route table per zone whatever the NAT mode, so changing the mode only adds,
# removes or retargets routes and never re-associates subnets.
resource "aws_route_table" "private" {
  for_each = local.zones

  vpc_id = aws_vpc.this.id

  tags = {
    Name = var.names.private_route_tables[each.value]
  }
}

resource "aws_route_table_association" "private" {
  for_each = local.zones

  subnet_id      = aws_subnet.private[each.key].id
  route_table_id = aws_route_table.private[each.key].id
}

# ---- NAT gateways ----

resource "aws_eip" "nat" {
  for_each = local.nat_zones

  domain = "vpc"

  tags = {
    Name = var.names.nat_eips[each.value]
  }

  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  for_each = local.nat_zones

  allocation_id = aws_eip.nat[each.key].id
  subnet_id     = aws_subnet.public[each.key].id

  tags = {
    Name = var.names.nat_gateways[each.value]
  }

  depends_on = [aws_internet_gateway.this]
}

# per_az: each zone leaves through its own gateway (a zone outage stays in that zone).
# single: every zone leaves through the first zone's gateway. none: no default route at all.
resource "aws_route" "private_nat" {
  for_each = local.nat_routes

  route_table_id         = aws_route_table.private[each.key].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[var.nat == "per_az" ? each.key : local.first_zone].id
}
