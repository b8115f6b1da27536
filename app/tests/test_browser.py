"""A person's path through the UI, in Debian's chromium, against nginx + gunicorn."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from tests.helpers import APP_DIR, require
from tests.test_templates import shown_template_syntax
from tests.visual import audit, match_screenshot

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT = APP_DIR / ".artifacts" / "todo.png"


@pytest.fixture
def page(live_stack):
    require(os.access(CHROMIUM, os.X_OK), "chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # Debian's chromium, never a downloaded build: the network here has none to offer.
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            context = browser.new_context(locale="ja-JP", viewport={"width": 900, "height": 700})
            context.set_default_timeout(15_000)
            page = context.new_page()
            seen: dict[str, list[str]] = {}
            # Every page the test reaches, read as a person reads it: its visible text.

            def read(loaded) -> None:
                seen.setdefault(loaded.url, shown_template_syntax(loaded.inner_text("body")))

            page.on("load", read)
            # Chromium reports each resource or inline code the Content-Security-Policy
            # refused on the console; a page that needs one would be broken for everyone.
            refused: list[str] = []

            def console(message) -> None:
                if "Content Security Policy" in message.text:
                    refused.append(f"{page.url}: {message.text}")

            page.on("console", console)
            # axe-core on every page reached: the test calls page.axe() once each page shows
            # (from a load handler it would race the test's next click), and none may be missed.
            audited: set[str] = set()
            violations: list[str] = []

            def axe() -> None:
                audited.add(page.url)
                violations.extend(audit(page))

            page.axe = axe
            yield page
            shown = {url: lines for url, lines in seen.items() if lines}
            assert seen, "no page was loaded"
            assert not shown, f"template syntax shown as text: {shown}"
            assert not refused, "\n".join(refused)
            assert not violations, "axe-core:\n" + "\n".join(violations)
            assert not set(seen) - audited, f"pages axe-core did not see: {set(seen) - audited}"
        finally:
            browser.close()


def test_login_create_edit_complete_delete(page, live_stack):
    from playwright.sync_api import expect

    base = live_stack.base_url
    page.goto(f"{base}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.axe()
    page.get_by_label("ユーザー名").fill(live_stack.username)
    page.get_by_label("パスワード").fill(live_stack.password)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", name="TODO 一覧")).to_be_visible()
    page.axe()

    # Create
    page.get_by_role("link", name="新しい TODO").click()
    expect(page.get_by_role("heading", name="新しい TODO")).to_be_visible()
    page.axe()
    page.locator("input[name=title]").fill("牛乳を買う")
    page.locator("textarea[name=notes]").fill("低脂肪のもの")
    page.get_by_role("button", name="保存").click()
    item = page.locator(".todo-item", has_text="牛乳を買う")
    expect(item).to_be_visible()
    expect(page.locator(".message")).to_have_text("TODO を追加しました。")
    page.axe()

    # Edit
    item.get_by_role("link", name="編集").click()
    expect(page.get_by_role("heading", name="TODO を編集")).to_be_visible()
    page.axe()
    page.locator("input[name=title]").fill("牛乳とパンを買う")
    page.get_by_role("button", name="保存").click()
    item = page.locator(".todo-item", has_text="牛乳とパンを買う")
    expect(item).to_be_visible()

    # Complete
    item.get_by_role("button", name="完了にする").click()
    item = page.locator(".todo-item", has_text="牛乳とパンを買う")
    expect(item).to_have_class(re.compile(r"\bis-done\b"))
    page.axe()
    page.get_by_role("link", name="完了", exact=True).click()
    expect(page.locator(".todo-item", has_text="牛乳とパンを買う")).to_be_visible()
    page.axe()
    page.get_by_role("link", name="未完了").click()
    expect(page.locator(".todo-item", has_text="牛乳とパンを買う")).to_have_count(0)
    page.axe()

    # A second, open one, so the screenshot shows both states.
    page.get_by_role("link", name="すべて").click()
    expect(page.get_by_role("link", name="すべて")).to_have_attribute("aria-current", "page")
    page.axe()
    page.get_by_role("link", name="新しい TODO").click()
    expect(page.get_by_role("heading", name="新しい TODO")).to_be_visible()
    page.locator("input[name=title]").fill("レポートを提出する")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".todo-item")).to_have_count(2)
    page.axe()
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # Delete, through the confirmation page
    page.locator(".todo-item", has_text="牛乳とパンを買う").get_by_role("link", name="削除").click()
    expect(page.get_by_role("heading", name="TODO を削除しますか？")).to_be_visible()
    page.axe()
    page.get_by_role("button", name="削除する").click()
    expect(page.locator(".todo-item", has_text="牛乳とパンを買う")).to_have_count(0)
    expect(page.locator(".todo-item")).to_have_count(1)
    page.axe()

    # A page that does not exist (nginx passes it to the app, which answers 404)
    page.goto(f"{base}/no-such-page/")
    missing = page.get_by_role("heading", name="お探しのページは見つかりませんでした。")
    expect(missing).to_be_visible()
    page.axe()
    page.goto(f"{base}/")
    expect(page.get_by_role("heading", name="TODO 一覧")).to_be_visible()

    # Logout
    page.get_by_role("button", name="ログアウト").click()
    expect(page.get_by_role("heading", name="ログイン")).to_be_visible()
    page.axe()
    page.goto(f"{base}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.axe()
    assert SCREENSHOT.stat().st_size > 10_000


def test_key_pages_accessible_and_as_committed(page, live_stack):
    """Each key page at a desktop and a phone width: axe-core, and the committed picture."""
    from playwright.sync_api import expect

    base = live_stack.base_url
    changed: list[str] = []

    def shows(name: str) -> None:
        page.axe()
        changed.extend(match_screenshot(page, name))

    # The lockout page, for a user name of its own: the run's user keeps its budget.
    page.goto(f"{base}/accounts/login/")
    shows("login")
    locked = page.get_by_text("ログインの失敗が続いたため")
    for _ in range(8):
        page.get_by_label("ユーザー名").fill("suzuki")
        page.get_by_label("パスワード").fill("not-the-password")
        page.get_by_role("button", name="ログイン").click()
        expect(page.get_by_role("heading", name="ログイン")).to_be_visible()
        page.axe()
        if locked.is_visible():
            break
    expect(locked).to_be_visible()
    shows("lockout")

    page.get_by_label("ユーザー名").fill(live_stack.username)
    page.get_by_label("パスワード").fill(live_stack.password)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", name="TODO 一覧")).to_be_visible()
    page.axe()
    # The session's user is shared with the other browser test: start from an empty list.
    while page.locator(".todo-item").count():
        page.locator(".todo-item").first.get_by_role("link", name="削除").click()
        expect(page.get_by_role("heading", name="TODO を削除しますか？")).to_be_visible()
        page.axe()
        page.get_by_role("button", name="削除する").click()
        expect(page.get_by_role("heading", name="TODO 一覧")).to_be_visible()
        page.axe()
    page.goto(f"{base}/")  # without the message of the last deletion, if any
    expect(page.get_by_text("TODO はありません。")).to_be_visible()
    shows("list-empty")

    page.get_by_role("link", name="新しい TODO").click()
    expect(page.get_by_role("heading", name="新しい TODO")).to_be_visible()
    page.axe()
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".has-error")).not_to_have_count(0)
    shows("form-errors")

    for title, notes in [("請求書を送る", "月末までに"), ("会議室を予約する", "")]:
        page.locator("input[name=title]").fill(title)
        page.locator("textarea[name=notes]").fill(notes)
        page.get_by_role("button", name="保存").click()
        expect(page.locator(".todo-item", has_text=title)).to_be_visible()
        page.axe()
        if notes:
            page.get_by_role("link", name="新しい TODO").click()
            expect(page.get_by_role("heading", name="新しい TODO")).to_be_visible()
            page.axe()
    done = page.locator(".todo-item", has_text="会議室を予約する")
    done.get_by_role("button", name="完了にする").click()
    expect(done).to_have_class(re.compile(r"\bis-done\b"))
    shows("list")

    page.locator(".todo-item", has_text="請求書を送る").get_by_role("link", name="削除").click()
    expect(page.get_by_role("heading", name="TODO を削除しますか？")).to_be_visible()
    shows("delete-confirm")

    page.goto(f"{base}/no-such-page/")
    missing = page.get_by_role("heading", name="お探しのページは見つかりませんでした。")
    expect(missing).to_be_visible()
    shows("404")

    assert not changed, "pages changed (UPDATE_SCREENSHOTS=1 accepts them):\n" + "\n".join(changed)
