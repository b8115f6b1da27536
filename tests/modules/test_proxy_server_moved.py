"""An environment applied before modules/proxy_server folded its target groups and blue/green
rules into for_each resources plans no replacement of them.

Terraform applies the module as it was at BEFORE (the last commit with the separate resources)
against a mocked AWS provider, then the current module on the same state. A resource Terraform
replaced would get the second run's ARN; one its `moved` block carried keeps the first run's.
"""

from __future__ import annotations

import subprocess
import tarfile
from io import BytesIO
from pathlib import Path

import pytest
from tfhelpers import ROOT
from tfplan import needs_terraform, terraform_test

BEFORE = "baef2a48c9d748f0c79935fec80777910d2d2ff5"
ARN = "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012"


def override(target: str, arn: str) -> str:
    return f'  override_resource {{\n    target = {target}\n    values = {{ arn = "{arn}" }}\n  }}\n'


# The provider checks that the listeners' and rules' ARN arguments are ARNs, so the mocked ones
# look like them; each run gives the groups and rules ARNs of its own ("before", "after").
MOVED_TEST = (
    override("aws_lb.this", f"{ARN}:loadbalancer/app/todo/1")
    + override("aws_lb_listener.https", f"{ARN}:listener/app/todo/1/443")
    + override("aws_lb_listener.http", f"{ARN}:listener/app/todo/1/80")
    + override("aws_lb_listener.test", f"{ARN}:listener/app/todo/1/8443")
    + """
override_resource {
  target = aws_acm_certificate.this
  values = {
    arn = "arn:aws:acm:ap-northeast-1:123456789012:certificate/1"
    domain_validation_options = [{
      domain_name           = "stg.example.com"
      resource_record_name  = "_x.stg.example.com"
      resource_record_type  = "CNAME"
      resource_record_value = "_y.acm-validations.aws"
    }]
  }
}

variables {
  names = {
    alb = "todo-alb", target_group = "todo-tg", alternate_target_group = "todo-alt-tg",
    security_group = "todo-sg", log_bucket = "todo-logs-123456789012", certificate = "todo-cert"
  }
  vpc_id            = "vpc-1"
  vpc_cidr_block    = "10.0.0.0/16"
  public_subnet_ids = ["subnet-1", "subnet-2"]
  domain            = { zone_name = "example.com", names = ["stg.example.com"] }
  blue_green        = { test_source_cidrs = ["203.0.113.1/32"] }
}

run "before" {
  state_key = "environment"
  module {
    source = "../proxy_server_before"
  }
"""
    + override("aws_lb_target_group.this", f"{ARN}:targetgroup/before/1")
    + override("aws_lb_target_group.alternate", f"{ARN}:targetgroup/before/2")
    + override("aws_lb_listener_rule.production", f"{ARN}:listener-rule/app/todo/1/443/before")
    + override("aws_lb_listener_rule.test", f"{ARN}:listener-rule/app/todo/1/8443/before")
    + """}

run "after" {
  state_key = "environment"
"""
    + override("aws_lb_target_group.this", f"{ARN}:targetgroup/after/1")
    + override("aws_lb_listener_rule.blue_green", f"{ARN}:listener-rule/app/todo/1/443/after")
    + "".join(
        f"  assert {{\n    condition     = output.{name} == run.before.{name}\n"
        f'    error_message = "{name}: replaced, not moved"\n  }}\n'
        for name in ("target_group_arn", "alternate_target_group_arn",
                     "production_listener_rule_arn", "test_listener_rule_arn")
    )
    + "}\n"
)


def module_before(tmp_path: Path) -> None:
    """modules/proxy_server as it was at BEFORE, as tmp_path/modules/proxy_server_before."""
    shallow = subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=ROOT,
                             capture_output=True, text=True, check=False, timeout=60)
    if shallow.stdout.strip() == "true":
        pytest.skip(f"a shallow clone holds no commit {BEFORE[:7]}, the module as environments applied it")
    archive = subprocess.run(["git", "archive", BEFORE, "modules/proxy_server"], cwd=ROOT,
                             capture_output=True, check=False, timeout=60)
    if archive.returncode != 0:
        pytest.fail(f"commit {BEFORE} is not in this clone (a shallow clone?): "
                    f"{archive.stderr.decode(errors='replace').strip()}")
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(tmp_path / "before", filter="data")
    (tmp_path / "modules").mkdir()
    (tmp_path / "before" / "modules" / "proxy_server").rename(tmp_path / "modules" / "proxy_server_before")


@needs_terraform
def test_an_applied_environment_keeps_its_target_groups_and_blue_green_rules(tmp_path: Path):
    module_before(tmp_path)
    output = terraform_test(tmp_path, ["proxy_server", "s3_bucket"], MOVED_TEST)
    assert "Success! 2 passed, 0 failed" in output
