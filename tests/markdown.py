"""Markdown as GitHub renders it: headings and their anchors, relative links that must lead
somewhere (the documentation's own cross-references), and fenced code blocks with the HTML
comment that may stand right before each (`<!-- test: ... -->`, which GitHub does not show)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Section:
    level: int
    title: str
    anchor: str
    body: list[str]  # the lines up to the next heading of the same or a higher level


@dataclass
class CodeBlock:
    line: int  # 1-based line of the opening fence
    language: str  # the fence's info string ("sh", or "" when it names none)
    text: str  # the lines between the fences
    comment: str | None  # an HTML comment on the nearest non-blank line before the fence


def code_blocks(path: Path) -> list[CodeBlock]:
    """Every fenced code block of a Markdown file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[CodeBlock] = []
    opening: int | None = None
    for i, line in enumerate(lines):
        if not line.lstrip().startswith("```"):
            continue
        if opening is None:
            opening = i
            continue
        before = next((lines[j].strip() for j in range(opening - 1, -1, -1) if lines[j].strip()), "")
        comment = m[1].strip() if (m := re.fullmatch(r"<!--(.*)-->", before)) else None
        language = lines[opening].lstrip()[3:].strip()
        blocks.append(CodeBlock(opening + 1, language, "\n".join(lines[opening + 1:i]), comment))
        opening = None
    return blocks


def github_anchor(title: str) -> str:
    """GitHub's heading id: inline markup out, lowercase, punctuation but '-' and '_' dropped,
    spaces to '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)  # a link keeps its text
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def sections(path: Path) -> dict[str, Section]:
    """Every heading of a Markdown file by its anchor (GitHub numbers repeats: "-1", "-2")."""
    headings: list[tuple[int, int, str]] = []  # (line index, level, title)
    lines = path.read_text(encoding="utf-8").splitlines()
    fenced = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fenced = not fenced  # a '#' in a shell block is a comment, not a heading
        elif not fenced and (m := re.match(r"(#{1,6}) +(.+?) *#*$", line)):
            headings.append((i, len(m[1]), m[2]))
    found: dict[str, Section] = {}
    for n, (i, level, title) in enumerate(headings):
        end = next((j for j, lv, _ in headings[n + 1:] if lv <= level), len(lines))
        anchor = base = github_anchor(title)
        count = 0
        while anchor in found:
            count += 1
            anchor = f"{base}-{count}"
        found[anchor] = Section(level, title, anchor, lines[i + 1:end])
    return found


def relative_links(path: Path) -> list[str]:
    """The links of a Markdown file that point into the repository (not URLs), outside code."""
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    return [link for link in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"[a-z]+:", link)]


def relative_link_problems(path: Path, root: Path) -> list[str]:
    """Why each relative link of `path` goes nowhere: a missing file or a missing heading."""
    problems = []
    for link in relative_links(path):
        target, _, anchor = link.partition("#")
        found = (path.parent / target).resolve() if target else path
        if not found.exists():
            problems.append(f"{link}: no file {found.relative_to(root) if found.is_relative_to(root) else found}")
        elif anchor and found.suffix == ".md" and anchor not in sections(found):
            problems.append(f"{link}: no heading with anchor #{anchor} in {found.relative_to(root)}")
    return problems
