"""`make serve` is plain HTTP on localhost: any HTTP client must be able to log in.

The client here keeps cookies the way curl, wrk-style load generators and Safari do: a cookie
marked Secure is never sent back over http. Secure session or CSRF cookies on a plain-HTTP
server would make every login POST fail its CSRF check (403).
"""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

pytestmark = pytest.mark.slow


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def plain_http_client() -> tuple[urllib.request.OpenerDirector, http.cookiejar.CookieJar]:
    jar = http.cookiejar.CookieJar()  # the standard policy: Secure cookies only over https
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    return opener, jar


def open_(opener, url: str, form: dict | None = None):
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        return opener.open(urllib.request.Request(url, data=data), timeout=15)
    except urllib.error.HTTPError as response:  # 3xx (redirects not followed) and 4xx
        return response


def test_a_client_that_drops_secure_cookies_over_http_logs_in(live_stack):
    opener, jar = plain_http_client()
    page = open_(opener, f"{live_stack.base_url}/accounts/login/")
    assert page.status == 200
    cookies = {cookie.name: cookie for cookie in jar}
    assert "csrftoken" in cookies
    assert not cookies["csrftoken"].secure, "a Secure CSRF cookie never comes back over http"

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode())
    response = open_(
        opener,
        f"{live_stack.base_url}/accounts/login/",
        {
            "username": live_stack.username,
            "password": live_stack.password,
            "csrfmiddlewaretoken": token.group(1),
        },
    )
    assert response.status == 302, f"login answered {response.status}"
    assert response.headers["Location"] == "/"
    session = {cookie.name: cookie for cookie in jar}["sessionid"]
    assert not session.secure

    listing = open_(opener, f"{live_stack.base_url}/")
    assert listing.status == 200
    assert live_stack.username in listing.read().decode()
