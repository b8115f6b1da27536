"""The images themselves, run as the ECS task runs them (tests/containers.py): what only a
container can show. The flows through the proxy (health, login, static files, logs) run against
both stacks in test_stack_e2e.py."""

from __future__ import annotations

import re

import pytest

from tests.containers import APP_CONTAINER, PROXY_CONTAINER
from tests.test_stack_e2e import Browserless, csrf_token

pytestmark = pytest.mark.slow

CONTAINERS = {APP_CONTAINER: "10001", PROXY_CONTAINER: "101"}


@pytest.mark.parametrize(("container", "uid"), CONTAINERS.items())
def test_every_process_runs_as_the_task_user(container_stack, container, uid):
    """gunicorn and nginx (masters and workers), not only the command `exec` starts."""
    result = container_stack.exec(
        container, "sh", "-c", "for s in /proc/[0-9]*/status; do grep ^Uid: $s; done"
    )
    assert result.returncode == 0, result.stderr
    uids = {line.split()[1] for line in result.stdout.splitlines()}
    assert uids == {uid}


@pytest.mark.parametrize("container", CONTAINERS)
def test_no_capability_is_left(container_stack, container):
    result = container_stack.exec(container, "grep", "-E", "^Cap(Eff|Prm|Bnd):", "/proc/1/status")
    assert result.returncode == 0, result.stderr
    assert {line.split()[1] for line in result.stdout.splitlines()} == {"0000000000000000"}


@pytest.mark.parametrize(
    ("container", "protected"),
    [(APP_CONTAINER, "/app/config/x"), (PROXY_CONTAINER, "/srv/static/x")],
)
def test_root_is_read_only_and_only_tmp_is_writable(container_stack, container, protected):
    outside = container_stack.exec(container, "sh", "-c", f"echo x > {protected}")
    assert outside.returncode != 0
    assert "Read-only file system" in outside.stderr
    inside = container_stack.exec(container, "sh", "-c", "echo x > /tmp/probe && rm /tmp/probe")
    assert inside.returncode == 0, inside.stderr


def test_the_app_image_has_no_installer(container_stack):
    """The app stage removes pip, setuptools and wheel; the venv never had them."""
    result = container_stack.exec(
        APP_CONTAINER,
        "python",
        "-c",
        "import importlib.util as u; "
        "print([m for m in ('pip', 'setuptools', 'wheel') if u.find_spec(m)])",
    )
    assert (result.returncode, result.stdout.strip()) == (0, "[]")


def test_the_proxy_serves_static_files_from_its_own_image(container_stack):
    """The app container's copy is not what answers: the proxy image carries the files."""
    web = Browserless(container_stack.base_url)
    _, page = web.request("GET", "/accounts/login/")
    (href,) = re.findall(r'href="(/static/todo/style\.[0-9a-f]{12}\.css)"', page)
    listed = container_stack.exec(PROXY_CONTAINER, "ls", f"/srv/static{href[len('/static') :]}")
    assert listed.returncode == 0, listed.stderr
    response, _ = web.request("GET", href)
    assert response.status == 200


def test_login_and_crud_through_the_proxy(container_stack):
    web = Browserless(container_stack.base_url)
    _, page = web.request("GET", "/accounts/login/")
    login = {"username": container_stack.username, "password": container_stack.password}
    response, _ = web.request(
        "POST", "/accounts/login/", {**login, "csrfmiddlewaretoken": csrf_token(page)}
    )
    assert response.status == 302, "login failed"

    _, form = web.request("GET", "/todos/new/")
    fields = {"title": "コンテナで作成", "notes": "", "csrfmiddlewaretoken": csrf_token(form)}
    assert web.request("POST", "/todos/new/", fields)[0].status == 302
    _, listing = web.request("GET", "/")
    # Other tests' rows may share the list: take the row holding this title.
    (pk,) = [
        row.split('"', 1)[0]
        for row in listing.split('data-todo-id="')[1:]
        if "コンテナで作成" in row
    ]

    _, form = web.request("GET", f"/todos/{pk}/edit/")
    fields = {"title": "コンテナで更新", "notes": "", "csrfmiddlewaretoken": csrf_token(form)}
    assert web.request("POST", f"/todos/{pk}/edit/", fields)[0].status == 302
    _, listing = web.request("GET", "/")
    assert "コンテナで更新" in listing and "コンテナで作成" not in listing

    _, confirm = web.request("GET", f"/todos/{pk}/delete/")
    token = {"csrfmiddlewaretoken": csrf_token(confirm)}
    assert web.request("POST", f"/todos/{pk}/delete/", token)[0].status == 302
    assert "コンテナで更新" not in web.request("GET", "/")[1]


def test_the_app_health_check_of_the_task_passes(container_stack):
    from tests.containers import podman

    assert podman.podman("healthcheck", "run", APP_CONTAINER, check=False).returncode == 0
