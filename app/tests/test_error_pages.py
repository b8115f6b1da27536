import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


@override_settings(ROOT_URLCONF="tests.urls_error", DEBUG=False)
def test_server_error_is_a_friendly_page_without_traceback():
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    content = response.content.decode()
    assert response.status_code == 500
    assert "サーバーでエラーが発生しました" in content
    assert "Traceback" not in content
    assert "RuntimeError" not in content


@override_settings(DEBUG=False)
def test_bad_host_is_a_friendly_400(client):
    response = client.get("/accounts/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "リクエストが正しくありません" in response.content.decode()


def test_csrf_failure_is_a_friendly_403(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/todos/new/", {"title": "x"})
    assert response.status_code == 403
    assert "再読み込み" in response.content.decode()
