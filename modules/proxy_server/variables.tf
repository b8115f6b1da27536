# ---- Names ----

variable "names" {
  description = "AWS names of the resources this module creates, computed by the renderer and used literally."
  type = object({
    alb            = string # aws_lb, at most 32 characters
    target_group   = string # aws_lb_target_group, at most 32 characters
    security_group = string # aws_security_group
    log_bucket     = string # aws_s3_bucket for the ALB access logs, 3-63 characters, globally unique
    certificate    = string # aws_acm_certificate, used as its Name tag
    # aws_lb_target_group, at most 32 characters; created only with blue_green
    alternate_target_group = string
  })
  nullable = false

  validation {
    condition = alltrue([
      for name in [var.names.alb, var.names.target_group, var.names.alternate_target_group] :
      can(regex("^[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?$", name))
    ])
    error_message = "names.alb, names.target_group and names.alternate_target_group must be 1-32 characters of letters, digits and hyphens, not starting or ending with a hyphen."
  }

  validation {
    condition     = !startswith(lower(var.names.alb), "internal-")
    error_message = "names.alb must not start with \"internal-\" (AWS reserves that prefix)."
  }

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.names.log_bucket))
    error_message = "names.log_bucket must be 3-63 characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit."
  }

  validation {
    condition     = length(var.names.security_group) > 0 && length(var.names.security_group) <= 255 && !startswith(var.names.security_group, "sg-")
    error_message = "names.security_group must be 1-255 characters and must not start with \"sg-\"."
  }
}

# ---- Network ----

variable "vpc_id" {
  description = "ID of the VPC that holds the load balancer and its targets."
  type        = string
  nullable    = false
}

variable "vpc_cidr_block" {
  description = "IPv4 CIDR block of the VPC: the only destination the load balancer may send traffic to (its targets run in the VPC's private subnets)."
  type        = string
  nullable    = false

  validation {
    condition     = can(cidrhost(var.vpc_cidr_block, 0)) && strcontains(var.vpc_cidr_block, ".")
    error_message = "vpc_cidr_block must be an IPv4 CIDR block such as \"10.0.0.0/16\"."
  }
}

variable "public_subnet_ids" {
  description = "IDs of the public subnets the internet-facing load balancer is placed in, one per availability zone (at least two zones)."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.public_subnet_ids) >= 2 && length(distinct(var.public_subnet_ids)) == length(var.public_subnet_ids)
    error_message = "public_subnet_ids must list at least two distinct subnets (an Application Load Balancer needs subnets in two availability zones)."
  }
}

# ---- Load balancer ----

variable "deletion_protection" {
  description = "Whether the load balancer is protected from deletion. Turn off only where environments are torn down routinely (dev)."
  type        = bool
  default     = true
  nullable    = false
}

variable "idle_timeout" {
  description = "Seconds an idle client or target connection stays open on the load balancer. First of the keep-alive chain ALB < nginx (keepalive_timeout) < gunicorn (--keep-alive): it must stay below nginx's keep-alive timeout so that the load balancer never reuses a connection nginx has closed."
  type        = number
  default     = 60
  nullable    = false

  validation {
    condition     = var.idle_timeout >= 1 && var.idle_timeout <= 4000 && floor(var.idle_timeout) == var.idle_timeout
    error_message = "idle_timeout must be a whole number of seconds from 1 to 4000."
  }
}

variable "admin_allowed_cidrs" {
  description = "IPv4 networks (CIDR) whose clients may reach /admin*; the load balancer answers everyone else 403. Empty (the default): /admin* is open to all, as every other path, behind Django's login. The client's address is the one that connects to the load balancer (a proxy's or VPN's egress address), never X-Forwarded-For. At most 20: a listener rule's conditions hold 5 values, the path one and 4 networks, and the networks are spread over up to 5 rules."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition = alltrue([
      for c in var.admin_allowed_cidrs : try(cidrsubnet(c, 0, 0) == c, false) && strcontains(c, ".") && !endswith(c, "/0")
    ]) && length(distinct(var.admin_allowed_cidrs)) == length(var.admin_allowed_cidrs) && length(var.admin_allowed_cidrs) <= 20
    error_message = "admin_allowed_cidrs: at most 20 distinct IPv4 networks such as \"203.0.113.0/24\" (no host bits set, not 0.0.0.0/0)."
  }
}

# ---- Target group ----

variable "target_port" {
  description = "Port the targets (the nginx proxy container of each task) listen on for HTTP from the load balancer."
  type        = number
  default     = 8080
  nullable    = false

  validation {
    condition     = var.target_port >= 1 && var.target_port <= 65535 && floor(var.target_port) == var.target_port
    error_message = "target_port must be a whole number from 1 to 65535."
  }
}

