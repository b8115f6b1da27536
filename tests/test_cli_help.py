"""The front doors answer: `make` lists every target, and every command-line program answers
-h and --help with its usage (deploy/ has tests of its own)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAIN = re.compile(r'^if __name__ == "__main__":', flags=re.MULTILINE)


def scripts() -> list[Path]:
    """Every Python file of tools/ and .github/scripts/ that runs as a program."""
    found = sorted((ROOT / "tools").glob("*.py")) + sorted((ROOT / ".github" / "scripts").glob("*.py"))
    return [path for path in found if MAIN.search(path.read_text(encoding="utf-8"))]


def click_commands(path: Path) -> list[list[str]]:
    """The group itself and each of its subcommands, for a click program."""
    spec = importlib.util.spec_from_file_location(f"cli_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [[]] + [[name] for name in sorted(module.cli.commands)]


INVOCATIONS = (
    [(path, []) for path in scripts() if path.name != "envs.py"]
    + [(ROOT / "render.py", args) for args in click_commands(ROOT / "render.py")]
    + [(ROOT / ".github" / "scripts" / "envs.py", args) for args in click_commands(ROOT / ".github/scripts/envs.py")]
)


def test_the_programs_are_found():
    names = {path.name for path, _ in INVOCATIONS}
    assert {"render.py", "envs.py", "lint_workflows.py", "plan_offline.py", "apply_local.py", "doctor.py"} <= names
    assert ["check"] in [args for path, args in INVOCATIONS if path.name == "render.py"]


@pytest.mark.parametrize("flag", ["-h", "--help"])
@pytest.mark.parametrize(("path", "args"), INVOCATIONS,
                         ids=[" ".join([path.name, *args]) for path, args in INVOCATIONS])
def test_every_program_answers_help(path: Path, args: list[str], flag: str):
    result = subprocess.run([sys.executable, str(path), *args, flag], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    first = result.stdout.lstrip().splitlines()[0]
    assert re.match(rf"(?i)usage: {re.escape(path.name)}( {re.escape(' '.join(args))})?\b", first), first


def makefile_targets() -> list[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return re.findall(r"^([a-z][a-z-]*):(?!=)", text, flags=re.MULTILINE)


def test_make_help_lists_every_target():
    result = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True,
                            check=True)
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert listed == makefile_targets()
    assert "doctor" in listed
