# ---- Names ----

variable "names" {
  description = "AWS names of the module's resources, computed by the renderer and used literally. List-valued keys hold one name per availability zone, in the order of availability_zones."
  type = object({
    vpc                     = string
    internet_gateway        = string
    public_subnets          = list(string)
    private_subnets         = list(string)
    nat_gateways            = list(string)
    nat_eips                = list(string)
    public_route_table      = string
    private_route_tables    = list(string)
    flow_log                = string
    flow_log_group          = string
    flow_log_role           = string
    flow_log_policy         = string
    default_security_group  = string
    default_network_acl     = string
    endpoint_security_group = string
    s3_endpoint             = string
  })
  nullable = false

  validation {
    condition = alltrue([
      for names in [
        var.names.public_subnets,
        var.names.private_subnets,
        var.names.nat_gateways,
        var.names.nat_eips,
        var.names.private_route_tables,
      ] : length(names) == length(var.availability_zones)
    ])
    error_message = "names.public_subnets, private_subnets, nat_gateways, nat_eips and private_route_tables must each hold exactly one name per availability zone."
  }

  validation {
    condition     = startswith(var.names.flow_log_group, "/")
    error_message = "names.flow_log_group must be a path-style log group name such as /todo/dev/net/vpc/flowlogs."
  }

  validation {
    condition     = length(var.names.flow_log_role) <= 64
    error_message = "names.flow_log_role must be at most 64 characters (IAM role name limit)."
  }
}

# ---- VPC and subnets ----

variable "cidr_block" {
  description = "IPv4 CIDR block of the VPC, e.g. 10.0.0.0/16."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{1,3}(\\.[0-9]{1,3}){3}/(1[6-9]|2[0-8])$", var.cidr_block)) && can(cidrhost(var.cidr_block, 0))
    error_message = "cidr_block must be an IPv4 CIDR with a prefix length between /16 and /28 (the VPC limits)."
  }
}

variable "availability_zones" {
  description = "Availability zones to spread the subnets over, e.g. [\"ap-northeast-1a\", \"ap-northeast-1c\"]. At least two: the load balancer needs subnets in two zones."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.availability_zones) >= 2 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones must list at least two distinct availability zones."
  }
}

variable "public_subnet_cidrs" {
  description = "IPv4 CIDR of each public subnet, one per availability zone, in the order of availability_zones."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.public_subnet_cidrs) == length(var.availability_zones)
    error_message = "public_subnet_cidrs must hold exactly one CIDR per availability zone."
  }

  validation {
    condition     = alltrue([for cidr in var.public_subnet_cidrs : can(cidrhost(cidr, 0))])
    error_message = "Every public_subnet_cidrs entry must be an IPv4 CIDR such as 10.0.0.0/24."
  }
}

variable "private_subnet_cidrs" {
  description = "IPv4 CIDR of each private subnet, one per availability zone, in the order of availability_zones."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.private_subnet_cidrs) == length(var.availability_zones)
    error_message = "private_subnet_cidrs must hold exactly one CIDR per availability zone."
  }

  validation {
    condition     = alltrue([for cidr in var.private_subnet_cidrs : can(cidrhost(cidr, 0))])
    error_message = "Every private_subnet_cidrs entry must be an IPv4 CIDR such as 10.0.10.0/24."
  }
}

# ---- NAT gateways ----

variable "nat" {
  description = "Outbound internet access of the private subnets: \"none\" (no NAT; use interface_endpoints), \"single\" (one NAT gateway in the first zone, shared) or \"per_az\" (one NAT gateway per zone, highly available)."
  type        = string
  default     = "single"
  nullable    = false

  validation {
    condition     = contains(["none", "single", "per_az"], var.nat)
    error_message = "nat must be one of: none, single, per_az."
  }
}

# ---- Flow logs ----

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts the flow log group. Its key policy must allow the CloudWatch Logs service principal of this region."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:...)."
  }
}

variable "permissions_boundary_arn" {
  description = "ARN of the managed policy every role of this module carries as its permissions boundary (created by the environment's bootstrap, modules/bootstrap); the CI apply role may create roles only with it."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be the ARN of a customer managed IAM policy."
  }
}

variable "flow_log_retention_days" {
  description = "Days to keep VPC flow log records in CloudWatch Logs."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be one of CloudWatch Logs' values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

# ---- VPC endpoints ----

variable "interface_endpoints" {
  description = "Short names of AWS services to reach through interface endpoints in the private subnets (private DNS on), among those of interface_endpoints.yaml, e.g. [\"ecr.api\", \"ecr.dkr\", \"logs\"]. Lets an environment with nat = \"none\" still reach the AWS APIs its tasks call. The S3 gateway endpoint is always created."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    # The allowed names live in interface_endpoints.yaml, which the renderer reads as well.
    condition     = alltrue([for service in var.interface_endpoints : contains(yamldecode(file("${path.module}/interface_endpoints.yaml")), service)])
    error_message = "interface_endpoints entries must be among: ${join(", ", yamldecode(file("${path.module}/interface_endpoints.yaml")))} (modules/network/interface_endpoints.yaml)."
  }

  validation {
    condition     = length(distinct(var.interface_endpoints)) == length(var.interface_endpoints)
    error_message = "interface_endpoints must not repeat a service."
  }
}
