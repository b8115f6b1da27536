"""The Lambda package a blue/green root deploys (infra/packages.py): written by `render` beside the
root's .tf files, byte-for-byte the same at every render, checked by `check` like the .tf files."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import yaml

from infra.packages import SMOKE_HOOK_SOURCE, smoke_hook_package

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "smoke_hook.zip"


def test_the_committed_blue_green_roots_carry_the_package_and_dev_does_not():
    for env in ("stg", "prod"):
        assert (ROOT / "envs" / env / PACKAGE).read_bytes() == smoke_hook_package(), env
    assert not (ROOT / "envs" / "dev" / PACKAGE).exists()
    assert "smoke_hook_package" not in (ROOT / "envs" / "dev" / "ecs.tf").read_text(encoding="utf-8")


def test_the_package_holds_exactly_the_handler_file_with_fixed_metadata():
    with zipfile.ZipFile(io.BytesIO(smoke_hook_package())) as archive:
        (entry,) = archive.infolist()
        assert entry.filename == "smoke_hook.py"  # the function's handler is smoke_hook.handler
        assert archive.read(entry) == SMOKE_HOOK_SOURCE.read_bytes()
        assert entry.date_time == (1980, 1, 1, 0, 0, 0)
        assert entry.external_attr >> 16 == 0o100644
        assert entry.compress_type == zipfile.ZIP_STORED


def test_rendering_twice_writes_identical_bytes(project: Path, run):
    assert run("render", "stg").exit_code == 0
    first = (project / "envs" / "stg" / PACKAGE).read_bytes()
    (project / "envs" / "stg" / PACKAGE).unlink()
    assert run("render", "stg").exit_code == 0
    second = (project / "envs" / "stg" / PACKAGE).read_bytes()
    assert hashlib.sha256(second).digest() == hashlib.sha256(first).digest()
    assert first == (ROOT / "envs" / "stg" / PACKAGE).read_bytes()  # and the same as the committed one
    result = run("render", "stg")
    assert "0 file(s) changed" in result.output


def test_check_fails_when_the_package_is_missing_or_differs(project: Path, run):
    assert run("render", "prod").exit_code == 0
    assert run("check", "prod").exit_code == 0
    package = project / "envs" / "prod" / PACKAGE
    package.write_bytes(package.read_bytes() + b"\0")
    result = run("check", "prod")
    assert result.exit_code == 2
    assert "envs/prod/smoke_hook.zip: differs from its source (run `make render ENV=prod`)" in result.output
    package.unlink()
    assert "envs/prod/smoke_hook.zip: missing" in run("check", "prod").output


def test_a_root_that_stops_deploying_blue_green_loses_its_package(project: Path, run):
    assert run("render", "stg").exit_code == 0
    path = project / "envs" / "stg" / "env.yaml"
    settings = yaml.safe_load(path.read_text(encoding="utf-8"))
    settings.setdefault("ecs", {}).setdefault("deployment", {})["strategy"] = "ROLLING"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")

    result = run("render", "stg")

    assert result.exit_code == 0, result.output
    assert "removed envs/stg/smoke_hook.zip" in result.output
    assert not (project / "envs" / "stg" / PACKAGE).exists()
