"""PostgreSQL and Redis servers of a test's own (own data folder, own port), for tests that
stop them: the machine's shared services are never touched.

PostgreSQL comes from the machine's server binaries (initdb and pg_ctl on PATH, next to
`postgres`, or under /usr/lib/postgresql/*/bin), run as the `postgres` user when the tests run
as root (PostgreSQL refuses root). Local connections are trusted: these tests stop servers,
they do not test passwords.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from tests.helpers import free_port, require, wait_for_port


def server_binary(name: str) -> str | None:
    if found := shutil.which(name):
        return found
    candidates = []
    if postgres := shutil.which("postgres"):
        candidates += [Path(postgres).parent, Path(postgres).resolve().parent]
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for directory in candidates:
        if os.access(directory / name, os.X_OK):
            return str(directory / name)
    return None


class PrivatePostgres:
    """initdb once; start() and stop() as often as a test likes, always on the same port."""

    def __init__(self, host: str = "127.0.0.1", prefix: tuple[str, ...] = ()) -> None:
        """`prefix` runs the server's commands through another (nsenter: in a network
        namespace); `host` is the one address it listens on."""
        self.host = host
        self.initdb, self.pg_ctl = server_binary("initdb"), server_binary("pg_ctl")
        require(
            bool(self.initdb and self.pg_ctl), "PostgreSQL server binaries (initdb, pg_ctl) missing"
        )
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                require(False, "running as root and there is no `postgres` user to run PostgreSQL")
            require(shutil.which("runuser") is not None, "running as root and runuser is missing")
            self.as_postgres = [shutil.which("runuser"), "-u", "postgres", "--"]
        self.as_postgres = [*prefix, *self.as_postgres]
        self.root = Path(tempfile.mkdtemp(prefix="fault-pg-"))
        self.data, self.log = self.root / "data", self.root / "server.log"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(self.initdb, "-D", str(self.data), "--auth=trust", "--username=postgres",
                  "--encoding=UTF8", "--locale=C", "--no-sync")  # fmt: skip

    @property
    def url(self) -> str:
        return f"postgres://postgres@{self.host}:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [*self.as_postgres, *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{Path(args[0]).name} failed: {result.stdout}{result.stderr}{log}")
        return result

    def start(self) -> None:
        options = f"-p {self.port} -k {shlex.quote(str(self.root))} -c listen_addresses={self.host}"
        self._run(self.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "-t", "60", "start", timeout=90)  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def remove(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """redis-server on its own port; its data survives stop()/start() (append-only file), as
    a replica's would across a failover, so a test can see what a restart brings back."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        require(self.binary is not None, "redis-server is not installed")
        self.root = Path(tempfile.mkdtemp(prefix="fault-redis-"))
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root),
                "--save", "", "--appendonly", "yes", "--appendfsync", "always"]  # fmt: skip
        self.proc = subprocess.Popen(
            [self.binary, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port, timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)

    def freeze(self) -> None:
        """The process stops answering but its socket stays open: clients time out."""
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def remove(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)
