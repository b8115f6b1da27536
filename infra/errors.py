"""Errors the renderer reports to a person: one line each, never a traceback."""

from __future__ import annotations


class RenderError(Exception):
    """One or more problems, each a one-line message naming the file and key."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))