variable "health_check_path" {
  description = "Path of the app's cheap liveness endpoint, polled by the load balancer; it must answer 200 without touching the database or the cache."
  type        = string
  default     = "/healthz"
  nullable    = false

  validation {
    condition     = startswith(var.health_check_path, "/") && length(var.health_check_path) <= 1024
    error_message = "health_check_path must start with \"/\" and be at most 1024 characters."
  }
}

variable "deregistration_delay" {
  description = "Seconds the load balancer keeps draining in-flight requests of a target being removed (for example during a deployment) before it stops sending to it."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.deregistration_delay >= 0 && var.deregistration_delay <= 3600 && floor(var.deregistration_delay) == var.deregistration_delay
    error_message = "deregistration_delay must be a whole number of seconds from 0 to 3600."
  }
}

# ---- Blue/green ----

variable "blue_green" {
  description = "ECS-native blue/green deployments: an alternate target group, a production listener rule on the HTTPS listener and an HTTPS test listener on test_port that only test_source_cidrs (the NAT gateways' addresses, whence the smoke test comes) may reach. null: rolling deployments, none of these. Needs a domain (the test listener serves the certificate) and no admin_allowed_cidrs (ECS moves one production rule; the /admin* rules would keep forwarding to one group)."
  type = object({
    test_port         = optional(number, 8443)
    test_source_cidrs = list(string)
  })
  default = null

  validation {
    condition = var.blue_green == null ? true : (
      var.blue_green.test_port >= 1024 && var.blue_green.test_port <= 65535 && floor(var.blue_green.test_port) == var.blue_green.test_port &&
      length(var.blue_green.test_source_cidrs) > 0 &&
      alltrue([for c in var.blue_green.test_source_cidrs : try(cidrsubnet(c, 0, 0) == c, false) && strcontains(c, ".") && !endswith(c, "/0")])
    )
    error_message = "blue_green: test_port a whole number from 1024 to 65535; test_source_cidrs at least one IPv4 network such as \"203.0.113.7/32\" (not 0.0.0.0/0)."
  }

  validation {
    condition     = var.blue_green == null || (var.domain != null && length(var.admin_allowed_cidrs) == 0)
    error_message = "blue_green needs a domain (the test listener is HTTPS) and an empty admin_allowed_cidrs (ECS moves only the production rule's weights; the /admin* rules would keep forwarding to one target group)."
  }
}

# ---- Domain and TLS ----

variable "domain" {
  description = <<-EOT
    Public domain served over HTTPS: the Route 53 hosted zone (looked up, or created when
    create_zone is true) and the fully qualified names served (the first one is the app's URL;
    a wildcard such as "*.example.com" may follow). One ACM certificate covers all names.
    null: no certificate and no DNS records; the load balancer serves plain HTTP on port 80
    under its own DNS name (for environments without a domain).
  EOT
  type = object({
    zone_name   = string
    create_zone = optional(bool, false)
    names       = list(string)
  })
  default = null

  validation {
    condition = var.domain == null ? true : (
      length(var.domain.names) > 0 &&
      length(distinct(var.domain.names)) == length(var.domain.names) &&
      !startswith(var.domain.names[0], "*.") &&
      alltrue([
        for name in var.domain.names :
        name == lower(name) && (name == var.domain.zone_name || endswith(name, ".${var.domain.zone_name}"))
      ])
    )
    error_message = "domain.names must be a non-empty list of distinct lowercase names inside domain.zone_name, and the first (the app's URL) must not be a wildcard."
  }

  validation {
    condition     = var.domain == null ? true : can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$", var.domain.zone_name))
    error_message = "domain.zone_name must be a lowercase domain name without a trailing dot, such as \"example.com\"."
  }
}

variable "ssl_policy" {
  description = "TLS security policy of the HTTPS listener. Only TLS 1.3 policies with a minimum of TLS 1.2 are allowed."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  nullable    = false

  validation {
    condition     = can(regex("^ELBSecurityPolicy-TLS13-1-[23]-", var.ssl_policy))
    error_message = "ssl_policy must be a TLS 1.3 policy with a TLS 1.2 or 1.3 minimum, such as \"ELBSecurityPolicy-TLS13-1-2-2021-06\" or \"ELBSecurityPolicy-TLS13-1-3-2021-06\"."
  }
}

# ---- Access logs ----

variable "log_expiration_days" {
  description = "Days the load balancer's access logs are kept in the log bucket."
  type        = number
  default     = 90
  nullable    = false

  validation {
    condition     = var.log_expiration_days >= 1 && floor(var.log_expiration_days) == var.log_expiration_days
    error_message = "log_expiration_days must be a whole number of days, at least 1."
  }
}

variable "log_bucket_force_destroy" {
  description = "Whether destroying the module also deletes the access logs still in the log bucket. Turn on only for throw-away environments."
  type        = bool
  default     = false
  nullable    = false
}
