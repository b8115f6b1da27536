"""Environments without NAT: the interface endpoints the tasks need, and one list of endpoint names
shared by the renderer and modules/network."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from emulated import copy_modules, emulated_root, needs_provider

from infra import endpoints

ROOT = Path(__file__).resolve().parents[2]
SERVICES = yaml.safe_load((ROOT / "modules" / "network" / "interface_endpoints.yaml").read_text(encoding="utf-8"))
# What the tasks of every environment call (README of modules/network, infra/endpoints.py).
NEEDED = ["ecr.api", "ecr.dkr", "logs", "ssm", "secretsmanager", "ssmmessages", "kms"]


def set_network(project: Path, env: str, **values) -> None:
    path = project / "envs" / env / "env.yaml"
    settings = yaml.safe_load(path.read_text(encoding="utf-8"))
    settings.setdefault("network", {}).update(values)
    path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")


def errors_of(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


def test_nat_none_refuses_an_environment_whose_tasks_could_not_start(project: Path, run):
    """Images and logs alone are not enough: secrets, the migration and ECS Exec call AWS too."""
    set_network(project, "dev", nat="none", interface_endpoints=["ecr.api", "ecr.dkr", "logs"])
    result = run("render", "dev")
    assert result.exit_code == 2
    (error,) = errors_of(result)
    assert error.startswith('error: envs/dev/env.yaml: network.interface_endpoints: nat "none"'), error
    for service in ("ssm", "secretsmanager", "ssmmessages", "kms"):
        assert f" {service} (" in error or f" {service} and" in error, (service, error)
    assert "SECRET_KEY" in error
    assert not (project / "envs" / "dev" / "network.tf").exists()


@pytest.mark.parametrize("missing", NEEDED)
def test_nat_none_names_each_missing_endpoint(project: Path, run, missing: str):
    set_network(project, "dev", nat="none", interface_endpoints=[s for s in NEEDED if s != missing])
    result = run("render", "dev")
    assert result.exit_code == 2
    (error,) = errors_of(result)
    assert f"add {missing} " in error or f"and {missing} (" in error, error


def test_ssm_is_needed_only_for_secure_parameters():
    from infra.render import Project, load

    _, env, _ = load(Project(ROOT), "dev")
    assert "ssm" in endpoints.needed_without_nat(env)
    without = env.model_copy(update={"ssm": env.ssm.model_copy(update={"secure_parameters": []})})
    assert sorted(endpoints.needed_without_nat(without)) == sorted(s for s in NEEDED if s != "ssm")


def test_with_nat_no_endpoint_is_required(project: Path, run):
    set_network(project, "dev", nat="single", interface_endpoints=[])
    assert run("render", "dev").exit_code == 0


def test_the_renderer_accepts_exactly_the_modules_endpoint_names(project: Path, run):
    """One list: every name the module accepts renders; a name it refuses does not."""
    set_network(project, "dev", nat="single", interface_endpoints=SERVICES)
    result = run("render", "dev")
    assert result.exit_code == 0, result.stderr
    network_tf = (project / "envs" / "dev" / "network.tf").read_text(encoding="utf-8")
    assert all(f'"{service}"' in network_tf for service in SERVICES)

    set_network(project, "dev", interface_endpoints=["ecr.api", "ecs"])
    result = run("render", "dev")
    assert result.exit_code == 2
    (error,) = errors_of(result)
    assert "network.interface_endpoints: 'ecs' not among the services of " in error, error
    assert "modules/network/interface_endpoints.yaml" in error


def test_a_repeated_endpoint_is_refused(project: Path, run):
    set_network(project, "dev", interface_endpoints=["logs", "logs"])
    result = run("render", "dev")
    assert result.exit_code == 2
    assert "logs given more than once" in result.stderr


def test_the_module_validates_against_the_same_file():
    variables = (ROOT / "modules" / "network" / "variables.tf").read_text(encoding="utf-8")
    assert variables.count('yamldecode(file("${path.module}/interface_endpoints.yaml"))') == 2
    assert "ecr.api" not in variables.split('variable "interface_endpoints"')[1].split("validation")[1]


def test_a_broken_endpoint_list_is_one_line(project: Path, run, tmp_path: Path, monkeypatch):
    fake = tmp_path / "fake"
    (fake / "modules" / "network").mkdir(parents=True)
    (fake / "modules" / "network" / "interface_endpoints.yaml").write_text("ecr.api: [\n", encoding="utf-8")
    monkeypatch.setattr(endpoints, "ROOT", fake)
    endpoints.allowed_services.cache_clear()
    try:
        result = run("render", "dev")
    finally:
        endpoints.allowed_services.cache_clear()
    assert result.exit_code == 2
    (error,) = errors_of(result)
    assert error.startswith("error: modules/network/interface_endpoints.yaml: cannot read"), error


def test_a_nat_none_environment_renders_checks_and_lints(project: Path, run):
    """The variant a user writes: no NAT, the endpoints the tasks need."""
    shutil.copytree(ROOT / "modules", project / "modules")
    shutil.copytree(ROOT / "schema", project / "schema")
    set_network(project, "dev", nat="none", interface_endpoints=NEEDED)
    rendered = run("render", "dev")
    assert rendered.exit_code == 0, rendered.stderr
    network_tf = (project / "envs" / "dev" / "network.tf").read_text(encoding="utf-8")
    assert 'nat                     = "none"' in network_tf
    assert all(f'"{service}"' in network_tf for service in NEEDED)
    checked = run("check", "dev")
    assert checked.exit_code == 0, checked.stderr
    linted = run("lint", str(project / "modules"), str(project / "envs" / "dev"))
    assert linted.exit_code == 0, linted.stderr


# The variant's network on the AWS API emulator: the rendered module call, with the key and the
# permissions boundary the rest of the root (ssm, bootstrap) would provide made here instead.
VARIANT_ROOT = """
provider "aws" {
  alias  = "net"
  region = "ap-northeast-1"
}

