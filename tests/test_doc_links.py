"""Every relative link of the documentation leads to a file, and to a heading when it names one:
the front page, CONTRIBUTING, the changelog, docs/ and the READMEs of the app and the modules."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown import relative_link_problems

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted({
    *(ROOT / name for name in ("README.md", "CONTRIBUTING.md", "CHANGELOG.md")),
    ROOT / "app" / "README.md",
    *(ROOT / "docs").rglob("*.md"),
    *(ROOT / "modules").glob("*/README.md"),
})


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(path: Path):
    assert not relative_link_problems(path, ROOT)


def test_a_broken_link_and_a_missing_heading_are_named(tmp_path: Path):
    (tmp_path / "other.md").write_text("# Other\n\n## A section\n")
    page = tmp_path / "page.md"
    page.write_text("[ok](other.md#a-section) [file](gone.md) [heading](other.md#nowhere) [self](#page)\n"
                    "# Page\n`[code](not-a-link.md)`\n")
    assert relative_link_problems(page, tmp_path) == [
        "gone.md: no file gone.md", "other.md#nowhere: no heading with anchor #nowhere in other.md"]
