"""Markdown from bench/results.json (and bench/pairs/*.json), and docs/performance.md's copy of it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .loadtest import TARGETS

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def machine() -> dict[str, object]:
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(int(meminfo["MemTotal"].split()[0]) / 2**20, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _kib(value: int) -> str:
    return f"{value / 1024:.0f} MiB"


def results_table(results: dict) -> str:
    http = results["http"]["project"]
    targets = http["targets"]
    lines = [
        targets_table(results),
        "",
        f"Machine: {results['machine']['cores']} cores, {results['machine']['memory_gib']} GiB, "
        f"load average {' / '.join(map(str, results['machine']['load_average']))} at the start and "
        f"{' / '.join(map(str, results['machine_after']['load_average']))} at the end "
        f"(shared with other work: compare within a run). "
        f"wrk {results['settings']['connections']} connections, {results['settings']['seconds']:g} s per run, "
        f"median of {results['settings']['rounds']} rounds.",
        "",
        "| target | req/s | p50 | p99 | non-2xx | req/s vs /healthz |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, label, _ in TARGETS:
        t = targets[key]
        lines.append(f"| {label} | {t['req_s']:,.0f} | {t['p50_ms']:.1f} ms | {t['p99_ms']:.1f} ms | "
                     f"{t['non2xx']} | {t['vs_healthz']:.3f} |")
    queries = results["queries_per_list_page"]
    cold = results["cold_start"]
    render = results["render"]
    memory = http["memory_kib_after_load"]
    lines += [
        "",
        "| measure | value |",
        "| --- | --- |",
        "| queries per list page, rows not cached / cached (10 / 100 / 1,000 TODOs) | "
        + " / ".join(f"{queries[k]['uncached']}, {queries[k]['cached']}" for k in ("10", "100", "1000")) + " |",
        f"| cold start to first 200 from /readyz: project / seed's entrypoint | {cold['project_s']:.2f} s / "
        f"{cold['seed_s']:.2f} s (ratio {cold['ratio']:.2f}) |",
        f"| gunicorn memory ({memory['gunicorn']['processes']} processes): RSS / PSS | "
        f"{_kib(memory['gunicorn']['rss_kib'])} / {_kib(memory['gunicorn']['pss_kib'])} |",
        f"| nginx memory ({memory['nginx']['processes']} processes): RSS / PSS | "
        f"{_kib(memory['nginx']['rss_kib'])} / {_kib(memory['nginx']['pss_kib'])} |",
        f"| gunicorn PSS after warm-up / after {http['requests_measured']:,} requests | "
        f"{_kib(http['memory_kib_after_warmup']['gunicorn']['pss_kib'])} / "
        f"{_kib(memory['gunicorn']['pss_kib'])} |",
        f"| log bytes per proxied request (stdout of nginx + gunicorn) | {http['log_bytes_per_proxied_request']:.0f} |",
        *in_process_rows(results.get("in_process")),
        f"| `render.py check`, committed environments | {render['committed_s']:.2f} s |",
        "| `render.py check`, 1 / 10 / 50 synthetic environments | "
        + " / ".join(f"{render['synthetic_s'][k]:.2f} s" for k in ("1", "10", "50"))
        + f" ({render['per_env_ms']:.0f} ms per environment) |",
    ]
    return "\n".join(lines)


def in_process_rows(timings: dict | None) -> list[str]:
    """Django's test client, 100 TODOs: what the list page adds to any logged-in request."""
    if not timings:
        return []
    return [
        f"| in-process ms per request, CPU / wall: {label} | "
        f"{timings[key]['cpu_ms']:.2f} / {timings[key]['wall_ms']:.2f} |"
        for key, label in (("healthz", "/healthz"), ("empty", "empty logged-in view"),
                           ("list", "list page, 100 TODOs"), ("list_share_ms", "the list page's own share"))
    ]


