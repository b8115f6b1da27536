# ---- VPC and subnets ----

output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "availability_zones" {
  description = "Availability zones of the subnets, in the order of the subnet ID lists."
  value       = var.availability_zones
}

output "public_subnet_ids" {
  description = "IDs of the public subnets, one per availability zone, in the order of availability_zones."
  value       = [for zone in var.availability_zones : aws_subnet.public[zone].id]
}

output "private_subnet_ids" {
  description = "IDs of the private subnets, one per availability zone, in the order of availability_zones."
  value       = [for zone in var.availability_zones : aws_subnet.private[zone].id]
}

output "private_route_table_ids" {
  description = "IDs of the private route tables, one per availability zone, in the order of availability_zones."
  value       = [for zone in var.availability_zones : aws_route_table.private[zone].id]
}

# ---- NAT gateways ----

output "nat_public_ips" {
  description = "Public IPv4 addresses of the NAT gateways (what outside services see), in zone order; empty when nat = \"none\"."
  value       = [for zone in var.availability_zones : aws_eip.nat[zone].public_ip if contains(keys(aws_eip.nat), zone)]
}
