"""Load from wrk on loopback: requests/s, latency percentiles and every non-2xx answer.

wrk's own summary counts 3xx as success (a logged-out page would "pass" as a redirect to the
login form); the Lua script counts every status outside 2xx, and socket errors apart.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from .procs import BenchError

SCRIPT = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local non2xx_total = 0
  for _, thread in ipairs(threads) do non2xx_total = non2xx_total + thread:get("non2xx") end
  local e = summary.errors
  io.write(string.format(
    '@@{"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, non2xx_total,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def require_wrk() -> str:
    found = shutil.which("wrk")
    if not found:
        raise BenchError("wrk is not installed: apt-get install -y wrk")
    return found


def run(url: str, *, seconds: float, connections: int, threads: int = 2,
        headers: dict[str, str] | None = None) -> dict[str, float]:
    """One wrk run; returns req_s, p50_ms, p99_ms, non2xx (statuses + socket errors)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(SCRIPT)
    try:
        args = [require_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s",
                "-s", script.name]
        for name, value in (headers or {}).items():
            args += ["-H", f"{name}: {value}"]
        # wrk stops itself after -d; the timeout only guards against a wedged process.
        result = subprocess.run([*args, url], capture_output=True, text=True, timeout=seconds + 30, check=False)
    finally:
        Path(script.name).unlink(missing_ok=True)
    line = next((x for x in result.stdout.splitlines() if x.startswith("@@")), None)
    if result.returncode != 0 or line is None:
        raise BenchError(f"wrk {url}: {(result.stderr or result.stdout).strip()[:300]}")
    raw = json.loads(line[2:])
    seconds_run = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "req_s": raw["requests"] / seconds_run if seconds_run else 0.0,
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "non2xx": raw["non2xx"] + raw["socket_errors"],
    }