def targets_table(results: dict) -> str:
    """The issue's targets beside what this run measured."""
    http = results["http"]["project"]
    t = http["targets"]
    lists = [t["list100"], t["list1000"]]
    queries = results["queries_per_list_page"]
    worst_queries = max(max(q.values()) for q in queries.values())
    render = results["render"]
    rows = [
        ("list page req/s vs /healthz, same run", ">= 0.25", f"{min(x['vs_healthz'] for x in lists):.3f}",
         min(x["vs_healthz"] for x in lists) >= 0.25),
        ("list page p99 at 32 connections", "<= 100 ms", f"{max(x['p99_ms'] for x in lists):.0f} ms",
         max(x["p99_ms"] for x in lists) <= 100),
        ("list page non-2xx", "0", str(sum(x["non2xx"] for x in lists)), sum(x["non2xx"] for x in lists) == 0),
        ("/healthz p99 at 32 connections", "<= 20 ms", f"{t['healthz']['p99_ms']:.0f} ms",
         t["healthz"]["p99_ms"] <= 20),
        ("cold start vs the seed's entrypoint", "<= 0.15x", f"{results['cold_start']['ratio']:.2f}x",
         results["cold_start"]["ratio"] <= 0.15),
        ("queries per list page (10 / 100 / 1,000 TODOs)", "<= 3", str(worst_queries), worst_queries <= 3),
        ("`render.py check`, every environment", "< 0.5 s", f"{render['committed_s']:.2f} s",
         render["committed_s"] < 0.5),
        ("access log lines per proxied request", "1", f"{http['access_lines_per_proxied_request']:.2f}",
         round(http["access_lines_per_proxied_request"], 2) == 1),
    ]
    lines = ["| target | goal | measured | met |", "| --- | --- | ---: | --- |"]
    lines += [f"| {name} | {goal} | {value} | {'yes' if met else '**no**'} |" for name, goal, value, met in rows]
    return "\n".join(lines)


def pair_table(pair: dict) -> str:
    base, new = pair["variants"]
    a, b = pair["http"][base], pair["http"][new]
    lines = [
        f"**{pair['name']}**: {pair['description']} (`{base}` → `{new}`, paired runs, median of "
        f"{pair['settings']['rounds']} rounds, load average {' / '.join(map(str, pair['machine']['load_average']))})",
        "",
        f"| target | req/s {base} → {new} | p50 | p99 | non-2xx |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for key, label, _ in TARGETS:
        x, y = a["targets"][key], b["targets"][key]
        lines.append(f"| {label} | {x['req_s']:,.0f} → {y['req_s']:,.0f} | {x['p50_ms']:.1f} → {y['p50_ms']:.1f} ms | "
                     f"{x['p99_ms']:.1f} → {y['p99_ms']:.1f} ms | {x['non2xx']} → {y['non2xx']} |")
    ma, mb = a["memory_kib_after_load"]["gunicorn"], b["memory_kib_after_load"]["gunicorn"]
    lines.append(f"| gunicorn PSS / RSS | {_kib(ma['pss_kib'])} / {_kib(ma['rss_kib'])} → "
                 f"{_kib(mb['pss_kib'])} / {_kib(mb['rss_kib'])} | | | |")
    if "log_bytes_per_proxied_request" in a:
        lines.append(f"| log bytes per proxied request | {a['log_bytes_per_proxied_request']:.0f} → "
                     f"{b['log_bytes_per_proxied_request']:.0f} | | | |")
    if "cold_start" in pair:
        cs = pair["cold_start"]
        lines.append(f"| cold start to /readyz | {cs[base]:.2f} → {cs[new]:.2f} s | | | |")
    return "\n".join(lines)


def pairs_markdown() -> str:
    folder = ROOT / "bench" / "pairs"
    pairs = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.exists() else []
    return "\n\n".join(pair_table(pair) for pair in pairs)


def update_readme(markdown: str) -> bool:
    """Replaces the text between the bench markers of docs/performance.md; False when there are none."""
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        return False
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n{markdown}\n{END}{tail}", encoding="utf-8")
    return True
