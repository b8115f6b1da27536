"""`podman build` of app/Dockerfile's two targets (and the seed's image for the bench)."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from . import bases
from .podman import ROOT, log, podman

APP_DIR = ROOT / "app"
TARGETS = {"app": "localhost/todo-app:local", "proxy": "localhost/todo-proxy:local"}
CA_BUNDLE_ARG = "RDS_CA_BUNDLE_URL"
CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
PROBE_TIMEOUT = 5


def _reachable(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT) as response:
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def ca_bundle() -> Iterator[tuple[dict[str, str], str | None]]:
    """The build argument for the RDS CA bundle: AWS's URL when it answers; otherwise a loopback
    server handing out a stand-in (this machine's CA bundle under a comment saying so), which
    buildah fetches like the real one. The app only reads the bundle when DATABASE_URL names
    it (sslrootcert=), which a local run does not."""
    if _reachable(CA_BUNDLE_URL):
        yield {}, None
        return
    host_bundle = Path(os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt")
    body = (f"# STAND-IN for {CA_BUNDLE_URL} (unreachable at build time): this build machine's\n"
            f"# CA bundle. Not for use against RDS.\n").encode() + \
        (host_bundle.read_bytes() if host_bundle.exists() else b"")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the stdlib's name)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Last-Modified", self.date_time_string(0))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/global-bundle.pem"
    try:
        yield {CA_BUNDLE_ARG: url}, f"STAND-IN {CA_BUNDLE_ARG}={url}: {CA_BUNDLE_URL} is unreachable; " \
                                    "the app image carries this machine's CA bundle at that path instead"
    finally:
        server.shutdown()
        server.server_close()


def host_ca_volumes(folder: Path) -> list[str]:
    """pip inside the build verifies PyPI against certifi's bundle; behind a TLS-inspecting proxy
    (this machine's own bundle configured for pip) it needs that bundle. Both reach the RUN steps
    as root's home, a folder every base has: a mount at a path the image lacks would leave an
    empty file or folder in the layer, a mount here leaves nothing."""
    bundle = os.environ.get("PIP_CERT") or ""
    if not bundle or not Path(bundle).is_file():
        return []
    (folder / ".config" / "pip").mkdir(parents=True, exist_ok=True)
    (folder / "host-ca.pem").write_bytes(Path(bundle).read_bytes())
    (folder / ".config" / "pip" / "pip.conf").write_text("[global]\ncert = /root/host-ca.pem\n")
    return ["--volume", f"{folder}:/root"]


def build(targets: list[str] | None = None, cache: bool = True) -> dict[str, object]:
    """Builds the targets; returns the seconds each took and the stand-in notes. Without cache,
    every layer is rebuilt (the bases, when stand-ins, stay cached: see bases.py)."""
    base_args, notes = bases.resolve()
    timings = {}
    with ca_bundle() as (ca_args, ca_note), tempfile.TemporaryDirectory(prefix="build-home-") as folder:
        home = Path(folder)
        if ca_note:
            notes.append(ca_note)
        for note in notes:
            log(note)
        # buildah keys a RUN layer by its arguments, not by the files it bind-mounts (Dockerfile).
        lock = hashlib.sha256((APP_DIR / "requirements.lock").read_bytes()).hexdigest()
        build_args = {**base_args, **ca_args, "REQUIREMENTS_LOCK_SHA256": lock}
        for target in targets or list(TARGETS):
            started = time.monotonic()
            log(f"building {TARGETS[target]} (target {target})")
            podman("build", "--quiet", "--layers" if cache else "--no-cache", "--network=host", "--pull=never",
                   *host_ca_volumes(home),
                   *(f"--build-arg={k}={v}" for k, v in build_args.items()),
                   "--target", target, "--tag", TARGETS[target], "--file", str(APP_DIR / "Dockerfile"),
                   str(APP_DIR), timeout=3600)
            timings[target] = round(time.monotonic() - started, 1)
            log(f"  {TARGETS[target]} built in {timings[target]} s")
    return {"seconds": timings, "stand_ins": notes, "bases": base_args}
