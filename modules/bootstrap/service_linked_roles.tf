# Service-linked roles the environment's services need before their first use, created here so a
# first apply in a fresh account succeeds: the provider retries ECS CreateCluster while ECS
# creates its role, but not PutClusterCapacityProviders, which fails with "Unable to assume the
# service linked role". An account that already has one adopts it instead: the generated root
# (envs/bootstrap/<env>/main.tf) imports every role the data source below finds (an import block
# may only stand in a root module), so none is created twice.
data "aws_iam_roles" "service_linked" {
  for_each = var.service_linked_roles

  # IAM role names are unique regardless of case ("IAM identifiers": names are not distinguished
  # by case), so an existing role is found whatever case it was written in.
  name_regex  = "(?i)^${each.value}$"
  path_prefix = "/aws-service-role/${each.key}/"
}

resource "aws_iam_service_linked_role" "this" {
  for_each = var.service_linked_roles

  aws_service_name = each.key
}
