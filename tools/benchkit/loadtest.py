"""The HTTP side of the bench: every variant's stack up at once, wrk runs interleaved.

Rounds alternate the order of the variants, so a burst of load from elsewhere on the machine
falls on both sides of a comparison; each figure is the median over rounds.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from . import wrk
from .stack import Services, Stack, Variant, run_app

# (key, label, TODOs of the logged-in user or None for anonymous)
TARGETS = [
    ("healthz", "/healthz", None),
    ("static", "static file (nginx)", None),
    ("list100", "list page, 100 TODOs", 100),
    ("list1000", "list page, 1,000 TODOs", 1000),
]
PROBE = Path(__file__).with_name("app_probe.py")
# nginx.conf buffers access lines and writes them at least once a second (flush=1s).
NGINX_LOG_FLUSH_S = 1.5


def seed_users(services: Services, app_dir: Path) -> None:
    for _, _, count in TARGETS:
        if count:
            run_app(services.python, app_dir, [str(PROBE), "seed", f"bench-{count}", str(count)],
                    {**services.env(), "BENCH_PASSWORD": services.password})


def measure(variants: list[Variant], services: Services, workdir: Path, *, rounds: int, seconds: float,
            connections: int, log=print) -> dict[str, dict]:
    stacks = [Stack(variant, services, workdir) for variant in variants]
    try:
        for stack in stacks:
            stack.start()
        plans = {}
        for stack in stacks:
            login = {count: stack.login(f"bench-{count}") for _, _, count in TARGETS if count}
            static = stack.static_path()
            plans[stack.variant.name] = {
                key: (f"{stack.base}{static if key == 'static' else '/healthz' if key == 'healthz' else '/'}",
                      login.get(count, {}))
                for key, _, count in TARGETS
            }
            for url, headers in plans[stack.variant.name].values():  # warm every worker
                wrk.run(url, seconds=2, connections=8, headers=headers)
        memory_before = {stack.variant.name: stack.memory() for stack in stacks}
        time.sleep(NGINX_LOG_FLUSH_S)  # the warm-up's access lines are written before counting starts
        log_start = {stack.variant.name: stack.log_bytes() for stack in stacks}
        runs: dict[str, dict[str, list[dict]]] = {s.variant.name: {k: [] for k, _, _ in TARGETS} for s in stacks}
        for round_index in range(rounds):
            order = stacks if round_index % 2 == 0 else stacks[::-1]
            for key, label, _ in TARGETS:
                for stack in order:
                    url, headers = plans[stack.variant.name][key]
                    result = wrk.run(url, seconds=seconds, connections=connections, headers=headers)
                    runs[stack.variant.name][key].append(result)
                    log(f"  round {round_index + 1}/{rounds} {stack.variant.name:>8} {label:<24} "
                        f"{result['req_s']:9.0f} req/s  p50 {result['p50_ms']:7.1f} ms  "
                        f"p99 {result['p99_ms']:7.1f} ms  non-2xx {result['non2xx']}")
        time.sleep(NGINX_LOG_FLUSH_S)  # and the last runs' lines before counting ends
        results = {}
        for stack in stacks:
            name = stack.variant.name
            summary = {key: _median(runs[name][key]) for key, _, _ in TARGETS}
            healthz = summary["healthz"]["req_s"] or 1
            for key in summary:
                summary[key]["vs_healthz"] = summary[key]["req_s"] / healthz
            requests = sum(r["requests"] for key in runs[name] for r in runs[name][key])
            # nginx logs no static file (access_log off there): per request that reached gunicorn.
            proxied = sum(r["requests"] for key in runs[name] if key != "static" for r in runs[name][key])
            results[name] = {
                "env": stack.variant.env,
                "targets": summary,
                "memory_kib_after_warmup": memory_before[name],
                "memory_kib_after_load": stack.memory(),
                "requests_measured": requests,
                "log_bytes_per_proxied_request": (stack.log_bytes() - log_start[name]) / proxied if proxied else 0,
                "access_lines_per_proxied_request": stack.access_lines(log_start[name]) / proxied if proxied else 0,
            }
        return results
    finally:
        for stack in stacks:
            stack.stop()


def _median(results: list[dict]) -> dict[str, float]:
    return {
        "req_s": statistics.median(r["req_s"] for r in results),
        "p50_ms": statistics.median(r["p50_ms"] for r in results),
        "p99_ms": statistics.median(r["p99_ms"] for r in results),
        "non2xx": sum(r["non2xx"] for r in results),
        "rounds": len(results),
    }
