"""The README's commands are tests: every ```sh block it tells a newcomer to run runs here, exactly
as written, in order, with `bash -e`, in a fresh `git clone` of the committed HEAD (its own
virtual environments, built by the blocks themselves from the hashed lock files).

The comment right before a block may mark it (tests/doc_commands.py): skipped with its reason,
started in the background until its URL answers, or run by another test, which is checked to
run those exact commands so that slow work is not done twice and the mark cannot lie.

The clone gets the environment's DATABASE_URL server with a database of its own (dropped
afterwards), REDIS_URL with a key prefix of its own, and free ports for `make serve` (PORT and
GUNICORN_PORT, which the README names); without DATABASE_URL the app uses its SQLite default.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import tomllib
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from doc_commands import (
    Step,
    commands,
    run_by_problems,
    run_command,
    run_in_background,
    run_step,
    running,
    steps,
)

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md"]
STEPS = [step for page in PAGES for step in steps(page, ROOT)]
# What a newcomer's shell would not have: this run's make, virtual environment and settings.
NOT_A_NEWCOMERS = (
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
    "MAKEOVERRIDES",
    "VIRTUAL_ENV",
    "PYTHONHOME",
    "SECRET_KEY",
    "PORT",
    "GUNICORN_PORT",
    "DATA_DIR",
    "STATIC_ROOT",
    "DJANGO_SUPERUSER_USERNAME",
    "DJANGO_SUPERUSER_PASSWORD",
    "DJANGO_SUPERUSER_EMAIL",
    "CACHE_KEY_PREFIX",
)


@dataclass
class Run:
    outcomes: dict[str, str | None] = field(default_factory=dict)  # where -> None or "" (passed), or the failure
    seconds: dict[str, float] = field(default_factory=dict)


def free_port_pair() -> int:
    """A port p with p + 1 free as well (gunicorn's liveness listener takes its port + 1)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no two consecutive free ports on 127.0.0.1")


def server_url(base_url: str) -> str:
    """The DATABASE_URL server's maintenance database: the URL's own database need not exist yet."""
    return urllib.parse.urlsplit(base_url)._replace(path="/postgres").geturl()


def scratch_database(base_url: str, name: str) -> str:
    """A database of our own on the DATABASE_URL server; its URL."""
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", server_url(base_url), "-c", f"CREATE DATABASE {name}"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return urllib.parse.urlsplit(base_url)._replace(path=f"/{name}").geturl()


def drop_database(base_url: str, name: str) -> None:
    subprocess.run(
        ["psql", "-X", "-q", server_url(base_url), "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
        check=False,
        capture_output=True,
        timeout=60,
    )


def newcomer_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NOT_A_NEWCOMERS}
    ours = str(ROOT / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != ours)
    env["CACHE_KEY_PREFIX"] = f"readme-{os.getpid()}"
    return env


@pytest.fixture(scope="module")
def readme_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """Every block of the pages, in order, in one clone; stops at the first that fails."""
    work = tmp_path_factory.mktemp("readme")
    clone = work / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, capture_output=True, timeout=300)
    env = newcomer_env()
    base_url, database = os.environ.get("DATABASE_URL", ""), f"readme_commands_{os.getpid()}"
    if base_url.startswith("postgres"):
        assert shutil.which("psql"), "DATABASE_URL names a PostgreSQL server, but psql is not installed"
        env["DATABASE_URL"] = scratch_database(base_url, database)
    run = Run()
    try:
        failed = None
        for step in STEPS:
            if step.kind in ("skip", "run by"):
                continue
            if failed:
                run.outcomes[step.where] = f"{step.where}: not run, as {failed} failed before it"
                continue
            started = time.monotonic()
            try:
                if step.kind == "run":
                    run_step(step, clone, env)
                else:
                    url = urllib.parse.urlsplit(step.arg)
                    port = free_port_pair()
                    while abs((gunicorn := free_port_pair()) - port) < 2:
                        pass
                    local = url._replace(netloc=f"{url.hostname}:{port}").geturl()
                    run_in_background(
                        step,
                        clone,
                        {**env, "PORT": str(port), "GUNICORN_PORT": str(gunicorn)},
                        local,
                        work / f"background-{step.block.line}.log",
                    )
                run.outcomes[step.where] = None
            except AssertionError as exc:
                run.outcomes[step.where] = str(exc)
                failed = step.where
            run.seconds[step.where] = round(time.monotonic() - started, 1)
        changed = run_command("git status --porcelain", cwd=clone).stdout
        run.outcomes["tracked files"] = changed and f"the blocks changed tracked files of the clone:\n{changed}"
        print(f"README blocks, seconds each: {run.seconds}")
        yield run
    finally:
        if env.get("DATABASE_URL", "") != base_url:
            drop_database(base_url, database)


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.where)
def test_block(step: Step, request: pytest.FixtureRequest) -> None:
    if step.kind == "skip":
        pytest.skip(f"{step.where}: {step.arg}")
    if step.kind == "run by":
        problems = run_by_problems(step, ROOT)
        assert not problems, "\n".join(problems)
        return
    outcome = request.getfixturevalue("readme_run").outcomes[step.where]
    if outcome:
        pytest.fail(outcome, pytrace=False)


