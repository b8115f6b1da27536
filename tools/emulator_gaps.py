"""Every difference between the AWS API emulator (moto, pinned) and AWS that a local apply meets.

One declared list, like the plan shims of tools/tfwork.py, each entry with its reason. None of
these is a defect of the project: each is something moto lacks or does differently from AWS.
- SHIMS change the throwaway copy before Terraform runs (the committed roots are never touched);
  a shim matching nothing is reported as stale.
- SERVER_PATCHES replace a method of moto inside the emulator's own process
  (tools/emulator_server.py); a patch whose target is gone is reported as stale.
- STAND_INS replace a resource moto cannot create by a `terraform_data` resource exposing the
  attributes the rest of the configuration reads; every run prints them.
- SETUP steps run against the emulator before `terraform apply`, TEARDOWN steps before
  `terraform destroy`.
- KNOWN_DIFFS: what the second plan after an apply shows only because moto does not store or
  return an attribute as AWS does. tests/test_apply_local.py fails on any other diff, and on
  a known diff that no longer appears (stale).
- TRANSIENT: failures seen only under heavy load, for which the CI test runs once more.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tfwork import EMULATOR, Shim

# ---- not emulated at all ------------------------------------------------------------------

# What a local run cannot show, and where it is tested instead.
NOT_EMULATED: tuple[tuple[str, str], ...] = (
    ("ECS blue/green deployments (stg, prod)",
     "the 5.x provider shims drop aws_ecs_service's deployment_configuration and "
     "load_balancer.advanced_configuration (tools/tfwork.py), and moto 5.2.5 keeps no "
     "deploymentConfiguration and has no service deployments (ListServiceDeployments, "
     "DescribeServiceDeployments, StopServiceDeployment): a local service deploys ROLLING and "
     "`make release-local` releases it so. The release program's blue/green path runs in "
     "tests/deploy/test_bluegreen.py against a declared stand-in (tests/deploy/bluegreen_double.py)."),
    ("The smoke-test lifecycle hook's invocation (stg, prod)",
     "its Lambda function, roles, security group and log group are created in the emulator, but the "
     "shim above drops the service's lifecycle_hook with deployment_configuration, and moto runs a "
     "function's code only in Docker, which a local apply does not use: the handler is tested against "
     "a local HTTP server in tests/deploy/test_smoke_hook.py."),
)


# ---- shims ------------------------------------------------------------------------------

SHIMS: tuple[Shim, ...] = (
    Shim(
        name="codebuild-pipeline-source-location",
        files="modules/codepipeline/main.tf",
        pattern=r'(^([ \t]*)type(\s*)= "CODEPIPELINE"\n)',
        replacement=r'\1\2location\3= "codepipeline"\n',
        when=EMULATOR,
        reason="moto's CodeBuild CreateProject demands a source and an artifacts location, which "
               "AWS does not for CODEPIPELINE ones (the pipeline hands the build its artifacts)",
    ),
    Shim(
        name="allow-destroy-state-key",
        files="modules/bootstrap/main.tf",
        pattern=r"prevent_destroy = true",
        replacement="prevent_destroy = false",
        when=EMULATOR,
        reason="the state key is guarded by prevent_destroy on a real account; the emulated one "
               "must be destroyed at the end of a local run",
    ),
)


# ---- server patches ------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerPatch:
    """A method of moto replaced inside the emulator's process (tools/emulator_server.py)."""

    name: str
    target: str                                  # "module:Class.method"
    wrap: Callable[[Callable], Callable] = field(compare=False)  # original -> replacement
    reason: str = ""

    def apply(self) -> bool:
        """Patch moto; False when the target no longer exists (the patch is stale)."""
        import importlib

        module_name, _, qualified = self.target.partition(":")
        owner_name, _, method = qualified.rpartition(".")
        import inspect

        try:
            owner = getattr(importlib.import_module(module_name), owner_name)
            original = getattr(owner, method)
            static = isinstance(inspect.getattr_static(owner, method), staticmethod)
        except (ImportError, AttributeError):
            return False
        replacement = self.wrap(original)
        setattr(owner, method, staticmethod(replacement) if static else replacement)
        return True


