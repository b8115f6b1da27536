"""The AWS API emulator (moto's server, pinned in requirements/tools.lock) on a loopback port.

The process runs tools/emulator_server.py: moto's server with the declared patches applied.

One server process per run: started on a free 127.0.0.1 port, asked for readiness over HTTP,
stopped by its own PID (never by name or port, so another program on the machine is never
touched). Its PID and port are kept in a small JSON file so that `make apply-local` can
leave the emulated stack up and `make destroy-local` can find it again.

Liveness is an STS GetCallerIdentity call, which moto answers from its account setting (the
placeholder keys belong to no emulated user), whatever the emulated account holds; moto's own
/moto-api/data.json serialises every stored resource and fails (HTTP 500) once some kinds
exist, as a full environment has them.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

# Placeholder credentials: moto accepts any; real ones must never reach a local run.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
# Variables that could point the AWS SDKs at a real account or a profile: removed from every call.
REAL_ACCOUNT_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
                          "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_STS")
START_TIMEOUT = 60.0
# One liveness call: a connection is refused at once when nothing listens; a stopped or wedged
# process accepts it (the kernel's backlog) and never replies, which the read timeout ends.
PROBE_TIMEOUT = 5.0
# moto's server with the declared patches (tools/emulator_gaps.py, SERVER_PATCHES).
SERVER = Path(__file__).resolve().parent / "emulator_server.py"


class EmulatorError(Exception):
    """The emulator could not be started or reached."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Emulator:
    pid: int
    port: int
    account_id: str

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client_env(self, region: str) -> dict[str, str]:
        """Variables that send the AWS SDKs (and so Terraform's provider) to this emulator only."""
        env = {k: v for k, v in os.environ.items() if k not in REAL_ACCOUNT_VARIABLES}
        env.update(CREDENTIALS)
        env.update({"AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
                    "AWS_EC2_METADATA_DISABLED": "true"})
        return env

    def boto3_client(self, service: str, region: str, config=None):
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, region_name=region, config=config,
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            aws_session_token="testing")

    # ---- lifetime -------------------------------------------------------------------

    @classmethod
    def start(cls, account_id: str, log: Path) -> Emulator:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in REAL_ACCOUNT_VARIABLES}
        env.update({
            # The account the roots' allowed_account_ids name, so the provider accepts it.
            "MOTO_ACCOUNT_ID": account_id,
            # AWS managed policies (AmazonECSTaskExecutionRolePolicy...) exist only when loaded.
            "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
        })
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            proc = subprocess.Popen([sys.executable, str(SERVER), "-H", "127.0.0.1", "-p", str(port)],
                                    env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        emulator = cls(proc.pid, port, account_id)
        deadline = time.monotonic() + START_TIMEOUT
        while not emulator.answers():
            if proc.poll() is not None:
                raise EmulatorError(f"the emulator exited with status {proc.returncode} at start; see {log}")
            if time.monotonic() > deadline:
                emulator.stop()
                raise EmulatorError(f"the emulator did not answer within {START_TIMEOUT:.0f}s; see {log}")
            time.sleep(0.2)
        return emulator

    def answers(self) -> bool:
        """The emulator serves AWS calls, as the emulated account (one STS call, no retry)."""
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        sts = self.boto3_client("sts", "us-east-1", config=Config(
            connect_timeout=PROBE_TIMEOUT, read_timeout=PROBE_TIMEOUT, retries={"total_max_attempts": 1}))
        try:
            return sts.get_caller_identity().get("Account") == self.account_id
        except (BotoCoreError, ClientError, OSError):
            return False

    def is_ours(self) -> bool:
        """The PID is still a moto server started by us (not a reused PID of another program)."""
        try:
            cmdline = Path(f"/proc/{self.pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return str(SERVER).encode() in cmdline and str(self.port).encode() in cmdline

    def alive(self) -> bool:
        return self.is_ours() and self.answers()

    def stop(self, timeout: float = 10.0) -> None:
        if not self.is_ours():
            return
        os.kill(self.pid, signal.SIGTERM)
        os.kill(self.pid, signal.SIGCONT)  # a stopped process acts on SIGTERM only once it runs again
        deadline = time.monotonic() + timeout
        while self.is_ours() and time.monotonic() < deadline:
            try:  # reap it when it is our own child
                os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.1)
        if self.is_ours():
            os.kill(self.pid, signal.SIGKILL)
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass

    # ---- the record between commands --------------------------------------------------

    def save(self, path: Path, **extra: str) -> None:
        """The record: PID, port and account, plus what the caller keeps beside them."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({**asdict(self), **extra}) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Emulator | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(int(data["pid"]), int(data["port"]), str(data["account_id"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
