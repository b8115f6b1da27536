"""Every IAM role an environment root creates carries the permissions boundary its bootstrap owns.

The CI apply role may create or change a role only when that boundary is attached
(iam:PermissionsBoundary), so a module role without it would fail to apply, and a role with a
boundary that is only optional could be left without one. This parses every module folder,
including any added later, except modules/bootstrap: its own CI roles are what enforces the
boundary and are created before it exists.
"""

from __future__ import annotations

import pytest
from tfhelpers import MODULES, load_dir, resources, variables_of

EXEMPT = {"bootstrap"}
MODULE_DIRS = sorted(p for p in MODULES.iterdir() if p.is_dir() and any(p.glob("*.tf")) and p.name not in EXEMPT)
BOUNDARY = "${var.permissions_boundary_arn}"


def roles_of(folder) -> dict[str, dict]:
    return resources(load_dir(folder), "aws_iam_role")


def test_the_modules_are_found():
    names = {p.name for p in MODULE_DIRS}
    assert {"ecs", "batch", "codepipeline", "network", "rds"} <= names
    with_roles = {p.name for p in MODULE_DIRS if roles_of(p)}
    # batch's and sleep's scheduler roles are modules/scheduler_role's.
    assert {"ecs", "scheduler_role", "codepipeline", "network", "rds"} <= with_roles


@pytest.mark.parametrize("folder", MODULE_DIRS, ids=[p.name for p in MODULE_DIRS])
def test_every_role_carries_the_boundary_variable(folder):
    roles = roles_of(folder)
    if not roles:
        pytest.skip(f"modules/{folder.name} creates no IAM role")
    for name, role in roles.items():
        assert role.get("permissions_boundary") == BOUNDARY, (
            f"modules/{folder.name}: aws_iam_role.{name} must set permissions_boundary = var.permissions_boundary_arn"
        )

    where = f"modules/{folder.name}: variable permissions_boundary_arn"
    variable = variables_of(load_dir(folder)).get("permissions_boundary_arn")
    assert variable is not None, f"{where} is missing"
    assert "default" not in variable, f"{where} must be required (no default)"
    assert variable.get("nullable") is False, f"{where} must set nullable = false"
    assert variable.get("type") == "string", f"{where} must be a string"