def test_the_blocks_leave_the_clones_tracked_files_as_committed(readme_run: Run) -> None:
    """`make render ENV=dev` on a clean clone renders what is committed; nothing else writes there."""
    assert not readme_run.outcomes["tracked files"], readme_run.outcomes["tracked files"]


def test_the_quick_start_is_covered() -> None:
    """What the README must keep running, so that no mark or move can drop it unnoticed."""
    kinds = {command: step.kind for step in STEPS for command in commands(step.block.text)}
    assert kinds.get("make render ENV=dev") == "run"
    assert kinds.get("make serve") == "background"
    assert any(
        c.endswith("make manage 'ARGS=createsuperuser --noinput --email me@example.com'") and k == "run"
        for c, k in kinds.items()
    ), kinds
    assert kinds.get("make apply-local ENV=dev BACKEND=s3") == "run by"
    # Only what needs an account, podman, or is this very test run goes unrun here.
    assert all(step.kind != "skip" or any(w in step.arg for w in ("AWS", "account", "podman")) for step in STEPS)


def test_make_test_runs_this_test() -> None:
    """The mark on `make test` sends it to CI's own run: that run must include this file."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^test: .*\bunit\b", makefile, flags=re.M), "make test no longer runs make unit"
    assert re.search(r"^unit: .*\n\t\$\(PY\) -m pytest\n", makefile, flags=re.M), "make unit no longer runs pytest"
    testpaths = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    assert Path(__file__).parent.name in testpaths["testpaths"]


# ---- the runner itself: a failing block fails with its line and output; marks are checked ----


def test_a_failing_block_names_its_line_and_output(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n```sh\necho first\n```\n\n<!-- test: skip (needs an AWS account) -->\n"
        "```sh\nexit 1\n```\n\n```sh\necho before\nfalse   # fails\necho never\n```\n\n"
        "```text\nnot shell\n```\n",
        encoding="utf-8",
    )
    found = steps(page, tmp_path)
    assert [(s.where, s.kind, s.arg) for s in found] == [
        ("page.md:3", "run", ""),
        ("page.md:8", "skip", "needs an AWS account"),
        ("page.md:12", "run", ""),
    ]
    run_step(found[0], tmp_path, dict(os.environ))
    with pytest.raises(AssertionError) as failed:
        run_step(found[2], tmp_path, dict(os.environ))
    message = str(failed.value)
    assert message.startswith("page.md:12: exit status 1\n")
    assert "before" in message.split("--- last")[1] and "never" not in message.split("--- last")[1]


def test_an_unknown_mark_is_an_error(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("<!-- test: skipp (typo) -->\n```sh\ntrue\n```\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"page\.md:2: unknown test mark"):
        steps(page, tmp_path)


def test_a_run_by_mark_that_lies_is_caught(tmp_path: Path) -> None:
    (tmp_path / "test_other.py").write_text(
        "from doc_commands import run_command\n\n"
        "def helper(command, where):\n    return run_command(command, cwd=where)\n\n"
        "def test_it(tmp_path):\n    helper('make a X=1', tmp_path)\n    helper('make  b', tmp_path)\n\n"
        "def test_none():\n    print('make a X=1')\n",
        encoding="utf-8",
    )
    (tmp_path / "ci.sh").write_text("set -e\nmake a X=1\n# make b\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- test: run by test_other.py::test_it -->\n```sh\nmake a X=1  # one\nmake b\n```\n"
        "<!-- test: run by test_other.py::test_it -->\n```sh\nmake b\nmake a X=1\n```\n"
        "<!-- test: run by test_other.py::test_none -->\n```sh\nmake a X=1\n```\n"
        "<!-- test: run by ci.sh (why) -->\n```sh\nmake a X=1\n```\n"
        "<!-- test: run by ci.sh -->\n```sh\nmake b\n```\n"
        "<!-- test: run by test_other.py::test_gone -->\n```sh\nmake a X=1\n```\n",
        encoding="utf-8",
    )
    problems = [run_by_problems(step, tmp_path) for step in steps(page, tmp_path)]
    assert problems[0] == [] and problems[3] == []
    assert "not ['make b', 'make a X=1'] in that order" in problems[1][0]  # the order matters
    assert problems[2] and problems[2][0].startswith("page.md:12: marked run by test_other.py::test_none")
    assert problems[4] == ["page.md:20: 'make b' is not a line of ci.sh"]  # a comment does not run
    assert problems[5] == [
        "page.md:24: marked run by test_other.py::test_gone, but test_other.py has no test test_gone"
    ]


def test_a_background_block_is_stopped_with_its_whole_group(tmp_path: Path) -> None:
    """The page must answer, and every process the block started is gone afterwards."""
    port = free_port_pair()
    (tmp_path / "index.html").write_text("<html>hello page</html>", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        f"<!-- test: background http://127.0.0.1:{port}/index.html expect hello page -->\n```sh\n"
        f"sleep 600 &\necho $! > sleeper.pid\nexec python3 -m http.server {port} --bind 127.0.0.1\n```\n"
        f"<!-- test: background http://127.0.0.1:{port}/index.html expect goodbye -->\n```sh\n"
        f"exec python3 -m http.server {port} --bind 127.0.0.1\n```\n",
        encoding="utf-8",
    )
    answering, wrong = steps(page, tmp_path)
    assert (answering.arg, answering.expect) == (f"http://127.0.0.1:{port}/index.html", "hello page")
    body = run_in_background(answering, tmp_path, dict(os.environ), answering.arg, tmp_path / "log")
    assert "hello page" in body
    sleeper = int((tmp_path / "sleeper.pid").read_text())
    assert not running(sleeper), "a process of the block's group outlived it"
    with pytest.raises(AssertionError, match=r"page\.md:8: .* without 'goodbye'"):
        run_in_background(wrong, tmp_path, dict(os.environ), wrong.arg, tmp_path / "log")


def test_a_block_past_its_time_is_stopped_with_everything_it_started(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```sh\necho started\nsleep 600 &\necho $! > sleeper.pid\nsleep 600\n```\n", encoding="utf-8")
    (step,) = steps(page, tmp_path)
    with pytest.raises(AssertionError, match=r"^page\.md:1: still running after 2 s\n(.|\n)*started"):
        run_step(step, tmp_path, dict(os.environ), timeout=2)
    assert not running(int((tmp_path / "sleeper.pid").read_text()))
