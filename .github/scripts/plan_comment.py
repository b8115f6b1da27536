#!/usr/bin/env python3
"""Find the pull request's plan comment that the workflow itself wrote.

    gh api --paginate repos/OWNER/REPO/issues/N/comments | plan_comment.py MARKER [--author LOGIN]

Reads the comments as GitHub's REST API returns them (one JSON array per page, pages written one
after another by `gh api --paginate`) and prints the id of the oldest comment whose body starts
with MARKER and whose author is LOGIN, a bot; prints nothing when there is none. Anyone may post
a comment that starts with the marker: only the workflow's own is edited. The workflow's
GITHUB_TOKEN posts as the bot account "github-actions[bot]", of user type "Bot".

Standard library only: the job that runs it installs nothing. A problem is one line on stderr and
exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any

WORKFLOW_BOT = "github-actions[bot]"


class BadInput(Exception):
    pass


def comments_in(text: str) -> Iterator[dict[str, Any]]:
    """Every comment object in `text`: JSON arrays (or objects) written one after another."""
    decoder = json.JSONDecoder()
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise BadInput(f"not JSON from the GitHub API at character {exc.pos}: {exc.msg}") from None
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, dict):
                raise BadInput(f"a comment is a JSON object, got {type(item).__name__}")
            yield item


def is_own(comment: dict[str, Any], marker: str, author: str = WORKFLOW_BOT) -> bool:
    """Whether `comment` is the plan comment `author` (a bot account) wrote."""
    user = comment.get("user") or {}
    body = comment.get("body") or ""
    return user.get("login") == author and user.get("type") == "Bot" and body.startswith(marker)


def own_comment_id(comments: Iterable[dict[str, Any]], marker: str, author: str = WORKFLOW_BOT) -> int | None:
    """The id of the oldest of `author`'s comments that start with `marker`, or None."""
    own = [c for c in comments if is_own(c, marker, author)]
    if not own:
        return None
    # The API lists comments oldest first; sort anyway, pages may overlap when comments arrive.
    oldest = min(own, key=lambda c: (str(c.get("created_at", "")), c.get("id", 0)))
    if not isinstance(oldest.get("id"), int):
        raise BadInput(f"comment without a numeric id: {oldest.get('id')!r}")
    return oldest["id"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("marker", help="the first line of the plan comment")
    parser.add_argument("--author", default=WORKFLOW_BOT, help=f"the bot login that owns it (default {WORKFLOW_BOT})")
    args = parser.parse_args(argv)
    if not args.marker.strip():
        print("plan_comment: the marker is empty: every comment would match", file=sys.stderr)
        return 2
    try:
        found = own_comment_id(comments_in(sys.stdin.read()), args.marker, args.author)
    except BadInput as exc:
        print(f"plan_comment: stdin: {exc}", file=sys.stderr)
        return 2
    if found is not None:
        print(found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