def conditions_without_context_are_neutral(original: Callable) -> Callable:
    def is_action_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
        if self._statement.get("Condition") and not incoming_condition_values:
            from moto.iam.access_control import PermissionResult

            return PermissionResult.NEUTRAL
        return original(self, action, resource, principal, incoming_condition_values)

    return is_action_permitted


def rollouts_complete_at_once(original: Callable) -> Callable:
    def update_service(self, service_properties):
        service = original(self, service_properties)
        if service.deployments:
            service.deployments[0].update(taskDefinition=service.task_definition, status="PRIMARY",
                                          rolloutState="COMPLETED",
                                          rolloutStateReason="completed at once by the emulator")
        return service

    return update_service


def fargate_containers_need_no_memory(original: Callable) -> Callable:
    memory_keys = ("memory", "memoryReservation", "Memory", "MemoryReservation")

    def calculate(task_definition):
        if all(any(k in c for k in memory_keys) for c in task_definition.container_definitions):
            return original(task_definition)

        def number(value) -> int:
            return int(value) if str(value).isdigit() else 0

        # Fargate sizes the task, not its containers (their memory is optional there).
        return {"CPU": number(getattr(task_definition, "cpu", 0)),
                "MEMORY": number(getattr(task_definition, "memory", 0)), "PORTS": [], "PORTS_UDP": []}

    return calculate


def one_request_at_a_time(original: Callable) -> Callable:
    lock = threading.Lock()

    def __call__(self, environ, start_response):  # noqa: N807 (the WSGI entry point it replaces)
        # moto builds each response body whole before it returns (no streaming), so the lock
        # covers the request's every read and write of the backends' state.
        with lock:
            return original(self, environ, start_response)

    return __call__


SERVER_PATCHES: tuple[ServerPatch, ...] = (
    ServerPatch(
        name="one-request-at-a-time",
        target="moto.moto_server.werkzeug_app:DomainDispatcherApplication.__call__",
        wrap=one_request_at_a_time,
        reason="moto's server answers each connection on its own thread, but its backends share "
               "plain dicts and lists without locks (EC2's tag store is scanned whole to render "
               "every resource while CreateTags writes to it). Terraform calls with 10 at once; "
               "a call that fails after its change took effect is resent by the SDK and then "
               "refused as a duplicate (InvalidPermission.Duplicate, FlowLogAlreadyExists: see "
               "TRANSIENT). Patched: the server handles one request at a time; the backends are "
               "pure Python under one interpreter lock, so this costs no throughput",
    ),
    ServerPatch(
        name="ecs-fargate-run-task",
        target="moto.ecs.models:EC2ContainerServiceBackend._calculate_task_resource_requirements",
        wrap=fargate_containers_need_no_memory,
        reason="moto's RunTask adds up container-level memory, which a Fargate task definition need "
               "not have (ours set it on the task), and fails with a TypeError (500); patched: a "
               "task whose containers carry no memory figure is sized by its task-level values",
    ),
    ServerPatch(
        name="ecs-rollouts-complete",
        target="moto.ecs.models:EC2ContainerServiceBackend.update_service",
        wrap=rollouts_complete_at_once,
        reason="moto's UpdateService keeps the service's deployment on the old revision and never "
               "completes a rollout, so the deploy program's wait (tools/local_release.py) could "
               "not end; patched: the new revision's deployment is PRIMARY and COMPLETED at once",
    ),
    ServerPatch(
        name="bucket-policy-conditions",
        target="moto.iam.access_control:IAMPolicyStatement.is_action_permitted",
        wrap=conditions_without_context_are_neutral,
        reason="moto evaluates a bucket policy statement's Condition without the request's context "
               "and answers DENIED whenever it cannot match, whatever the Effect: the state "
               "bucket's DenyInsecureTransport and SSE-KMS statements then refuse every object "
               "request (403 to the S3 backend). Patched: a statement with a condition moto has "
               "no values for does not apply, as on AWS for a request that meets the condition",
    ),
)


