#!/usr/bin/env python3
"""Scan Terraform folders with trivy's embedded checks, offline: zero failures that are not ignored inline.

The second scanner beside checkov (`make trivy`). Each folder is scanned by a trivy process of its
own, as `make checkov` scans each root alone: trivy then evaluates the root's module calls with
that root's values (dev keeps one day of database backups, prod fourteen), which one scan of
several roots would not separate.

Offline and reproducible: the checks are the ones embedded in the pinned trivy binary
(`--skip-check-update`, and a fresh cache folder, so no check bundle another trivy run downloaded
is picked up), no version check, no telemetry, no trivy.yaml and no .trivyignore. A finding is
accepted only by an inline comment beside its resource, `#trivy:ignore:AVD-AWS-NNNN <reason>`,
and an ignore without a reason is itself a failure.

    .venv/bin/python tools/trivy_scan.py [--trivy PATH] FOLDER ...

Prints one line per folder (passed, failed, and the inline ignores in the code it covers), then
each failure with its check, file and line. Exit status: 0 no failure, 1 a failure or an ignore
without a reason, 2 cannot run (no trivy, no such folder, trivy itself failed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TRIVY = ROOT / ".venv" / "bin" / "trivy"

# `#trivy:ignore:ID` (several may share a line), then the reason. trivy reads the words after the
# ignores as nothing; this project requires them. Trivy's own syntax: its documentation,
# "Misconfiguration scanning", "Skipping resources by inline comments".
IGNORE = re.compile(r"(?:#|//)\s*(?P<rules>(?:trivy:ignore:\S+\s*)+)(?P<reason>.*)$")
MIN_REASON_WORDS = 5
LOCAL_SOURCE = re.compile(r'^\s*source\s*=\s*"(?P<path>\.{1,2}/[^"]*)"', re.MULTILINE)


class CannotRun(Exception):
    """trivy or a folder is missing, or trivy failed without a report."""


@dataclass
class Ignore:
    file: Path
    line: int
    rules: list[str]
    reason: str


@dataclass
class Finding:
    check: str
    severity: str
    file: str
    line: int
    resource: str
    title: str


@dataclass
class FolderResult:
    folder: str
    passed: int = 0
    failed: list[Finding] = field(default_factory=list)
    ignores: list[Ignore] = field(default_factory=list)

    @property
    def unexplained(self) -> list[Ignore]:
        return [i for i in self.ignores if len(i.reason.split()) < MIN_REASON_WORDS]

    def summary(self) -> str:
        return (
            f"trivy {self.folder}: {self.passed} passed, {len(self.failed)} failed, "
            f"{len(self.ignores)} inline ignores in its code"
        )


def trivy_command(trivy: Path, folder: Path, cache_dir: Path) -> list[str]:
    return [
        str(trivy),
        "config",
        "--misconfig-scanners",
        "terraform",
        "--skip-check-update",  # the checks embedded in this trivy version
        "--cache-dir",
        str(cache_dir),  # empty: never a downloaded bundle instead of the embedded checks
        "--skip-version-check",
        "--disable-telemetry",
        "--config",
        "",  # no trivy.yaml
        "--ignorefile",
        "",  # no .trivyignore: findings are accepted inline only
        "--skip-dirs",
        "**/.terraform",
        "--format",
        "json",
        "--quiet",
        str(folder),
    ]


def scanned_files(folder: Path) -> list[Path]:
    """The .tf files under the folder and, recursively, those of the local modules they call."""
    files: set[Path] = set()
    visited: set[Path] = set()
    pending = [folder.resolve()]
    while pending:
        current = pending.pop()
        if current in visited:
            continue
        visited.add(current)
        for path in current.rglob("*.tf"):
            if ".terraform" in path.parts:
                continue
            files.add(path)
            for match in LOCAL_SOURCE.finditer(path.read_text(encoding="utf-8")):
                module = (path.parent / match["path"]).resolve()
                if module.is_dir():
                    pending.append(module)
    return sorted(files)


def ignores_in(files: list[Path]) -> list[Ignore]:
    found = []
    for path in files:
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = IGNORE.search(text)
            if match:
                rules = [r.removeprefix("trivy:ignore:") for r in match["rules"].split()]
                found.append(Ignore(path, number, rules, match["reason"].strip()))
    return found


def relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def findings_of(report: dict, folder: Path) -> tuple[int, list[Finding]]:
    passed, failed = 0, []
    for result in report.get("Results") or []:
        passed += (result.get("MisconfSummary") or {}).get("Successes", 0)
        for item in result.get("Misconfigurations") or []:
            if item.get("Status") != "FAIL":
                continue
            cause = item.get("CauseMetadata") or {}
            failed.append(
                Finding(
                    check=item.get("AVDID") or item["ID"],
                    severity=item.get("Severity", "UNKNOWN"),
                    file=relative(Path(os.path.normpath(folder / result["Target"]))),
                    line=cause.get("StartLine", 0),
                    resource=cause.get("Resource", ""),
                    title=item.get("Title", ""),
                )
            )
    return passed, failed


def scan(trivy: Path, folder: Path) -> FolderResult:
    if not folder.is_dir():
        raise CannotRun(f"{folder}: no such folder")
    with tempfile.TemporaryDirectory(prefix="trivy-cache-") as cache_dir:
        completed = subprocess.run(
            trivy_command(trivy, folder, Path(cache_dir)), capture_output=True, text=True, check=False
        )
    if completed.returncode != 0:
        raise CannotRun(f"trivy failed on {folder} (exit {completed.returncode}): {completed.stderr.strip()}")
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError as error:
        raise CannotRun(f"trivy wrote no JSON report for {folder}: {error}") from error
    passed, failed = findings_of(report, folder)
    return FolderResult(relative(folder), passed, failed, ignores_in(scanned_files(folder)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trivy", type=Path, default=DEFAULT_TRIVY, help="the trivy binary (default: .venv/bin/trivy)")
    parser.add_argument("folders", nargs="+", type=Path, help="Terraform roots or folders of modules")
    args = parser.parse_args(argv)
    if not os.access(args.trivy, os.X_OK):
        print(
            f"trivy_scan: {args.trivy}: no trivy binary (make setup installs it from requirements/tools.lock)",
            file=sys.stderr,
        )
        return 2
    # One trivy process per folder, as many at once as there are cores; reported in the given order.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = [pool.submit(scan, args.trivy, folder) for folder in args.folders]
    status = 0
    for future in futures:
        try:
            result = future.result()
        except CannotRun as error:
            print(f"trivy_scan: {error}", file=sys.stderr)
            return 2
        print(result.summary())
        for finding in result.failed:
            print(
                f"  FAIL {finding.check} {finding.severity} {finding.file}:{finding.line} "
                f"{finding.resource}: {finding.title}"
            )
        for ignore in result.unexplained:
            print(
                f"  IGNORE WITHOUT A REASON {relative(ignore.file)}:{ignore.line}: "
                f"write why after the ID, at least {MIN_REASON_WORDS} words"
            )
        if result.failed or result.unexplained:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
