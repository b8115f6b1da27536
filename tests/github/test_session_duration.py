"""The AWS sessions of terraform.yml last the whole job, and IAM grants them.

OIDC credentials cannot be refreshed inside a job: a session shorter than the job's timeout can
expire in the middle of an apply and leave the state locked. A session longer than the role's
max_session_duration (modules/bootstrap/github_oidc.tf) is refused by AssumeRoleWithWebIdentity,
so the job fails before it starts.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from test_workflows import GITHUB, load, step_using
from tfhelpers import ROOT, literal, load_dir, load_module, resources, variables_of

# The job and the role of modules/bootstrap whose session it asks for.
JOBS = {"plan": "github_plan", "apply": "github_apply"}
# max_session_duration = var.NAME
VARIABLE = re.compile(r"^\$\{var\.([A-Za-z0-9_]+)\}$")


@pytest.fixture(scope="module")
def terraform() -> dict[str, Any]:
    return load(GITHUB / "workflows" / "terraform.yml")


@pytest.fixture(scope="module")
def bootstrap() -> dict[str, list[dict[str, Any]]]:
    return load_module("bootstrap")


def bootstrap_arguments() -> list[dict[str, Any]]:
    """The arguments each generated envs/bootstrap/<env> root gives modules/bootstrap."""
    found = []
    for root in sorted(p for p in (ROOT / "envs" / "bootstrap").iterdir() if p.is_dir()):
        for block in load_dir(root).get("module", []):
            for body in literal(block).values():
                if str(body.get("source", "")).rstrip("/").endswith("modules/bootstrap"):
                    found.append(body)
    return found


def max_session(bootstrap: dict[str, list[dict[str, Any]]], role: str) -> int:
    """The role's max_session_duration, a variable resolved to its default; if a bootstrap root
    sets the variable, the shortest value any of them gives."""
    value = resources(bootstrap, "aws_iam_role")[role]["max_session_duration"]
    if isinstance(value, int):
        return value
    match = VARIABLE.match(str(value))
    assert match, f"aws_iam_role.{role}: max_session_duration {value!r} is neither a number nor var.NAME"
    name = match.group(1)
    values = [variables_of(bootstrap)[name]["default"]]
    values += [args[name] for args in bootstrap_arguments() if name in args]
    assert all(isinstance(v, int) for v in values), f"var.{name}: {values}"
    return min(values)


def session(terraform: dict[str, Any], job: str) -> tuple[int, int]:
    """The job's (timeout-minutes, role-duration-seconds)."""
    spec = terraform["jobs"][job]
    credentials = step_using(spec["steps"], "aws-actions/configure-aws-credentials")["with"]
    assert "role-duration-seconds" in credentials, f"{job}: set role-duration-seconds (the action's default is 3600)"
    return int(spec["timeout-minutes"]), int(credentials["role-duration-seconds"])


@pytest.mark.parametrize("job", list(JOBS))
def test_the_session_outlasts_the_job(terraform, job: str):
    timeout, duration = session(terraform, job)
    assert duration >= timeout * 60, f"{job}: a {duration}s session ends before the {timeout}-minute timeout"


@pytest.mark.parametrize(("job", "role"), list(JOBS.items()))
def test_the_role_grants_the_session(terraform, bootstrap, job: str, role: str):
    _, duration = session(terraform, job)
    limit = max_session(bootstrap, role)
    assert duration <= limit, f"{job}: {duration}s is more than aws_iam_role.{role}'s max_session_duration {limit}"


def test_the_apply_may_pass_an_hour(terraform, bootstrap):
    # A first prod apply (Multi-AZ RDS, ElastiCache, ACM validation) or a destroy with a final
    # snapshot can pass an hour.
    timeout, _ = session(terraform, "apply")
    assert timeout > 60
    assert max_session(bootstrap, "github_apply") > 3600


def test_the_plan_role_is_resolved_from_its_literal_and_the_apply_role_from_its_variable(bootstrap):
    roles = resources(bootstrap, "aws_iam_role")
    assert isinstance(roles["github_plan"]["max_session_duration"], int)
    assert VARIABLE.match(str(roles["github_apply"]["max_session_duration"]))