# ---- stand-ins --------------------------------------------------------------------------


@dataclass(frozen=True)
class StandIn:
    """A resource moto cannot create, replaced by terraform_data with the attributes read from it."""

    type: str
    name: str
    files: str                      # glob of the file that declares it, in the work copy
    attributes: dict[str, str]      # attribute -> HCL expression ({region} and {account} filled in)
    reason: str
    references: str = "modules/**/*.tf"  # files whose references to it are rewritten

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"

    @property
    def data_name(self) -> str:
        """The terraform_data resource's name: unique in its module, and says what it stands for."""
        return f"{self.type.removeprefix('aws_')}_{self.name}"

    def shims(self, region: str, account: str) -> list[Shim]:
        inputs = "\n".join(f"    {key} = {value.format(region=region, account=account)}"
                           for key, value in self.attributes.items())
        block = Shim(
            name=f"stand-in {self.address}",
            files=self.files,
            # count/for_each, when present, is the first argument (terraform fmt style): kept.
            pattern=rf'^resource\s+"{self.type}"\s+"{self.name}"\s*\{{\n(?P<meta>[ \t]*(?:count|for_each)\s*=[^\n]*\n)?'
                    r".*?^\}[ \t]*$",
            replacement=f'resource "terraform_data" "{self.data_name}" {{\n'
                        f"  # Stood in for {self.type} (tools/emulator_gaps.py): {self.reason}\n"
                        + r"\g<meta>" + f"  input = {{\n{inputs}\n  }}\n}}",
            when=EMULATOR,
            reason=self.reason,
        )
        # aws_x.name.attr and aws_x.name[k].attr -> terraform_data.name[k].output.attr;
        # a bare aws_x.name (depends_on) -> terraform_data.name.
        attribute = Shim(
            name=f"stand-in {self.address} (references)",
            files=self.references,
            pattern=rf"\b{self.type}\.{self.name}((?:\[[^\]\n]*\])?)\.(?!output\b)(\w+)",
            replacement=rf"terraform_data.{self.data_name}\1.output.\2",
            when=EMULATOR,
            reason=self.reason,
            optional=True,
        )
        bare = Shim(
            name=f"stand-in {self.address} (dependencies)",
            files=self.references,
            pattern=rf"\b{self.type}\.{self.name}\b(?!\[|\.)",
            replacement=f"terraform_data.{self.data_name}",
            when=EMULATOR,
            reason=self.reason,
            optional=True,
        )
        return [block, attribute, bare]


def stand_in_shims(stand_ins: tuple[StandIn, ...], region: str, account: str) -> list[Shim]:
    """Every block first, then every reference rewrite: a stand-in's inputs may name another
    stood-in resource, whose rewrite must reach them too."""
    shims = [s.shims(region, account) for s in stand_ins]
    return [group[0] for group in shims] + [shim for group in shims for shim in group[1:]]


