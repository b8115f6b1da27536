"""A private copy of the project's renderer inputs per test, so tests may break them freely."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("naming.yaml",):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    (tmp_path / "envs").mkdir()
    shutil.copy(ROOT / "envs" / "common.yaml", tmp_path / "envs" / "common.yaml")
    for env in ("dev", "stg", "prod"):
        (tmp_path / "envs" / env).mkdir()
        shutil.copy(ROOT / "envs" / env / "env.yaml", tmp_path / "envs" / env / "env.yaml")
    return tmp_path


@pytest.fixture
def run(project: Path):
    """Invoke render.py's CLI against the private project copy."""
    import render

    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(render.cli, ["--root", str(project), *args], catch_exceptions=False)

    return invoke
