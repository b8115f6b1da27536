# ---- Smoke-test lifecycle hook (blue/green only) ----
#
# ECS invokes this function at the POST_TEST_TRAFFIC_SHIFT stage of every deployment of the
# service (a release's, an apply's, a rollback's): the test listener then serves the new revision
# while production traffic stays on the old one, and ECS moves production traffic only when the
# function answers SUCCEEDED; FAILED (or no answer) rolls the deployment back.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-lifecycle-hooks.html
# The code is deploy/smoke_hook.py, zipped by render.py into the root (blue_green.smoke_hook_package).

# -- The function's network: the private subnets, out through the NAT gateways (the only
# addresses the test listener admits), to the test listener's port and nowhere else. Its logs go
# through the Lambda service, not its network interface, and it calls no AWS API.

resource "aws_security_group" "smoke_hook" {
  count = local.blue_green ? 1 : 0

  name        = var.names.smoke_hook_security_group
  description = "The blue/green smoke-test hook: out to the load balancer's test listener only"
  vpc_id      = var.vpc_id
}

#trivy:ignore:AVD-AWS-0104 one port, the test listener of this environment's own public load balancer, whose addresses are not fixed; its listener admits only the NAT gateways.
resource "aws_vpc_security_group_egress_rule" "smoke_hook_test_listener" {
  count = local.blue_green ? 1 : 0

  security_group_id = aws_security_group.smoke_hook[0].id
  description       = "The load balancer's blue/green test listener, through NAT"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = var.blue_green.test_port
  to_port           = var.blue_green.test_port
}

# -- Execution role: the function's own logs, the network interfaces of a function in a VPC, and
# its X-Ray traces. The trust policy is Lambda's, as the Lambda guide gives it.
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    sid     = "LambdaAssume"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "smoke_hook" {
  count = local.blue_green ? 1 : 0

  name                 = var.names.smoke_hook_role
  description          = "Blue/green smoke-test hook (Lambda): write its log group, attach to the private subnets"
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume.json
  permissions_boundary = var.permissions_boundary_arn
}

data "aws_iam_policy_document" "smoke_hook" {
  count = local.blue_green ? 1 : 0

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this["smoke_hook"].arn}:*"]
  }

  # A function in a VPC: Lambda creates and removes its network interfaces with these, the
  # actions of the AWSLambdaVPCAccessExecutionRole managed policy. Those that change an interface
  # stay in this account and region (the Lambda guide's form for DeleteNetworkInterface).
  # https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html
  statement {
    sid = "VpcNetworkInterfaces"
    actions = [
      "ec2:AssignPrivateIpAddresses",
      "ec2:CreateNetworkInterface",
      "ec2:DeleteNetworkInterface",
      "ec2:UnassignPrivateIpAddresses",
    ]
    resources = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:*/*"]
  }

  statement {
    sid = "VpcDescribe"
    # Describe actions support no resource-level permissions: "*" is required (same page).
    actions   = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
    resources = ["*"]
  }

  # Active tracing: the function sends its segments itself; X-Ray's write actions support no
  # resource-level permissions.
  # https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html
  statement {
    sid       = "XRayTraces"
    actions   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "smoke_hook" {
  count = local.blue_green ? 1 : 0

  name   = var.names.smoke_hook_policy
  role   = aws_iam_role.smoke_hook[0].id
  policy = data.aws_iam_policy_document.smoke_hook[0].json
}

# -- The function.

resource "aws_lambda_function" "smoke_hook" {
  count = local.blue_green ? 1 : 0
  # checkov:skip=CKV_AWS_115: A reservation needs 100 unreserved concurrent executions left in the account (PutFunctionConcurrency, Lambda API reference), which a new account's quota does not have: the apply would fail there. ECS invokes the function once per deployment.
  # checkov:skip=CKV_AWS_116: ECS invokes the function synchronously and reads its answer; a dead-letter queue only receives failed asynchronous invocations.
  # checkov:skip=CKV_AWS_272: The package is built by render.py from deploy/smoke_hook.py in this repository and pinned by source_code_hash; there is no signing profile to sign it with.
  # checkov:skip=CKV_AWS_173: Its one environment variable is the test listener's public URL, no secret; Lambda encrypts it at rest with an AWS owned key.

  function_name = var.names.smoke_hook_function
  description   = "Blue/green lifecycle hook: smoke-tests the new revision through the test listener before production traffic moves"
  role          = aws_iam_role.smoke_hook[0].arn
  runtime       = "python3.13"
  handler       = "smoke_hook.handler"
  architectures = ["arm64"]
  memory_size   = 128
  # Longer than the handler's own wait, which it bounds by the time Lambda leaves it, so it always
  # answers (deploy/smoke_hook.py, FUNCTION_TIMEOUT_SECONDS).
  timeout          = var.blue_green.smoke_hook_timeout
  filename         = var.blue_green.smoke_hook_package
  source_code_hash = filebase64sha256(var.blue_green.smoke_hook_package)

  environment {
    variables = {
      SMOKE_TEST_URL = var.blue_green.test_url
    }
  }

  vpc_config {
    subnet_ids         = var.private_subnet_ids
    security_group_ids = [aws_security_group.smoke_hook[0].id]
  }

  # Its own log group (logs.tf: the environment's retention, the KMS key), not Lambda's default one.
  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this["smoke_hook"].name
  }

  tracing_config {
    mode = "Active"
  }

  # The execution role's permissions must be in place before Lambda creates the network interfaces.
  depends_on = [aws_iam_role_policy.smoke_hook]
}

# -- The role ECS invokes the function as: lambda:InvokeFunction on this function only. Trust
# policy as the ECS guide gives it, ecs.amazonaws.com without a condition (see the
# infrastructure role in iam.tf for why no aws:SourceAccount).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-permissions.html

resource "aws_iam_role" "hook_invoke" {
  count = local.blue_green ? 1 : 0

  name                 = var.names.hook_invoke_role
  description          = "ECS blue/green deployments: invoke the smoke-test lifecycle hook"
  assume_role_policy   = data.aws_iam_policy_document.ecs_infrastructure_assume.json
  permissions_boundary = var.permissions_boundary_arn
}

data "aws_iam_policy_document" "hook_invoke" {
  count = local.blue_green ? 1 : 0

  statement {
    sid       = "InvokeSmokeHook"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.smoke_hook[0].arn]
  }
}

resource "aws_iam_role_policy" "hook_invoke" {
  count = local.blue_green ? 1 : 0

  name   = var.names.hook_invoke_policy
  role   = aws_iam_role.hook_invoke[0].id
  policy = data.aws_iam_policy_document.hook_invoke[0].json
}
