"""What a person sees never contains template syntax shown as text.

Django's short comment form is single-line: a comment opened on one line and closed on a later
one is not a comment but text, and renders on the page ("Django template language: Comments").
"""

from __future__ import annotations

import re

import pytest

from tests.helpers import APP_DIR

TEMPLATES = sorted(
    p for p in APP_DIR.rglob("*.html") if ".venv" not in p.parts and "staticfiles" not in p.parts
)

# Markup of the template language, as it would show in a page when a template failed to parse it.
SHOWN_SYNTAX = re.compile(r"\{#|#\}|\{%|%\}|\{\{|\}\}")


def shown_template_syntax(text: str) -> list[str]:
    """Each line of `text` that holds template-language markup (for a message that shows it)."""
    return [line.strip() for line in text.splitlines() if SHOWN_SYNTAX.search(line)]


def test_templates_are_found():
    assert len(TEMPLATES) >= 10, TEMPLATES


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(APP_DIR)))
def test_short_comments_close_on_their_own_line(path):
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for opened in re.finditer(r"\{#", line):
            assert "#}" in line[opened.end() :], (
                f"{path.relative_to(APP_DIR)}:{number}: '{{#' is closed on a later line, so "
                "Django shows it as text; use {% comment %} ... {% endcomment %}"
            )


def test_shown_syntax_is_detected():
    shown = shown_template_syntax("<p>{# a comment\nthat spans #}</p>")
    assert shown == ["<p>{# a comment", "that spans #}</p>"]
    assert shown_template_syntax("<p>TODO 一覧</p>") == []


@pytest.mark.django_db
def test_list_page_with_todos_shows_no_template_syntax(auth_client, user, make_todo):
    for number in range(3):
        make_todo(user, f"タスク {number}")
    make_todo(user, "終わったタスク", done=True)
    for url in ("/", "/?status=done", "/?status=open", "/todos/new/", "/accounts/password_change/"):
        response = auth_client.get(url)
        assert response.status_code == 200, url
        assert shown_template_syntax(response.content.decode()) == [], url
