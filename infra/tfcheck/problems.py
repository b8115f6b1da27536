"""The one result type of every check: a located, printable problem."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int | None
    message: str
    check: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: [{self.check}] {self.message}"


def display_path(path: Path) -> str:
    """Relative to the current directory when the file is under it, so messages are clickable."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def problem(path: Path, line: int | None, message: str, check: str) -> Problem:
    return Problem(display_path(path), line, message, check)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """' (did you mean "x"?)' for the nearest candidate, or nothing when none is close."""
    matches = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f' (did you mean "{matches[0]}"?)' if matches else ""


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Deterministic and free of duplicates: a file's problems in line order."""
    return sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.check, p.message))
