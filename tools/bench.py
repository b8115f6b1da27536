#!/usr/bin/env python3
"""Time the renderer and the offline checks: medians of repeated runs, side by side in one process.

Run with `make bench`. Numbers vary with the machine's load; compare ratios within one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.render import Project, load, render_env  # noqa: E402
from infra.tfcheck import check_paths  # noqa: E402


def measure(label: str, work: Callable[[], object], runs: int) -> float:
    work()  # warm caches (schema load, imports) so runs compare like with like
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - start)
    tracemalloc.start()
    work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    median = statistics.median(seconds)
    print(f"{label:<34} median {median * 1000:8.1f} ms  min {min(seconds) * 1000:8.1f} ms  "
          f"peak Python memory {peak / 2**20:6.1f} MiB  ({runs} runs)")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    project = Project(ROOT)
    schema = ROOT / "schema" / "aws_provider.json"
    names = measure("names prod (load+validate+name)", lambda: load(project, "prod"), args.runs)
    render = measure("render prod (incl. terraform fmt)", lambda: render_env(project, "prod"), args.runs)
    lint = measure("lint modules/ + envs/", lambda: check_paths([ROOT / "modules", ROOT / "envs"], schema), args.runs)
    print(f"ratios: render/names {render / names:.1f}x, lint/render {lint / render:.2f}x")


if __name__ == "__main__":
    main()
