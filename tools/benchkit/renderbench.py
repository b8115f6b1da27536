"""`render.py check` of 1, 10 and 50 synthetic environments, and of the committed ones.

Each synthetic environment is dev's env.yaml with a network of its own, in a copy of the
project's renderer inputs; they are rendered once, then `check` is timed as a person runs it
(a new process, imports included).
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .procs import BenchError

ROOT = Path(__file__).resolve().parents[2]


def _synthetic_project(folder: Path, count: int) -> list[str]:
    names = [f"syn{index:03d}" for index in range(count)]
    naming = (ROOT / "naming.yaml").read_text(encoding="utf-8")
    naming, found = re.subn(r"(?m)^(  env: )\[[^\]]*\]", lambda m: m[1] + "[" + ", ".join(names) + "]", naming,
                            count=1)
    if not found:
        raise BenchError("naming.yaml: labels.env not found where expected")
    (folder / "naming.yaml").write_text(naming, encoding="utf-8")
    shutil.copytree(ROOT / "templates", folder / "templates")
    (folder / "envs" / "bootstrap").mkdir(parents=True)
    shutil.copy(ROOT / "envs" / "common.yaml", folder / "envs" / "common.yaml")
    dev = (ROOT / "envs" / "dev" / "env.yaml").read_text(encoding="utf-8")
    for index, name in enumerate(names):
        (folder / "envs" / name).mkdir()
        network = f"network:\n  cidr: 10.{index % 250}.0.0/16\n"
        (folder / "envs" / name / "env.yaml").write_text(dev.replace("network:\n", network, 1), encoding="utf-8")
    return names


def _render_all(folder: Path, names: list[str]) -> None:
    sys.path.insert(0, str(ROOT))
    from infra.render import Project, render_envs, write

    project = Project(folder)
    rendered, problems = render_envs(project, names)
    if problems:
        raise BenchError(f"synthetic environments: {problems[0]}")
    for name in names:
        write(project, name, rendered[name])


def time_check(root: Path | None, runs: int) -> float:
    """Median seconds of `render.py check` (every environment), as a new process each run."""
    args = [sys.executable, str(ROOT / "render.py")] + (["--root", str(root)] if root else []) + ["check"]
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
        seconds.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise BenchError(f"render.py check failed: {result.stderr.strip()[:300]}")
    return statistics.median(seconds)


def measure(counts: tuple[int, ...] = (1, 10, 50), runs: int = 5) -> dict[str, object]:
    result: dict[str, object] = {"committed_s": time_check(None, runs), "synthetic_s": {}}
    for count in counts:
        with tempfile.TemporaryDirectory(prefix="bench-render-") as folder:
            names = _synthetic_project(Path(folder), count)
            _render_all(Path(folder), names)
            result["synthetic_s"][str(count)] = time_check(Path(folder), runs)
    synthetic = result["synthetic_s"]
    low, high = min(counts), max(counts)
    result["per_env_ms"] = (synthetic[str(high)] - synthetic[str(low)]) / (high - low) * 1000
    return result
