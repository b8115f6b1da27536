#!/usr/bin/env python3
"""Measure the serving stack, the start and the renderer, side by side in one run.

    bench.py                 everything: bench/results.json, a Markdown table, docs/performance.md's copy
    bench.py pair NAME ...   one tuning change, before and after, in paired runs
                             (bench/pairs/NAME.json)

Loopback only; every loop is bounded in count and time. Needs DATABASE_URL (PostgreSQL) and
REDIS_URL (the stack runs against them, on a scratch database it drops afterwards), nginx and
wrk (Debian: apt-get install -y nginx wrk). Numbers vary with the machine's load: compare within
one run, never across runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchkit import (  # noqa: E402
    coldstart,
    loadtest,  # noqa: E402
    renderbench,
    report,
)
from benchkit.procs import BenchError  # noqa: E402
from benchkit.stack import Stack, Variant, scratch_services  # noqa: E402
from benchkit.wrk import require_wrk  # noqa: E402

APP = ROOT / "app"
APP_PYTHON = APP / ".venv" / "bin" / "python"
RESULTS = ROOT / "bench" / "results.json"
PAIRS = ROOT / "bench" / "pairs"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def preflight() -> None:
    require_wrk()
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        raise BenchError("nginx is not installed: apt-get install -y nginx")
    if not APP_PYTHON.exists():
        raise BenchError("app/.venv is missing: run `make setup`")


def cold_starts(variant: Variant, services, workdir: Path, rounds: int, with_seed: bool) -> dict[str, float]:
    stack = Stack(variant, services, workdir)
    stack.start()  # collects static files and checks the config; then stopped for a cold start
    stack.stop()
    project, seed = [], []
    for index in range(rounds):
        project.append(coldstart.project_start(stack))
        if with_seed:
            seed.append(coldstart.seed_start(stack))
        log(f"  cold start {index + 1}/{rounds}: project {project[-1]:.2f} s"
            + (f", seed's entrypoint {seed[-1]:.2f} s" if with_seed else ""))
    result = {"project_s": statistics.median(project)}
    if with_seed:
        result["seed_s"] = statistics.median(seed)
        result["ratio"] = result["project_s"] / result["seed_s"]
    return result


def full(args: argparse.Namespace) -> None:
    preflight()
    results: dict = {"machine": report.machine(), "settings": {
        "rounds": args.rounds, "seconds": args.seconds, "connections": args.connections}}
    variant = Variant("project", APP)
    with tempfile.TemporaryDirectory(prefix="bench-") as folder, \
            scratch_services(str(APP_PYTHON), APP) as services:
        workdir = Path(folder)
        log("render.py check (committed, then 1, 10 and 50 synthetic environments)")
        results["render"] = renderbench.measure(runs=args.render_runs)
        log("queries per list page")
        out = subprocess.run([str(APP_PYTHON), str(loadtest.PROBE), "queries", "10", "100", "1000"], cwd=APP,
                             env=_app_env(services), capture_output=True, text=True, timeout=600, check=False)
        if out.returncode != 0:
            raise BenchError(f"query count: {out.stderr.strip()[-300:]}")
        results["queries_per_list_page"] = json.loads(out.stdout)
        log("in-process cost per list page, beside an empty logged-in view")
        results["in_process"] = in_process(services)
        log("HTTP through nginx -> gunicorn")
        loadtest.seed_users(services, APP)
        results["http"] = loadtest.measure([variant], services, workdir, rounds=args.rounds,
                                             seconds=args.seconds, connections=args.connections, log=log)
        log("cold start")
        results["cold_start"] = cold_starts(variant, services, workdir, args.cold_rounds, with_seed=True)
        if not args.no_images:
            results["images"] = image_figures(services)
    results["machine_after"] = report.machine()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    markdown = report.results_table(results)
    if "images" in results:
        markdown += "\n\n" + image_markdown(results["images"])
    print(markdown)
    if not args.no_readme:
        pairs = report.pairs_markdown()
        section = markdown + ("\n\nTuning changes, each measured before and after in paired runs "
                              "(`tools/bench.py pair`):\n\n" + pairs if pairs else "")
        if report.update_readme(section):
            log("docs/performance.md: tables updated")
        if "images" in results and "skipped" not in results["images"]:
            from imagekit import bench as imagebench

            imagebench.update_readme(image_markdown(results["images"]))


def image_figures(services) -> dict:
    """The images (tools/imagekit/bench.py) beside the seed's, on this run's scratch database;
    skipped, with the reason in the results, where containers cannot run."""
    from imagekit import bench as imagebench
    from imagekit.podman import ImageError, unavailable_reason

    if reason := unavailable_reason():
        log(f"images: skipped ({reason})")
        return {"skipped": reason}
    log("images: build, sizes and start, beside the seed's image")
    try:
        return imagebench.measure(services.database_url, services.redis_url)
    except ImageError as exc:
        raise BenchError(f"images: {exc}") from exc


def image_markdown(figures: dict) -> str:
    from imagekit import bench as imagebench

    if "skipped" in figures:
        return f"Images: not measured ({figures['skipped']})."
    return imagebench.markdown(figures)


def in_process(services, todos: int = 100, requests: int = 200) -> dict[str, dict[str, float]]:
    """ms per request through Django's test client (every middleware, no server): the list page
    beside a view that only needs the logged-in user, so the page's own share shows."""
    out = subprocess.run([str(APP_PYTHON), str(loadtest.PROBE), "inprocess", str(todos), str(requests)], cwd=APP,
                         env=_app_env(services), capture_output=True, text=True, timeout=600, check=False)
    if out.returncode != 0:
        raise BenchError(f"in-process timing: {out.stderr.strip()[-300:]}")
    return json.loads(out.stdout)