STAND_INS: tuple[StandIn, ...] = (
    StandIn(
        type="aws_appautoscaling_target",
        name="this",
        files="modules/ecs/service.tf",
        attributes={
            "service_namespace": '"ecs"',
            "scalable_dimension": '"ecs:service:DesiredCount"',
            "resource_id": '"service/${{aws_ecs_cluster.this.name}}/${{aws_ecs_service.this.name}}"',
            "min_capacity": "var.min_capacity",
            "max_capacity": "var.max_capacity",
        },
        reason="moto 5.2.5 does not implement Application Auto Scaling ListTagsForResource (500), "
               "which the provider calls after creating a tagged scalable target",
    ),
    *(StandIn(
        type="aws_appautoscaling_policy",
        name=policy,
        files="modules/ecs/service.tf",
        attributes={
            "name": f"var.names.{policy}_scaling_policy",
            "policy_type": '"TargetTrackingScaling"',
            "resource_id": "aws_appautoscaling_target.this.resource_id",
        },
        reason="its scalable target is stood in (above); a policy needs the target to exist",
    ) for policy in ("cpu", "requests")),
    StandIn(
        type="aws_codestarconnections_connection",
        name="this",
        files="modules/codepipeline/main.tf",
        attributes={
            "name": "var.names.connection",
            "arn": '"arn:aws:codestar-connections:{region}:{account}:connection/00000000-0000-4000-8000-000000000000"',
            # What AWS reports for a new connection until someone approves it in the console.
            "connection_status": '"PENDING"',
        },
        reason="moto 5.2.5 does not implement CodeStar Connections (CreateConnection answers 500)",
    ),
    StandIn(
        type="aws_codepipeline",
        name="this",
        files="modules/codepipeline/main.tf",
        attributes={
            "name": "var.names.pipeline",
            "arn": '"arn:aws:codepipeline:{region}:{account}:${{var.names.pipeline}}"',
            # What it is built from, so that the graph keeps their order.
            "role_arn": "aws_iam_role.pipeline.arn",
            "artifact_store": "module.artifact_bucket.id",
            "connection": "aws_codestarconnections_connection.this.arn",
            "projects": "[for p in aws_codebuild_project.this : p.name]",
        },
        reason="moto 5.2.5's GetPipeline returns its timestamps as strings, which the provider "
               "cannot decode (expected Timestamp to be a JSON Number), so every read fails",
    ),
    StandIn(
        type="aws_backup_selection",
        name="database",
        files="modules/backup/main.tf",
        attributes={
            "name": "var.names.selection",
            "plan_id": "aws_backup_plan.this.id",
            "iam_role_arn": "aws_iam_role.this.arn",
        },
        reason="moto 5.2.5 does not implement AWS Backup CreateBackupSelection (NotImplementedError, "
               "answered 500); the vault, its lock and the plan are real",
    ),
    StandIn(
        type="aws_elasticache_replication_group",
        name="this",
        files="modules/elasticache/main.tf",
        attributes={
            "id": "var.names.replication_group",
            "arn": '"arn:aws:elasticache:{region}:{account}:replicationgroup:${{var.names.replication_group}}"',
            "primary_endpoint_address": '"master.${{var.names.replication_group}}.emulated.cache.amazonaws.com"',
            "reader_endpoint_address": '"replica.${{var.names.replication_group}}.emulated.cache.amazonaws.com"',
            "port": "local.port",
            # The resources it is created from, so that the graph keeps their order.
            "parameter_group_name": "aws_elasticache_parameter_group.this.name",
            "subnet_group_name": "aws_elasticache_subnet_group.this.name",
            "security_group_ids": "[aws_security_group.this.id]",
            "user_group_ids": "[aws_elasticache_user_group.this.user_group_id]",
            "kms_key_id": "var.kms_key_arn",
        },
        reason="moto 5.2.5 creates a replication group without its member cache clusters, so the "
               "provider's read after CreateReplicationGroup fails (DescribeCacheClusters: "
               "CacheClusterNotFound for <group>-001)",
    ),
    StandIn(
        type="aws_elasticache_parameter_group",
        name="this",
        files="modules/elasticache/main.tf",
        attributes={"name": "var.names.parameter_group", "family": "local.parameter_group"},
        reason="moto 5.2.5 does not implement ElastiCache CreateCacheParameterGroup (answers 500)",
    ),
    StandIn(
        type="aws_elasticache_user_group",
        name="this",
        files="modules/elasticache/main.tf",
        attributes={
            "user_group_id": "var.names.user_group",
            "user_ids": "[aws_elasticache_user.default.user_id, aws_elasticache_user.app.user_id]",
        },
        reason="moto 5.2.5 does not implement ElastiCache CreateUserGroup (answers 500)",
    ),
)


