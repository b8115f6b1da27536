"""gunicorn settings, shared by the container image and `make serve`.

Keep-alive ordering, so that the side that reuses an idle connection never finds it closed
by the other side (the ALB would answer 502):
    ALB idle timeout (60 s) < nginx keepalive_timeout to clients (65 s)
    < nginx upstream keepalive_timeout (70 s) < gunicorn keepalive (75 s).
Each hop's server keeps an idle connection open longer than its client does.
"""

import gc
import os

from gunicorn import glogging

from config.env import Env

env = Env()

# Localhost only: nginx in the same task is the one client; nothing else reaches gunicorn.
bind = env.str("GUNICORN_BIND", "127.0.0.1:8000")

# Sync workers, one request at a time each, mostly CPU-bound. Measured (`tools/bench.py pair
# workers`): with the database on the same host, two per core served no more than one per
# core, for 40 % more memory; in the task the database and Redis are network round trips
# away, and a second worker per vCPU uses the CPU while the first one waits.
# The environments set GUNICORN_WORKERS from their task size; this default is for elsewhere.
# Sync workers stay although a database outage can keep all of them waiting: liveness does not
# need a worker (the master answers /healthz, config/liveness.py) and the database circuit
# (config/db/circuit.py) turns the wait into an immediate 503 after each worker's first failure.
# gthread would bound neither: /healthz would still queue for a free thread, and gunicorn's
# timeout no longer kills a request thread stuck on a dead socket. Measured (`tools/bench.py
# pair dboutage --base-ref <before>`, 3 paired rounds of 5 s, load average ~9 on 2 cores):
# list page with 100 TODOs 32 -> 30 req/s (0.94), with 1,000 TODOs 28 -> 29 req/s (1.04),
# i.e. no change beyond the noise; /healthz (now the master's) 509 -> 1,373 req/s.
workers = env.int("GUNICORN_WORKERS", min(2 * len(os.sched_getaffinity(0)), 8))
threads = env.int("GUNICORN_THREADS", 1)

# Import Django once in the master and fork the workers from it: they share the imported
# code's memory pages (lower PSS per worker) and a worker starts in milliseconds, which
# shortens cold start and any worker replacement.
preload_app = env.bool("GUNICORN_PRELOAD", True)


def when_ready(server) -> None:
    """In the master, after the preload and before the first fork: start the liveness
    listener (config/liveness.py: /healthz on gunicorn's port + 1, answered by the master, so a
    database outage that keeps every worker waiting cannot fail the health checks); load what
    Django would otherwise load lazily in every worker (config/warmup.py), then move every
    object loaded so far out of the garbage collector's sight (gc.freeze, as Python's gc
    documentation suggests before a fork), so a worker's collections do not write to, and so
    copy, the pages it shares with the master."""
    from config import liveness

    liveness.start(server, bind)
    if server.cfg.preload_app:
        from config.warmup import warm

        warm()
        gc.collect()
        gc.freeze()


# A worker stuck this long is killed and replaced; SIGTERM (ECS stop) waits graceful_timeout
# for in-flight requests, within ECS's default 30 s stopTimeout.
timeout = env.int("GUNICORN_TIMEOUT", 30)
graceful_timeout = env.int("GUNICORN_GRACEFUL_TIMEOUT", 25)
keepalive = env.int("GUNICORN_KEEPALIVE", 75)

# The heartbeat file lives in memory: the root file system is read-only and a disk-backed
# /tmp can stall workers under I/O pressure.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# gunicorn's runtime control socket would be created under $HOME, read-only in the task, and
# nothing here uses it.
control_socket_disable = True

# Worker recycling is off: a worker's memory stays flat under load (`make bench` records
# PSS before and after its runs), while max_requests=1000 restarted a worker every ~2 s at
# full load, each restart a stall that showed as the p99. Set GUNICORN_MAX_REQUESTS to turn
# it back on should a leak appear; the jitter keeps workers from restarting together.
max_requests = env.int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = env.int("GUNICORN_MAX_REQUESTS_JITTER", max(max_requests // 10, 0))

# nginx in front sets X-Forwarded-*; only trust it from loopback.
forwarded_allow_ips = env.str("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# nginx in front logs every request once (with its upstream timing and the request id);
# a second access line per request from gunicorn would only double the log bill.
# GUNICORN_ACCESS_LOG=1 turns it on where gunicorn runs without nginx.
# Both logs are JSON lines on stdout, the same formatter as Django's (config/logging.py).
accesslog = "-" if env.bool("GUNICORN_ACCESS_LOG", False) else None


class Logger(glogging.Logger):
    """gunicorn's logger, except that a logging dict alone does not turn the access log on
    (gunicorn would then build and format every request's atoms only to drop them)."""

    def _compute_access_log_enabled(self) -> bool:
        return bool(self.cfg.accesslog)


logger_class = Logger
errorlog = "-"
loglevel = env.str("GUNICORN_LOG_LEVEL", "info")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "config.logging.JsonFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
        }
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["stdout"], "level": "INFO"},
}

wsgi_app = "config.wsgi:application"
