"""One `terraform fmt` call formats every rendered file, exactly as one call per file would."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from infra.errors import RenderError
from infra.render import Project, render_envs
from infra.terraform import _env, fmt_texts, terraform_binary

UNFORMATTED = {
    "a.tf": 'resource "x" "y" {\n  name="a"\n  tags   = {\n   A=1\n  }\n}\n',
    "b.tfvars": 'region="ap-northeast-1"\nsizes = [1,2,\n3]\n',
    "c.tf": "locals {\n  long_name = 1\n  x = 2\n}\n",
}


def stdin_fmt(text: str) -> str:
    return subprocess.run([terraform_binary(), "fmt", "-no-color", "-"], input=text, capture_output=True,
                          text=True, env=_env(), check=True).stdout


def test_batch_output_is_what_one_call_per_file_gives():
    assert fmt_texts(UNFORMATTED) == {label: stdin_fmt(text) for label, text in UNFORMATTED.items()}


def test_each_file_that_does_not_parse_is_named():
    broken = {**UNFORMATTED, "bad.tf": 'resource "x" {\n  a = \n', "worse.tf": "locals {\n = 3\n}\n"}
    with pytest.raises(RenderError) as failure:
        fmt_texts(broken)
    assert failure.value.problems == [
        "bad.tf: terraform fmt failed: Error: Invalid expression",
        "worse.tf: terraform fmt failed: Error: Argument or block definition required",
    ]


def test_the_committed_roots_come_from_one_terraform_call(monkeypatch):
    root = Path(__file__).resolve().parents[2]
    calls = []
    real_run = subprocess.run

    def run(args, *rest, **kwargs):
        calls.append(args)
        return real_run(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    rendered, problems = render_envs(Project(root), ["dev", "stg", "prod"])
    assert problems == []
    assert [args[1] for args in calls] == ["fmt"]
    for env in ("dev", "stg", "prod"):
        for path, text in rendered[env].files.items():
            if path.parent.name == env:
                assert path.read_text(encoding="utf-8") == text, os.fspath(path)
