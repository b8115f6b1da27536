"""Every page carries a strict Content-Security-Policy, and no page holds code it would block.

The policy (config/settings.py) allows this origin's files only: an inline <script>, <style>,
style="..." or on...="..." handler in a template would be refused by the browser, the page
broken. Each page is parsed here for them, without a browser; tests/test_browser.py has
Chromium report any violation on the pages it visits.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

# Script types a browser does not run (data islands, e.g. the admin's json_script).
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


class InlineCode(HTMLParser):
    """Collects what a policy without 'unsafe-inline' blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...> (event handler)")
            elif name == "style":
                self.found.append(f"<{tag} style={value!r}>")
            elif name in {"href", "src", "action"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}={value!r}>")
        if tag == "style":
            self.found.append("<style> element")
        self._inline_script = (
            tag == "script"
            and "src" not in attributes
            and (attributes.get("type") or "").lower() not in DATA_SCRIPT_TYPES
        )

    def handle_data(self, data):
        if self._inline_script and data.strip():
            self.found.append(f"inline <script>: {data.strip()[:60]!r}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._inline_script = False


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_the_parser_finds_what_the_policy_blocks():
    page = (
        '<p style="color:red" onclick="x()">a</p><style>p{}</style><script>alert(1)</script>'
        '<script src="/static/a.js"></script><script type="application/json">{}</script>'
        '<a href="javascript:void(0)">b</a>'
    )
    assert len(inline_code(page)) == 5, inline_code(page)
    assert inline_code('<link rel="stylesheet" href="/static/s.css"><p class="c">a</p>') == []


def assert_strict_policy(response, url: str) -> None:
    policy = response.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives.get("default-src") == ["'self'"], (url, policy)
    assert directives.get("object-src") == ["'none'"], (url, policy)
    assert directives.get("frame-ancestors") == ["'none'"], (url, policy)
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, (url, policy)


def check_pages(client: Client, urls: list[str], status: int = 200) -> None:
    for url in urls:
        response = client.get(url)
        assert response.status_code == status, url
        assert_strict_policy(response, url)
        if response.get("Content-Type", "").startswith("text/html"):
            assert inline_code(response.content.decode()) == [], url


def test_signed_in_pages(make_todo):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    todo = make_todo(admin, "牛乳", notes="低脂肪")
    done = make_todo(admin, "済み", done=True)
    client = Client()
    client.force_login(admin)
    check_pages(
        client,
        [
            "/",
            "/?status=done",
            "/todos/new/",
            f"/todos/{todo.pk}/edit/",
            f"/todos/{done.pk}/delete/",
            "/accounts/password_change/",
            "/admin/",
            "/admin/todo/todo/",
            f"/admin/todo/todo/{todo.pk}/change/",
            "/admin/auth/user/add/",
        ],
    )
    check_pages(client, ["/no-such-page/"], status=404)


def test_anonymous_pages_and_redirects(client):
    check_pages(client, ["/accounts/login/", "/admin/login/"])
    check_pages(client, ["/", "/admin/"], status=302)
    check_pages(client, ["/no-such-page/"], status=404)
    response = client.get("/accounts/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert_strict_policy(response, "bad host")
    assert inline_code(response.content.decode()) == []


def test_csrf_failure_page(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/todos/new/", {"title": "x"})
    assert response.status_code == 403
    assert_strict_policy(response, "csrf failure")
    assert inline_code(response.content.decode()) == []


@pytest.mark.parametrize(("urls", "path", "status"), [
    ("tests.urls_outage", "/boom/", 500),
    ("tests.urls_outage", "/db-down/", 503),
])  # fmt: skip
def test_error_pages_of_an_app_in_trouble(urls, path, status):
    with override_settings(ROOT_URLCONF=urls, DEBUG=False):
        response = Client(raise_request_exception=False).get(path)
    assert response.status_code == status
    assert_strict_policy(response, path)
    page = response.content.decode()
    assert inline_code(page) == [], path
    assert 'rel="stylesheet"' in page  # styled by the stylesheet, not inline
