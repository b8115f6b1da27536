"""Liveness answered by gunicorn's master process, never by a request worker.

A sync worker serves one request at a time. During a database outage every worker can be
waiting on the database at once (a connect timeout, or a pooled connection to a vanished
primary until its TCP timeout), and a /healthz queued behind them misses the container health
check's 3 s: ECS would then replace healthy tasks, fleet-wide, for a 1-2 minute RDS failover.
More workers or threads (gthread) only make that less likely: /healthz would still wait for a
free one. So a thread in the master answers /healthz on a port of its own (gunicorn's port + 1,
127.0.0.1 only): the container health check calls it directly, and nginx forwards the load
balancer's /healthz to it.

It answers 200 when, and only when, gunicorn can still serve:
- the master runs: a dead master refuses the connection, a frozen one never answers (the
  callers' timeouts fail);
- at least one worker has shown its heartbeat within STALE_FACTOR x gunicorn's `timeout`.
  Workers touch a file between requests (every timeout/2 s when idle), and the master replaces
  one silent for `timeout` s, so longer silence from every worker means they neither serve nor
  get replaced.
It reads neither the database, the cache nor Django: a database outage cannot fail it.

Fork safety: the master forks workers while this thread runs. The thread holds no lock a child
could inherit held (no logging, no imports after start: only socket calls and os.fstat), and a
child closes its copy of the listening socket at once, so no worker keeps the port open after
the master is gone.
"""

from __future__ import annotations

import os
import socket
import threading
import time

STALE_FACTOR = 2
_RECV_TIMEOUT = 1.0  # one slow caller delays the next by at most this
_NO_WORKER_WAIT = 2.0
_PATHS = (b"/healthz", b"/healthz/")
_listeners: list[HealthListener] = []


def health_address(bind: str) -> tuple[str, int]:
    """The listener's address for gunicorn's `bind` (host:port): same host, next port."""
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"GUNICORN_BIND={bind!r}: expected HOST:PORT")
    return host.strip("[]") or "127.0.0.1", int(port) + 1


def _response(status: int, reason: str, body: bytes, head: bool) -> bytes:
    headers = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
    )
    return headers.encode() + (b"" if head else body)


class HealthListener:
    def __init__(self, arbiter, address: tuple[str, int]) -> None:
        self.arbiter = arbiter
        self.stale_after = STALE_FACTOR * max(arbiter.cfg.timeout, 1)
        self.sock = socket.create_server(address, backlog=64)
        self.address = self.sock.getsockname()[:2]
        self.closed = False
        self.thread = threading.Thread(target=self._serve, name="liveness", daemon=True)

    def start(self) -> None:
        _listeners.append(self)
        self.thread.start()

    def heartbeat_ages(self) -> list[float]:
        now = time.monotonic()
        ages = []
        for worker in list(self.arbiter.WORKERS.values()):
            try:
                ages.append(now - worker.tmp.last_update())
            except (OSError, ValueError):  # a worker being reaped
                continue
        return ages

    def status(self) -> tuple[int, str, bytes]:
        # At start the listener opens just before the first fork, and a worker being replaced
        # leaves none for a moment: wait for one (within the callers' 3 s), as a request to
        # gunicorn's own port would.
        deadline = time.monotonic() + _NO_WORKER_WAIT
        while not (ages := self.heartbeat_ages()) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not ages:
            return 503, "Service Unavailable", b"no worker"
        if min(ages) > self.stale_after:
            return 503, "Service Unavailable", b"no worker heartbeat for %ds" % min(ages)
        return 200, "OK", b"ok"

    def answer(self, request: bytes) -> bytes:
        method, _, rest = request.partition(b" ")
        path = rest.split(b" ", 1)[0].split(b"?", 1)[0]
        head = method == b"HEAD"
        if method not in (b"GET", b"HEAD"):
            return _response(405, "Method Not Allowed", b"", head)
        if path not in _PATHS:
            return _response(404, "Not Found", b"", head)
        return _response(*self.status(), head)

    def _serve(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                if not self.closed:
                    time.sleep(0.1)  # a transient error (too many open files): try again
                continue
            with conn:
                try:
                    conn.settimeout(_RECV_TIMEOUT)
                    conn.sendall(self.answer(conn.recv(2048)))
                except OSError:
                    pass

    def close(self) -> None:
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        except OSError:
            pass
        self.sock.close()


def start(arbiter, bind: str) -> HealthListener | None:
    """From gunicorn's when_ready hook. A port already taken is logged, not fatal: the health
    check then fails, which is what a broken listener should cause."""
    address = health_address(bind)
    try:
        listener = HealthListener(arbiter, address)
    except OSError as exc:
        arbiter.log.error("liveness listener could not bind %s:%s: %s", *address, exc)
        return None
    listener.start()
    arbiter.log.info("liveness on http://%s:%s/healthz", *listener.address)
    return listener


def _close_in_child() -> None:
    for listener in _listeners:
        listener.closed = True
        listener.sock.close()
    _listeners.clear()


os.register_at_fork(after_in_child=_close_in_child)
