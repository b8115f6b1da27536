"""The backup block of the YAML: one line per setting AWS would refuse or that protects nothing,
and `render.py recovery` following the YAML."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def set_backup(project: Path, env: str, old: str, new: str) -> None:
    path = project / "envs" / env / "env.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


CASES = {
    "copy_to_own_region": ("prod", "copy_region: ap-northeast-3", "copy_region: ap-northeast-1",
                           "envs/prod/env.yaml: backup.copy_region: is the environment's own region (ap-northeast-1)"),
    "unknown_copy_region": ("prod", "copy_region: ap-northeast-3", "copy_region: ap-northeast-9",
                            "envs/prod/env.yaml: backup.copy_region: not an AWS Region this project knows "
                            "(infra/regions.py) (did you mean \"ap-northeast-3\"?)"),
    "compliance_without_opt_in": ("prod", "mode: governance", "mode: compliance",
                                  "envs/prod/env.yaml: backup.vault_lock.mode: compliance cannot be undone once "
                                  "grace_days have passed"),
    "lock_refuses_retention": ("prod", "min_retention_days: 7", "min_retention_days: 20",
                               "envs/prod/env.yaml: backup.vault_lock: rds.backup_retention_days (14) is outside "
                               "min_retention_days-max_retention_days (20-400)"),
    "continuous_without_plan": ("prod", "enabled: true", "enabled: false",
                                "envs/prod/env.yaml: backup.continuous: needs backup.enabled: true"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_backup_settings_are_one_line_each(project: Path, run, case: str):
    env, old, new, message = CASES[case]
    set_backup(project, env, old, new)
    result = run("render", env)
    assert result.exit_code == 2
    assert message in result.stderr, result.stderr
    assert not (project / "envs" / env / "backup.tf").exists()


def test_compliance_mode_with_the_opt_in_renders(project: Path, run):
    set_backup(project, "prod", "mode: governance", "mode: compliance\n    grace_days: 7\n"
               "    i_understand_compliance_mode_is_irreversible: true")
    assert run("render", "prod").exit_code == 0
    text = (project / "envs" / "prod" / "backup.tf").read_text(encoding="utf-8")
    assert 'mode               = "compliance"' in text and "grace_days         = 7" in text


@pytest.fixture
def figures(project: Path) -> Path:
    (project / "cost").mkdir()
    shutil.copy(ROOT / "cost" / "recovery.yaml", project / "cost" / "recovery.yaml")
    return project


def test_recovery_follows_the_yaml(figures: Path, run):
    before = run("recovery", "prod").stdout
    assert "60-120 s (failover)" in before
    set_backup(figures, "prod", "  multi_az: true", "  multi_az: false")
    after = run("recovery", "prod").stdout
    assert "60-120 s (failover)" not in after and "(restore)" in after


def test_recovery_without_its_figures_is_one_line(project: Path, run):
    result = run("recovery", "dev")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cost/recovery.yaml: cannot read") or "cost/recovery.yaml" in result.stderr