def _app_env(services) -> dict[str, str]:
    from benchkit.stack import base_env

    return base_env(APP, services.python, {**services.env(), "BENCH_PASSWORD": services.password})


def _parse_env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise BenchError(f"--env {pair!r}: expected NAME=VALUE")
        env[name] = value
    return env


def _export(ref: str, folder: Path) -> Path:
    """The app/ folder of a git revision, to measure it beside this tree."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "app"], capture_output=True, timeout=120,
                             check=False)
    if archive.returncode != 0:
        raise BenchError(f"git archive {ref}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True, timeout=120)
    return folder / "app"


def pair(args: argparse.Namespace) -> None:
    preflight()
    with tempfile.TemporaryDirectory(prefix="bench-pair-") as folder, \
            scratch_services(str(APP_PYTHON), APP) as services:
        workdir = Path(folder)
        base_dir = Path(args.base_dir).resolve() if args.base_dir else _export(args.base_ref, workdir) \
            if args.base_ref else APP
        new_dir = Path(args.new_dir).resolve() if args.new_dir else APP
        variants = [Variant("before", base_dir, _parse_env(args.base_env)),
                    Variant("after", new_dir, _parse_env(args.env))]
        loadtest.seed_users(services, APP)
        result = {
            "name": args.name,
            "description": args.description,
            "machine": report.machine(),
            "settings": {"rounds": args.rounds, "seconds": args.seconds, "connections": args.connections,
                         "base_ref": args.base_ref, "base_dir": bool(args.base_dir)},
            "variants": [v.name for v in variants],
            "http": loadtest.measure(variants, services, workdir, rounds=args.rounds, seconds=args.seconds,
                                       connections=args.connections, log=log),
        }
        if args.cold_start:
            result["cold_start"] = {v.name: cold_starts(v, services, workdir, args.cold_rounds, False)["project_s"]
                                    for v in variants}
    PAIRS.mkdir(parents=True, exist_ok=True)
    (PAIRS / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(report.pair_table(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="wrk rounds per target (default 3)")
    parser.add_argument("--seconds", type=float, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--cold-rounds", type=int, default=3)
    sub = parser.add_subparsers(dest="command")
    parser.add_argument("--render-runs", type=int, default=5)
    parser.add_argument("--no-readme", action="store_true", help="do not update docs/performance.md's table")
    parser.add_argument("--no-images", action="store_true", help="skip building and starting the images")
    paired = sub.add_parser("pair", help="before/after of one change, in paired runs")
    paired.add_argument("name")
    paired.add_argument("--description", default="")
    paired.add_argument("--base-ref", help="measure app/ of this git revision as 'before'")
    paired.add_argument("--base-dir", help="measure this app folder as 'before' (an edited copy)")
    paired.add_argument("--new-dir", help="measure this app folder as 'after' (default: this tree's)")
    paired.add_argument("--base-env", action="append", default=[], metavar="NAME=VALUE")
    paired.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    paired.add_argument("--cold-start", action="store_true", help="also time each variant's cold start")
    args = parser.parse_args()
    # A stop (Ctrl-C, SIGTERM) still runs the clean-ups: stacks stopped, scratch database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        pair(args) if args.command == "pair" else full(args)
    except BenchError as exc:
        sys.exit(f"bench: {exc}")


if __name__ == "__main__":
    main()
