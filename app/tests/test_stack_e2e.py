"""Through the real stack: nginx (the proxy image's config) -> gunicorn (the app's config), run by
scripts/serve.sh and as the images themselves (tests/containers.py)."""

from __future__ import annotations

import http.client
import re
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import pytest

pytestmark = pytest.mark.slow


class Browserless:
    """Plain HTTP with a cookie jar that, like a browser on localhost, keeps Secure cookies."""

    def __init__(self, base_url: str, timeout: float = 15):
        parts = urlsplit(base_url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.host_header = f"{self.host}:{self.port}"
        self.cookies: dict[str, str] = {}

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def request(self, method: str, path: str, form: dict | None = None, headers=None):
        conn = self.connection()
        all_headers = {"Host": self.host_header, **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        content = response.read().decode("utf-8", errors="replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        conn.close()
        return response, content


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the form"
    return match.group(1)


@pytest.fixture(params=["serve", "containers"])
def stack(request):
    """Each flow through both stacks: scripts/serve.sh, and the images run as the ECS task."""
    return request.getfixturevalue("live_stack" if request.param == "serve" else "container_stack")


@pytest.fixture
def web(stack):
    return Browserless(stack.base_url)


def test_healthz_through_nginx(web):
    response, body = web.request("GET", "/healthz")
    assert (response.status, body) == (200, "ok")


def test_healthz_with_an_ip_host_header(web):
    response, _ = web.request("GET", "/healthz", headers={"Host": "10.0.3.17"})
    assert response.status == 200


@pytest.mark.parametrize("path", ["/readyz", "/readyz/"])
def test_readyz_is_not_reachable_through_nginx(web, path):
    """Each readiness hit costs a query and a cache write: the internet gets a 404."""
    response, body = web.request("GET", path)
    assert response.status == 404
    assert "status" not in body


def test_readyz_answers_inside_the_task(stack):
    app = Browserless(stack.app_url)
    response, body = app.request("GET", "/readyz")
    assert response.status == 200
    assert '"status": "ok"' in body


@pytest.mark.parametrize(
    "path", ["/%61dmin/", "/%2561dmin/", "//admin/", "/./admin/", "/x/../admin/login/"]
)
def test_a_disguised_admin_path_is_refused(web, path):
    """The load balancer's /admin* allow-list matches the path as sent; nginx and Django decode
    and normalise it. A path that is the admin only once decoded never reaches Django."""
    response, _ = web.request("GET", path)
    assert response.status in (400, 404), (path, response.status)
    assert "/admin/login/" not in (response.getheader("Location") or "")


def test_the_admin_path_as_sent_still_reaches_the_admin(web):
    response, _ = web.request("GET", "/admin/")
    assert response.status == 302 and "/admin/login/" in response.getheader("Location")


def test_login_page(web):
    response, body = web.request("GET", "/accounts/login/")
    assert response.status == 200
    assert "ログイン" in body


def test_static_file_is_served_by_nginx_with_a_long_cache(web):
    _, body = web.request("GET", "/accounts/login/")
    (href,) = re.findall(r'href="(/static/todo/style\.[0-9a-f]{12}\.css)"', body)
    response, css = web.request("GET", href)
    assert response.status == 200
    assert response.getheader("Cache-Control") == "public, max-age=31536000, immutable"
    assert response.getheader("Content-Type").startswith("text/css")
    assert ".todo-list" in css


def test_missing_static_file_is_404(web):
    response, _ = web.request("GET", "/static/todo/nope.css")
    assert response.status == 404


def test_login_then_create_over_http_with_csrf(web, stack):
    _, page = web.request("GET", "/accounts/login/")
    response, _ = web.request(
        "POST",
        "/accounts/login/",
        {
            "username": stack.username,
            "password": stack.password,
            "csrfmiddlewaretoken": csrf_token(page),
        },
    )
    assert response.status == 302, "login failed"
    assert response.getheader("Location") == "/"

    _, form = web.request("GET", "/todos/new/")
    response, _ = web.request(
        "POST",
        "/todos/new/",
        {"title": "nginx 経由で作成", "notes": "", "csrfmiddlewaretoken": csrf_token(form)},
    )
    assert response.status == 302
    _, listing = web.request("GET", "/")
    assert "nginx 経由で作成" in listing


def test_post_without_csrf_token_is_rejected_through_nginx(web, stack):
    _, page = web.request("GET", "/accounts/login/")
    web.request(
        "POST",
        "/accounts/login/",
        {
            "username": stack.username,
            "password": stack.password,
            "csrfmiddlewaretoken": csrf_token(page),
        },
    )
    response, _ = web.request("POST", "/todos/new/", {"title": "forged"})
    assert response.status == 403


def test_each_request_is_logged_once_as_json_by_nginx(web, stack):
    import json
    import uuid

    marker = f"/healthz?probe={uuid.uuid4().hex}"
    web.request("GET", marker)
    # nginx buffers its access lines for up to a second; allow more under load.
    deadline = time.monotonic() + 15
    while f'"query":"{marker.split("?")[1]}"' not in stack.log():
        assert time.monotonic() < deadline, "no access line from nginx"
        time.sleep(0.1)
    lines = [json.loads(line) for line in stack.log().splitlines() if line.startswith("{")]
    access = [entry for entry in lines if entry.get("message") == "request"]
    mine = [entry for entry in access if entry.get("query") == marker.split("?")[1]]
    assert [(entry["logger"], entry["path"], entry["status"]) for entry in mine] == [
        ("nginx.access", "/healthz", 200)
    ]
    assert not [entry for entry in access if entry["logger"] == "gunicorn.access"]


def test_serve_without_nginx_says_so_in_one_line():
    import os
    import subprocess

    from tests.helpers import APP_DIR

    result = subprocess.run(
        ["bash", "scripts/serve.sh"],
        cwd=APP_DIR,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "NGINX": "/nonexistent/nginx", "SECRET_KEY": "unused"},
    )
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        "serve: nginx is not installed (apt-get install -y nginx)"
    ]


def test_sigterm_to_serve_stops_nginx_and_gunicorn(tmp_path):
    import os
    import signal
    import socket
    import subprocess
    import time
    import urllib.request

    from tests.helpers import APP_DIR, free_port, gunicorn_port, stop_process_group, wait_for_port

    app_port = gunicorn_port()
    port = free_port(avoid=(app_port, app_port + 1))
    env = {
        **os.environ,
        "PORT": str(port),
        "GUNICORN_PORT": str(app_port),
        "GUNICORN_WORKERS": "1",
        "SERVE_SKIP_SETUP": "1",  # /healthz needs neither a database nor static files
        "STATIC_ROOT": str(tmp_path),
        "TMPDIR": str(tmp_path),
        "SECRET_KEY": "s" * 60,
    }
    proc = subprocess.Popen(
        ["bash", "scripts/serve.sh"],
        cwd=APP_DIR,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=30)
        # gunicorn binds its port before the master starts the liveness listener on the next.
        wait_for_port(app_port + 1, timeout=30)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert response.status == 200
        # Only the script, as `docker stop` or a supervisor would: it must stop its children.
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=40) == 143
        time.sleep(0.5)
        for p in (port, app_port, app_port + 1):
            with socket.socket() as sock:
                assert sock.connect_ex(("127.0.0.1", p)) != 0, f"port {p} still open"
        assert not list(tmp_path.glob("todo-serve.*")), "the temp dir was left behind"
    finally:
        stop_process_group(proc)
