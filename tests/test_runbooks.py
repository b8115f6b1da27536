"""docs/runbooks/ against the alerts that link to it.

Every alarm kind of modules/monitoring's catalogue and every EventBridge rule names its runbook
section (`runbook = "<file>.md#<anchor>"`); the description or line it sends ends with the link.
The section must exist under that anchor, as GitHub renders it, and say what the alert means,
what to check first and how to recover.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from markdown import Section, github_anchor, relative_link_problems, sections
from tfhelpers import ROOT, load_module, locals_of, resources, variables_of

from infra.render import Project, load

RUNBOOKS = ROOT / "docs" / "runbooks"
PARTS = ("What it means", "Check first", "Recover")
# The longest runbook_base_url the module's validation admits (300 characters before the '/').
LONGEST_BASE_URL = "https://example.org/" + "x" * 280 + "/"
DESCRIPTION_LIMIT = 1024  # PutMetricAlarm: AlarmDescription, at most 1024 characters


def subheadings(section: Section) -> list[str]:
    """Titles of the headings one level below a section, outside code blocks."""
    titles, fenced = [], False
    for line in section.body:
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"(#{1,6}) +(.+?) *#*$", line)) and len(m[1]) == section.level + 1:
            titles.append(m[2])
    return titles


def missing_parts(section: Section) -> list[str]:
    """The parts a runbook section lacks, or has without a word under them."""
    have = subheadings(section)
    missing = [part for part in PARTS if part not in have]
    for part in PARTS:
        if part in have:
            part_section = part_lines(section, part)
            if not any(line.strip() for line in part_section):
                missing.append(f"{part} (empty)")
    return missing


def part_lines(section: Section, title: str) -> list[str]:
    """The lines under one sub-heading of a section."""
    out, inside, fenced = [], False, False
    for line in section.body:
        if line.lstrip().startswith("```"):
            fenced = not fenced
        heading = None if fenced else re.match(r"(#{1,6}) +(.+?) *#*$", line)
        if heading and len(heading[1]) <= section.level + 1:
            inside = heading[2] == title and len(heading[1]) == section.level + 1
            continue
        if inside:
            out.append(line)
    return out


# ---- What the monitoring module links to ----


@cache
def monitoring_locals() -> dict:
    return locals_of(load_module("monitoring"))


def linked_alerts() -> dict[str, dict]:
    """{"alarm <kind>" | "rule <key>": its catalogue row}."""
    found = {f"alarm {kind}": row for kind, row in monitoring_locals()["alarm_kinds"].items()}
    found.update({f"rule {key}": row for key, row in monitoring_locals()["rules"].items()})
    return found


def test_every_alarm_kind_and_event_rule_names_its_runbook_section():
    for alert, row in linked_alerts().items():
        assert re.fullmatch(r"[a-z0-9-]+\.md#[\w-]+", row.get("runbook") or ""), (
            f"{alert}: runbook = \"<file>.md#<anchor>\" (a section of docs/runbooks/) is missing")


@pytest.mark.parametrize("alert", sorted(linked_alerts()))
def test_each_runbook_link_leads_to_a_section_that_says_what_it_means_what_to_check_and_how_to_recover(alert):
    link = linked_alerts()[alert]["runbook"]
    target, _, anchor = link.partition("#")
    path = RUNBOOKS / target
    assert path.is_file(), f"{alert}: {link}: no file docs/runbooks/{path.name}"
    found = sections(path)
    assert anchor in found, f"{alert}: {link}: no heading with that anchor; there are {sorted(found)}"
    assert not missing_parts(found[anchor]), f"{alert}: {link} lacks {missing_parts(found[anchor])}"


def test_alarm_descriptions_and_event_lines_end_with_the_link():
    parsed = load_module("monitoring")
    (alarm,) = resources(parsed, "aws_cloudwatch_metric_alarm").values()
    assert alarm["alarm_description"] == "${local.alarm_descriptions[each.key]}"
    description = monitoring_locals()["alarm_descriptions"]
    assert re.search(r'Runbook: %s%s",.*var\.runbook_base_url, alarm\.runbook\)', description, re.S), description
    (target,) = resources(parsed, "aws_cloudwatch_event_target").values()
    assert target["input_transformer"][0]["input_template"] == "${local.event_lines[each.key]}"
    lines = monitoring_locals()["event_lines"]
    assert re.search(r'Runbook: %s%s\\"",.*var\.runbook_base_url, rule\.runbook\)', lines, re.S), lines


def test_every_description_fits_cloudwatch_with_the_longest_base_url_the_module_admits():
    validation = variables_of(load_module("monitoring"))["runbook_base_url"]["validation"][0]["condition"]
    assert "{1,300}/$" in validation  # LONGEST_BASE_URL is that bound
    longest_target = " (" + "x" * 40 + "-001)"  # ElastiCache ids: at most 40 characters
    for env in ("dev", "stg", "prod"):
        settings = load(Project(ROOT), env)[1]
        for kind, row in monitoring_locals()["alarm_kinds"].items():
            threshold = getattr(settings.monitoring.alarms, kind).threshold
            text = (f"{row['metric']} > {threshold} {row['unit']}{longest_target}. {row['why']} "
                    f"Runbook: {LONGEST_BASE_URL}{row['runbook']}")
            assert len(text) <= DESCRIPTION_LIMIT, f"{env} {kind}: {len(text)} characters"


@pytest.mark.parametrize("env", ["dev", "stg", "prod"])
def test_each_environment_links_to_the_runbooks_of_the_branch_it_deploys(env):
    settings = load(Project(ROOT), env)[1]
    repo, branch = settings.codepipeline.repository, settings.codepipeline.branch
    rendered = (ROOT / "envs" / env / "monitoring.tf").read_text(encoding="utf-8")
    expected = f"https://github.com/{repo}/blob/{branch}/docs/runbooks/"
    assert re.search(rf'\n\s*runbook_base_url\s*=\s*"{re.escape(expected)}"\n', rendered), expected


# ---- The runbooks themselves ----


def runbook_files() -> list[Path]:
    return sorted(RUNBOOKS.glob("*.md"))


def test_the_index_lists_every_runbook():
    index = (RUNBOOKS / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"\]\(([\w.-]+\.md)\)", index))
    assert {p.name for p in runbook_files() if p.name != "README.md"} <= listed


@pytest.mark.parametrize("path", runbook_files(), ids=lambda p: p.name)
def test_every_relative_link_of_a_runbook_resolves(path):
    assert not relative_link_problems(path, ROOT)


def test_the_top_readme_links_to_the_runbooks():
    assert "(docs/runbooks/README.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


# ---- The anchor rules the tests rely on ----


@pytest.mark.parametrize(("title", "anchor"), [
    ("alb_target_5xx_rate", "alb_target_5xx_rate"),
    ("Deployment failed", "deployment-failed"),
    ("Roll back to the previous release", "roll-back-to-the-previous-release"),
    ("What a failed release leaves", "what-a-failed-release-leaves"),
    ("Lost state: `errored.tfstate`?", "lost-state-erroredtfstate"),
])
def test_github_anchor(title, anchor):
    assert github_anchor(title) == anchor


def test_repeated_headings_get_numbered_anchors(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# A\n## Recover\nx\n## Recover\ny\n```sh\n# not a heading\n```\n")
    assert list(sections(page)) == ["a", "recover", "recover-1"]


def test_a_part_without_text_counts_as_missing(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("## alarm\n### What it means\nx\n### Check first\n```sh\nls\n```\n### Recover\n\n## next\n")
    assert missing_parts(sections(page)["alarm"]) == ["Recover (empty)"]