# ---- setup and teardown -------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """A step before `terraform apply` (SETUP) or `terraform destroy` (TEARDOWN): a call against
    the emulator, or resources removed from the state (`terraform state rm`) because the
    emulator cannot delete them."""

    name: str
    roots: tuple[str, ...]          # the roots it runs for ("bootstrap/dev", "dev", ...)
    reason: str
    run: Callable[..., list[str]] | None = field(default=None, compare=False)  # (emulator, root, region)
    forget: tuple[str, ...] = ()    # resource addresses removed from the state


# The bootstrap roots, one per environment (envs/bootstrap/ENV).
BOOTSTRAPS = ("bootstrap/dev", "bootstrap/stg", "bootstrap/prod")


def seed_public_zone(emulator, root: Path, region: str) -> list[str]:
    text = (root / "proxy_server.tf").read_text(encoding="utf-8")
    zone = re.search(r'zone_name\s*=\s*"([^"]+)"\s*\n\s*create_zone\s*=\s*false', text)
    if not zone:
        return []
    route53 = emulator.boto3_client("route53", region)
    existing = {z["Name"].rstrip(".") for z in route53.list_hosted_zones()["HostedZones"]}
    if zone.group(1) in existing:
        return []
    route53.create_hosted_zone(Name=zone.group(1), CallerReference=f"apply-local-{zone.group(1)}")
    return [f"created the public hosted zone {zone.group(1)}"]


SETUP: tuple[Step, ...] = (
    Step(
        name="seed-public-zone",
        roots=("dev", "stg", "prod"),
        run=seed_public_zone,
        reason="an environment with a domain and create_zone = false looks its public zone up "
               "(it exists in a real account before the first apply); the empty emulated account "
               "gets it first",
    ),
)


def empty_state_bucket(emulator, root: Path, region: str) -> list[str]:
    values = (root / "main.tf").read_text(encoding="utf-8")
    found = re.search(r'^\s*state_bucket_name\s*=\s*"([^"]+)"', values, flags=re.MULTILINE)
    if not found:
        raise ValueError(f"{root.name}/main.tf: no state_bucket_name")
    bucket = found.group(1)
    s3 = emulator.boto3_client("s3", region)
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        objects = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                   for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if objects:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
            deleted += len(objects)
    return [f"emptied s3://{bucket} ({deleted} object versions)"]


def delete_released_images(emulator, root: Path, region: str) -> list[str]:
    ecr = emulator.boto3_client("ecr", region)
    done = []
    for page in ecr.get_paginator("describe_repositories").paginate():
        for repository in page["repositories"]:
            name = repository["repositoryName"]
            images = [{"imageDigest": i["imageDigest"]}
                      for p in ecr.get_paginator("list_images").paginate(repositoryName=name)
                      for i in p["imageIds"] if "imageDigest" in i]
            if images:
                ecr.batch_delete_image(repositoryName=name, imageIds=images)
                done.append(f"deleted {len(images)} image(s) from {name}")
    return done


TEARDOWN: tuple[Step, ...] = (
    Step(
        name="delete-released-images",
        roots=("dev", "stg", "prod"),
        run=delete_released_images,
        reason="a local release pushes the commit's images (the Build stage's part); stg's and "
               "prod's repositories keep force_delete off, as on AWS, so a destroy refuses them "
               "while they hold images",
    ),
    Step(
        name="empty-state-bucket",
        roots=BOOTSTRAPS,
        run=empty_state_bucket,
        reason="the state bucket keeps force_destroy = false (Terraform must never empty it on an "
               "account); the emulated one still holds the environments' state versions when "
               "bootstrap is destroyed at the end of a local run",
    ),
    Step(
        name="forget-cache-subnet-group",
        roots=("dev", "stg", "prod"),
        forget=("module.elasticache.aws_elasticache_subnet_group.this",),
        reason="moto 5.2.5 does not implement ElastiCache DeleteCacheSubnetGroup (answers 500); "
               "the group goes with the emulator",
    ),
)


# ---- known diffs of the second plan -----------------------------------------------------

ENVS = ("dev", "stg", "prod")  # the rendered roots: every module is in each


@dataclass(frozen=True)
class KnownDiff:
    """A change the second plan shows only because of the emulator."""

    roots: tuple[str, ...]          # the roots whose second plan shows it ("dev", "bootstrap", ...)
    address: str                    # fnmatch pattern of the resource address
    action: str                     # "update", "replace", ...
    attributes: tuple[str, ...]     # the top-level attributes that may differ (update only)
    reason: str


KNOWN_DIFFS: tuple[KnownDiff, ...] = (
    KnownDiff(ENVS, 'module.ecs.aws_cloudwatch_log_group.this["*"]', "replace", ("log_group_class",),
              "moto does not store a log group's class (reads back empty), and a class change "
              "forces a new log group"),
    KnownDiff(ENVS, "module.ecs.aws_ecs_service.this", "replace", ("capacity_provider_strategy",),
              "moto does not store a service's capacity provider strategy (reads back launch type "
              "EC2), and a strategy change forces a new service in the provider"),
    KnownDiff(ENVS, 'module.codepipeline.aws_codebuild_project.this["*"]', "update",
              ("concurrent_build_limit", "encryption_key"),
              "moto does not store CodeBuild's concurrent build limit and reads the encryption key "
              "back as the default alias/aws/s3"),
    KnownDiff(ENVS, "module.rds.aws_db_instance.this", "update",
              ("performance_insights_enabled", "performance_insights_kms_key_id",
               "performance_insights_retention_period"),
              "moto does not store an instance's Performance Insights settings"),
    KnownDiff(ENVS, "module.rds.aws_db_parameter_group.this", "update", ("parameter",),
              "moto does not return a DB parameter group's modified parameters"),
    KnownDiff(ENVS, "module.*.aws_vpc_security_group_ingress_rule.*", "update", ("description",),
              "moto drops the description of a rule whose source is another security group"),
    KnownDiff(ENVS, "module.ecs.aws_iam_role_policy.*", "update", ("policy",),
              "follows the replaced log groups above: the policy document names their ARNs, so "
              "Terraform reads it at apply time and the policy shows as changing"),
    KnownDiff(("stg", "prod"), "module.ecs.aws_lambda_function.smoke_hook[*]", "update", ("logging_config",),
              "moto 5.2.5 does not store a function's logging configuration (GetFunction returns no "
              "LoggingConfig), so the hook's own log group reads back unset"),
    KnownDiff(ENVS, "module.codepipeline.aws_iam_role_policy.pipeline", "update", ("policy",),
              "follows the CodeBuild projects' diff above: the policy document names them, so "
              "Terraform reads it at apply time and the policy shows as changing"),
)


# ---- transient failures -------------------------------------------------------------------

# Errors the emulator has produced only under load, never in a quiet run: a create sent twice
# (the AWS SDK resends a request that failed after its change took effect) and then refused as a
# duplicate. The server patch one-request-at-a-time removes the races known to cause them; should
# one still appear, the whole run cannot simply continue (the emulator holds a resource the state
# does not), so tests/test_apply_local.py runs the apply once more, from a cold emulator, when
# every error of the failed run is one of these (transient_failure).
TRANSIENT: tuple[tuple[str, str], ...] = (
    ("FlowLogAlreadyExists", "CreateFlowLogs resent after a dropped connection (seen once, with three "
                             "Terraform runs and a CI run sharing 2 cores)"),
    ("InvalidPermission.Duplicate", "a security group rule's Authorize call resent after a slow answer "
                                    "(seen twice with several applies and a CI run sharing 2 cores; "
                                    "the same apply on a quiet machine passes; failed CI once, "
                                    "after 1,102 s of a clean-clone run)"),
)


def transient_failure(output: str) -> bool:
    """Whether a failed Terraform run's every error names a declared transient.

    Terraform prints an error as a block: "Error: <summary>", the resource, then the API's answer,
    whose code (InvalidPermission.Duplicate) is several lines below the summary line.
    """
    blocks = re.split(r"(?m)^[\s│]*Error: ", output)[1:]
    return bool(blocks) and all(any(code in block for code, _ in TRANSIENT) for block in blocks)
