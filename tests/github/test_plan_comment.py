""".github/scripts/plan_comment.py: the plan comment the workflow edits is its own.

Anyone who can comment on a pull request can post a comment that starts with the marker; the
workflow must edit only the comment its own token (github-actions[bot]) wrote.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
from test_workflows import load
from tfhelpers import ROOT

from infra.github import COMMENT_MARKER

SCRIPT = ROOT / ".github" / "scripts" / "plan_comment.py"
BOT = {"login": "github-actions[bot]", "type": "Bot"}


def module():
    spec = importlib.util.spec_from_file_location("plan_comment", SCRIPT)
    assert spec and spec.loader
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def comment(id_: int, user: dict[str, str], body: str, created: str = "2026-01-01T00:00:00Z") -> dict:
    return {"id": id_, "user": user, "body": body, "created_at": created}


def run(stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], input=stdin, capture_output=True, text=True,
                          check=False, timeout=30)


def test_a_users_comment_with_the_marker_is_not_the_workflows():
    plan_comment = module()
    comments = [
        # posted first, by a person, starting with the marker (copied, quoted or planted)
        comment(1, {"login": "mallory", "type": "User"}, f"{COMMENT_MARKER}\nnothing to see"),
        # a user whose login imitates the bot's (GitHub reserves "[bot]" for apps, but the type tells)
        comment(2, {"login": "github-actions[bot]", "type": "User"}, f"{COMMENT_MARKER}\nimpostor"),
        # another app's bot
        comment(3, {"login": "renovate[bot]", "type": "Bot"}, f"{COMMENT_MARKER}\nother bot"),
        # the workflow's own comments that are not the plan
        comment(4, BOT, "Deployment finished"),
        comment(5, BOT, f"quoted: {COMMENT_MARKER}"),
        comment(6, BOT, f"{COMMENT_MARKER}\n## Terraform plan at abc1234"),
        comment(7, BOT, f"{COMMENT_MARKER}\n## a later duplicate", "2026-01-02T00:00:00Z"),
    ]
    assert plan_comment.own_comment_id(comments, COMMENT_MARKER) == 6
    assert plan_comment.own_comment_id(comments[:5], COMMENT_MARKER) is None


def test_the_command_reads_the_pages_gh_api_paginate_writes():
    first = [comment(1, {"login": "mallory", "type": "User"}, COMMENT_MARKER)]
    second = [comment(9, BOT, f"{COMMENT_MARKER}\nplan"), comment(10, None, "a deleted user's comment")]
    # `gh api --paginate` writes each page's array right after the previous one
    result = run(json.dumps(first) + json.dumps(second, indent=2) + "\n", COMMENT_MARKER)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "9\n"
    result = run(json.dumps(first), COMMENT_MARKER)
    assert (result.returncode, result.stdout) == (0, "")
    assert (run("", COMMENT_MARKER).returncode, run("", COMMENT_MARKER).stdout) == (0, "")


@pytest.mark.parametrize(("stdin", "args", "message"), [
    ('[{"id": 1}] {"broken', [COMMENT_MARKER], "plan_comment: stdin: not JSON from the GitHub API"),
    ("[1, 2]", [COMMENT_MARKER], "plan_comment: stdin: a comment is a JSON object, got int"),
    ("[]", [" "], "plan_comment: the marker is empty"),
])
def test_bad_input_is_one_line_and_status_2(stdin: str, args: list[str], message: str):
    result = run(stdin, *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr


def test_the_workflow_finds_the_comment_with_the_script():
    workflow = load(ROOT / ".github" / "workflows" / "terraform.yml")
    (post,) = [s for s in workflow["jobs"]["comment"]["steps"] if "run" in s]
    assert post["env"]["MARKER"] == COMMENT_MARKER
    script = post["run"]
    # the comments of every page go to the script, and only its answer is edited
    assert "--paginate" in script
    assert 'python3 .github/scripts/plan_comment.py "$MARKER"' in script
    assert "startswith" not in script  # no second, laxer match inline
