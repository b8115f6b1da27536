"""The terraform binary: which one every tool runs, and `terraform fmt` (which needs no provider)."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .errors import RenderError

# The roots' required_version: where every tool learns which terraform it needs.
VERSIONS_TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "versions.tf.j2"
INSTALL_HINT = "https://developer.hashicorp.com/terraform/install"


def required_version(template: Path = VERSIONS_TEMPLATE) -> str:
    """The lowest terraform the rendered roots accept (`required_version = ">= X"`)."""
    match = re.search(r'required_version\s*=\s*">=\s*([0-9.]+)"', template.read_text(encoding="utf-8"))
    if not match:
        raise RenderError(f"{template.name}: no required_version \">= X\" found")
    return match[1]


def _numbers(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@functools.cache
def installed_version(binary: str) -> str | None:
    """`terraform version` of a binary ("1.11.4"), or None when it does not answer like terraform."""
    try:
        result = subprocess.run([binary, "version"], capture_output=True, text=True, env=_env(), timeout=60,
                                check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"Terraform v(\d+\.\d+\.\d+)", result.stdout)
    return match[1] if match else None


def terraform_binary() -> str:
    """$TERRAFORM, else terraform on PATH, when it is at least the roots' required_version.

    Every tool that runs terraform asks here, so that an old terraform earlier on PATH stops it
    with one line saying which version it needs and which it found, not with an error of
    terraform about an argument it does not know.
    """
    needed = required_version()
    binary = os.environ.get("TERRAFORM") or shutil.which("terraform")
    if not binary:
        raise RenderError(f"terraform: not found on PATH; install Terraform >= {needed} ({INSTALL_HINT})")
    found = installed_version(binary)
    if found is None:
        raise RenderError(f"terraform: {binary} does not report a version; need Terraform >= {needed} ({INSTALL_HINT})")
    if _numbers(found) < _numbers(needed):
        raise RenderError(f"terraform: {binary} is {found}; the roots need >= {needed} ({INSTALL_HINT})")
    return binary


def _env() -> dict[str, str]:
    # No CLI config file is needed to format; point at an empty one so terraform does not warn.
    return {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}


def fmt_text(text: str, label: str) -> str:
    """`terraform fmt` of one file's text."""
    return fmt_texts({label: text})[label]


# `on DIR/0003.tf line 2, ...` names the file of each diagnostic that follows an `Error: ...` line.
_DIAGNOSTIC_FILE = re.compile(r"^\s*on (?:.*/)?(\d+)\.tf line \d+")


def fmt_texts(texts: dict[str, str]) -> dict[str, str]:
    """`terraform fmt` of many files' text in one subprocess: label -> formatted text.

    One call over a temporary folder costs what one file costs (the process start dominates),
    so rendering stays linear in files without paying a terraform start per file. Every file
    is named `.tf`, as `terraform fmt -` treats its input, so the output is the same.
    Raises one problem per file that does not parse, naming its label.
    """
    labels = list(texts)
    if not labels:
        return {}
    with tempfile.TemporaryDirectory(prefix="render-fmt-") as folder:
        paths = [Path(folder) / f"{index:05d}.tf" for index in range(len(labels))]
        for path, label in zip(paths, labels, strict=True):
            path.write_text(texts[label], encoding="utf-8")
        result = subprocess.run([terraform_binary(), "fmt", "-no-color", "-list=false", folder],
                                capture_output=True, text=True, env=_env(), check=False)
        if result.returncode != 0:
            raise RenderError(_fmt_problems(result.stderr, labels))
        return {label: path.read_text(encoding="utf-8") for path, label in zip(paths, labels, strict=True)}


def _fmt_problems(stderr: str, labels: list[str]) -> list[str]:
    """One line per file terraform could not format: `label: terraform fmt failed: Error: ...`."""
    problems: dict[str, str] = {}
    summary = ""
    for line in stderr.splitlines():
        text = line.strip("│╷╵ ")
        if text.startswith("Error: "):
            summary = text
        elif (match := _DIAGNOSTIC_FILE.match(text)) and int(match[1]) < len(labels):
            problems.setdefault(labels[int(match[1])], summary or "unknown error")
    if not problems:
        first = next((line.strip("│╷╵ ") for line in stderr.splitlines() if line.strip("│╷╵ ")), "unknown error")
        return [f"terraform fmt failed: {first}"]
    return [f"{label}: terraform fmt failed: {summary}" for label, summary in problems.items()]


# One folder per call: `terraform fmt` takes a single DIR.
def fmt_write(paths: list[Path]) -> None:
    """`terraform fmt -recursive` in place."""
    for path in paths:
        result = subprocess.run([terraform_binary(), "fmt", "-recursive", "-no-color", str(path)],
                                capture_output=True, text=True, env=_env(), check=False)
        if result.returncode != 0:
            raise RenderError(f"{path}: terraform fmt failed: {result.stderr.strip()}")


def fmt_check(paths: list[Path]) -> list[str]:
    """Files `terraform fmt -check -recursive` would change."""
    changed: list[str] = []
    for path in paths:
        result = subprocess.run([terraform_binary(), "fmt", "-check", "-recursive", "-no-color", str(path)],
                                capture_output=True, text=True, env=_env(), check=False)
        if result.returncode != 0:
            listed = [line for line in result.stdout.splitlines() if line.strip()]
            changed.extend(listed or [f"{path}: {result.stderr.strip() or 'terraform fmt -check failed'}"])
    return changed
