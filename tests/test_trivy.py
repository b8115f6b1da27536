"""`make trivy`: trivy's embedded checks over each root and modules/, offline, zero failed.

The insecure snippet proves the check can fail (and that an ignore needs its reason, and that a
.trivyignore file accepts nothing); the project's own scan proves every root passes as committed.
Each trivy run over a small folder takes about a second, the project's scan about ten.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TRIVY = ROOT / ".venv" / "bin" / "trivy"
SCAN = ROOT / "tools" / "trivy_scan.py"
PYTHON = ROOT / ".venv" / "bin" / "python"

pytestmark = pytest.mark.skipif(not TRIVY.exists(), reason="no .venv/bin/trivy: run make setup")

# An SNS topic without a key: AVD-AWS-0095 (HIGH) in every trivy version that has the check.
TOPIC = 'resource "aws_sns_topic" "alerts" {\n  name = "alerts"\n}\n'
REASON = "The reason why this topic may stay unencrypted, in a whole sentence."


def make_trivy(*folders: Path, offline: bool = False) -> subprocess.CompletedProcess[str]:
    """`make trivy` over these folders (none: its default, every root and modules/)."""
    command = ["make", "-s", "trivy", *([f"TRIVY_DIRS={' '.join(str(f) for f in folders)}"] if folders else [])]
    if offline:  # a network namespace of its own, with nothing but loopback
        command = ["unshare", "--map-root-user", "--net", *command]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def root_with(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "root"
    folder.mkdir()
    (folder / "main.tf").write_text(text, encoding="utf-8")
    return folder


def test_an_insecure_resource_fails_the_target(tmp_path: Path):
    result = make_trivy(root_with(tmp_path, TOPIC))
    assert result.returncode != 0, result.stdout
    assert re.search(r": \d+ passed, 1 failed, 0 inline ignores", result.stdout), result.stdout
    assert re.search(r"FAIL AWS-0095 HIGH .*main\.tf:1 aws_sns_topic\.alerts", result.stdout), result.stdout


def test_an_inline_ignore_with_its_reason_accepts_the_finding(tmp_path: Path):
    result = make_trivy(root_with(tmp_path, f"#trivy:ignore:AVD-AWS-0095 {REASON}\n{TOPIC}"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r": \d+ passed, 0 failed, 1 inline ignores in its code$", result.stdout.strip()), result.stdout


def test_an_ignore_without_a_reason_fails(tmp_path: Path):
    result = make_trivy(root_with(tmp_path, f"#trivy:ignore:AVD-AWS-0095\n{TOPIC}"))
    assert result.returncode != 0
    assert re.search(r"IGNORE WITHOUT A REASON .*main\.tf:1", result.stdout), result.stdout


def test_neither_a_trivyignore_file_nor_a_trivy_config_accepts_a_finding(tmp_path: Path):
    """trivy reads both from its working folder by default; the scan reads neither."""
    folder = root_with(tmp_path, TOPIC)
    (folder / ".trivyignore").write_text("AVD-AWS-0095\n", encoding="utf-8")
    (folder / "trivy.yaml").write_text("severity: [CRITICAL]\n", encoding="utf-8")
    result = subprocess.run([str(PYTHON), str(SCAN), "--trivy", str(TRIVY), "."], cwd=folder,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "FAIL AWS-0095 HIGH" in result.stdout, result.stdout + result.stderr


def test_every_root_and_the_modules_pass_offline():
    """What `make check` runs, in a network namespace without a route anywhere: no download."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-rn", "true"], check=False).returncode:
        pytest.skip("unshare cannot make a network namespace here")
    result = make_trivy(offline=True)
    assert result.returncode == 0, result.stdout + result.stderr
    expected = [f"envs/{e}" for e in ("dev", "stg", "prod")] + [f"envs/bootstrap/{e}" for e in ("dev", "stg", "prod")]
    summaries = dict(re.findall(r"^trivy (\S+): (\d+ passed, 0 failed, \d+ inline ignores in its code)$",
                                result.stdout, flags=re.MULTILINE))
    assert set(summaries) == {*expected, "modules"}, result.stdout
    for folder, summary in summaries.items():
        assert int(summary.split()[0]) > 50, (folder, summary)  # the checks ran, not zero of them


def test_no_ignore_file_or_trivy_config_in_the_repository():
    # Findings are accepted inline only, beside their resource, each with its reason.
    assert not (ROOT / ".trivyignore").exists() and not (ROOT / ".trivyignore.yaml").exists()
    assert not (ROOT / "trivy.yaml").exists()