resource "aws_kms_key" "logs" {
  provider            = aws.net
  description         = "flow logs of the nat-none variant"
  enable_key_rotation = true
}

resource "aws_iam_policy" "boundary" {
  provider = aws.net
  name     = "todo-dev-sec-role-boundary-policy"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "logs:*", Resource = "*" }]
  })
}
"""


@needs_provider
def test_a_nat_none_environment_applies_on_the_emulator(project: Path, run, tmp_path: Path):
    """No NAT gateway, no default route out of the private subnets, and an interface endpoint
    with private DNS in every private subnet for each service the tasks call."""
    set_network(project, "dev", nat="none", interface_endpoints=NEEDED)
    assert run("render", "dev").exit_code == 0
    module_call = (project / "envs" / "dev" / "network.tf").read_text(encoding="utf-8")
    assert module_call.count("module.ssm.kms_key_arn") == 1
    module_call = module_call.replace("module.ssm.kms_key_arn", "aws_kms_key.logs.arn").replace(
        "permissions_boundary_arn = ", "depends_on = [aws_iam_policy.boundary]\n  permissions_boundary_arn = "
    )
    work = tmp_path / "work"
    copy_modules(work)
    root = work / "envs" / "dev"
    root.mkdir(parents=True)
    (root / "main.tf").write_text(VARIANT_ROOT + module_call, encoding="utf-8")
    with emulated_root(work, root, "111111111111") as emulated:
        emulated.must("apply", "-auto-approve", "-input=false")
        ec2 = emulated.client("ec2")
        (vpc,) = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["todo-dev-net-core-main-vpc"]}])["Vpcs"]
        in_vpc = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
        gateways = ec2.describe_nat_gateways(Filters=in_vpc)["NatGateways"]
        assert [g for g in gateways if g["State"] != "deleted"] == []
        private = ec2.describe_subnets(Filters=[*in_vpc, {"Name": "tag:Name", "Values": ["*-private-*"]}])["Subnets"]
        assert len(private) == 2
        tables = ec2.describe_route_tables(Filters=[*in_vpc, {"Name": "tag:Name", "Values": ["*-private-*"]}])
        for table in tables["RouteTables"]:
            outward = [r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
            assert outward == [], f"{table['RouteTableId']} routes to the internet: {outward}"
        endpoints = ec2.describe_vpc_endpoints(Filters=in_vpc)["VpcEndpoints"]
        prefix = "com.amazonaws.ap-northeast-1."
        interface = {e["ServiceName"].removeprefix(prefix): e for e in endpoints if e["VpcEndpointType"] == "Interface"}
        assert sorted(interface) == sorted(NEEDED)
        private_ids = {s["SubnetId"] for s in private}
        for service, endpoint in interface.items():
            assert endpoint["PrivateDnsEnabled"], service
            assert set(endpoint["SubnetIds"]) == private_ids, service
        (gateway,) = [e for e in endpoints if e["VpcEndpointType"] == "Gateway"]
        assert gateway["ServiceName"] == "com.amazonaws.ap-northeast-1.s3"
        assert set(gateway["RouteTableIds"]) == {t["RouteTableId"] for t in tables["RouteTables"]}
        emulated.must("destroy", "-auto-approve", "-input=false")
