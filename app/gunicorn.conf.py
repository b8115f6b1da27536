"""gunicorn settings, shared by the container image and `make serve`.

Keep-alive ordering, so that the side that reuses an idle connection never finds it closed
by the other side (the ALB would answer 502):
    ALB idle timeout (60 s) < nginx keepalive_timeout to clients (65 s)
    < nginx upstream keepalive_timeout (70 s) < gunicorn keepalive (75 s).
Each hop's server keeps an idle connection open longer than its client does.
"""

import multiprocessing
import os

from config.env import Env

env = Env()

# Localhost only: nginx in the same task is the one client; nothing else reaches gunicorn.
bind = env.str("GUNICORN_BIND", "127.0.0.1:8000")

# The usual 2 x cores + 1, capped so a large host does not exhaust database connections.
workers = env.int("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8))
threads = env.int("GUNICORN_THREADS", 1)

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

# Recycle workers now and then so slow leaks never accumulate; jitter avoids all at once.
max_requests = env.int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = env.int("GUNICORN_MAX_REQUESTS_JITTER", 100)

# nginx in front sets X-Forwarded-*; only trust it from loopback.
forwarded_allow_ips = env.str("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Both logs as JSON lines on stdout, the same formatter as Django's (config/logging.py).
accesslog = "-"
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
