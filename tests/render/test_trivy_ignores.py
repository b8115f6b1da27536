"""The trivy ignores that follow from an environment's own settings are rendered into that
environment's root only, from its YAML: never blanket in the module, never in a root whose YAML
turns the protection on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def ignored_checks(path: Path) -> set[str]:
    return set(re.findall(r"#trivy:ignore:(\S+)", path.read_text(encoding="utf-8")))


def expected(deletion_protection: bool, backup_retention_days: int) -> set[str]:
    checks = set()
    if not deletion_protection:
        checks.add("AVD-AWS-0177")
    if backup_retention_days <= 1:  # trivy's AVD-AWS-0077 wants more than the default one day
        checks.add("AVD-AWS-0077")
    return checks


@pytest.mark.parametrize("env", ["dev", "stg", "prod"])
def test_each_committed_root_ignores_what_its_yaml_chose(env):
    from infra.render import Project, load

    _, config, _ = load(Project(ROOT), env)
    rds = config.rds
    wanted = expected(rds.deletion_protection, rds.backup_retention_days)
    assert ignored_checks(ROOT / "envs" / env / "rds.tf") == wanted


def test_prod_accepts_nothing_of_its_database_and_the_module_nothing_at_all():
    assert ignored_checks(ROOT / "envs" / "prod" / "rds.tf") == set()
    assert not any(ignored_checks(path) for path in (ROOT / "modules" / "rds").glob("*.tf"))


def test_the_ignores_follow_the_yaml(project: Path, run):
    """prod without deletion protection gets its ignore; dev with prod's protections loses both."""
    prod = project / "envs/prod/env.yaml"
    text = prod.read_text(encoding="utf-8")
    rds = "  deletion_protection: true\n  final_snapshot"  # the database's, not the load balancer's
    assert rds in text
    prod.write_text(text.replace(rds, rds.replace("true", "false", 1)), encoding="utf-8")
    dev = project / "envs/dev/env.yaml"
    dev.write_text(dev.read_text(encoding="utf-8").replace(
        "rds:\n", "rds:\n  deletion_protection: true\n  backup_retention_days: 7\n", 1), encoding="utf-8")
    assert run("render", "prod").exit_code == 0 and run("render", "dev").exit_code == 0
    rendered = (project / "envs/prod/rds.tf").read_text(encoding="utf-8")
    assert ignored_checks(project / "envs/prod/rds.tf") == {"AVD-AWS-0177"}
    # Named by its YAML key, and adjacent to the module block (trivy reads only adjacent comments).
    assert re.search(r'#trivy:ignore:AVD-AWS-0177 rds\.deletion_protection is false[^\n]*\nmodule "rds" \{', rendered)
    assert ignored_checks(project / "envs/dev/rds.tf") == set()
