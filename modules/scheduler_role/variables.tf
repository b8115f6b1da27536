# ---- Names ----

variable "role_name" {
  description = "Name of the role (the renderer's literal)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "role_name: 1-64 letters, digits or '+=,.@_-'."
  }
}

variable "policy_name" {
  description = "Name of the role's inline policy (the renderer's literal)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,128}$", var.policy_name))
    error_message = "policy_name: 1-128 letters, digits or '+=,.@_-'."
  }
}

variable "schedule_group_name" {
  description = "The schedule group whose schedules alone may assume the role (aws:SourceArn)."
  type        = string
  nullable    = false
}

# ---- Rights ----

variable "description" {
  description = "What the schedules do with the role, for the console."
  type        = string
  nullable    = false
}

variable "policy_json" {
  description = "The role's inline policy: exactly what the group's schedules call."
  type        = string
  nullable    = false
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary attached to the role (modules/bootstrap's role boundary)."
  type        = string
  nullable    = false
}
