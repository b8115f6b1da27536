"""render.py cost: the three environments side by side, overrides, and one line per bad input."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def priced(project: Path) -> Path:
    (project / "cost").mkdir()
    shutil.copy(ROOT / "cost" / "prices.yaml", project / "cost" / "prices.yaml")
    return project


def totals(output: str) -> list[float]:
    (line,) = [row for row in output.splitlines() if row.startswith("Total")]
    return [float(v.replace(",", "")) for v in line.split()[1:]]


def column(output: str, label: str) -> list[str]:
    (line,) = [row for row in output.splitlines() if row.startswith(label)]
    return line[len(label):].split()


def test_every_environment_side_by_side(priced: Path, run):
    result = run("cost")
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0].split()
    assert header[-3:] == ["dev", "stg", "prod"]
    dev, stg, prod = totals(result.stdout)
    assert 0 < dev < prod and 0 < stg < prod
    # every total is the sum of its column
    rows = [r for r in result.stdout.splitlines()[2:] if r and not r.startswith(("-", "Total", "List"))]
    for index, total in enumerate((dev, stg, prod)):
        cells = [r.split()[-3 + index] for r in rows]
        assert sum(float(c.replace(",", "")) for c in cells if c != "-") == pytest.approx(total, abs=0.02)
    assert "List prices of ap-northeast-1 as of" in result.stdout


def test_the_estimate_follows_the_yaml(priced: Path, run):
    before = run("cost", "dev").stdout
    path = priced / "envs" / "dev" / "env.yaml"
    path.write_text(path.read_text().replace("  nat: single", "  nat: per_az"), encoding="utf-8")
    after = run("cost", "dev").stdout
    # two zones: two gateways instead of one (the processed data stays the same)
    assert float(column(after, "NAT gateways")[0]) > 1.9 * float(column(before, "NAT gateways")[0])


def test_set_overrides_an_assumption(priced: Path, run):
    base = run("cost", "prod").stdout
    more = run("cost", "prod", "--set", "prod.requests_per_month=300000000").stdout
    assert float(column(more, "Load balancer")[0]) > float(column(base, "Load balancer")[0])
    assert column(more, "RDS PostgreSQL") == column(base, "RDS PostgreSQL")


def test_markdown_and_detail(priced: Path, run):
    result = run("cost", "dev", "prod", "--markdown", "--detail")
    assert result.exit_code == 0
    assert result.stdout.startswith("| monthly, USD | dev | prod |\n| --- | ---: | ---: |\n")
    assert "  RDS PostgreSQL: db.t4g.small Multi-AZ" in result.stdout


def test_the_cost_page_shows_the_current_estimate():
    """docs/cost.md's table is what `make cost` prints today: a price or YAML change updates it."""
    expected = markdown_of_the_repository()
    page = (ROOT / "docs" / "cost.md").read_text(encoding="utf-8")
    assert expected in page, "docs/cost.md: the cost table is stale; paste `render.py cost --markdown`"


def test_the_cost_page_shows_the_current_what_if_tables():
    expected = markdown_of_the_repository("--what-if")
    page = (ROOT / "docs" / "cost.md").read_text(encoding="utf-8")
    assert expected in page, "docs/cost.md: the what-if tables are stale; paste `render.py cost --what-if --markdown`"


def markdown_of_the_repository(*extra: str) -> str:
    from click.testing import CliRunner

    import render

    result = CliRunner().invoke(render.cli, ["--root", str(ROOT), "cost", "--markdown", *extra],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


BAD = {
    "unknown environment": (None, None, ("cost", "qa"), "naming.yaml: labels.env: unknown environment 'qa'"),
    "instance class without a price": (
        "envs/prod/env.yaml", "instance_class: db.t4g.small", "instance_class: db.r7g.large",
        "cost/prices.yaml: regions.ap-northeast-1.prices.rds_postgres_instance_hour.usd: no price for "
        "'db.r7g.large' (set by envs: rds.instance_class)"),
    "negative price": (
        "cost/prices.yaml", "usd: 0.062", "usd: -0.062",
        "cost/prices.yaml: regions.ap-northeast-1.prices.nat_gateway_hour.usd: must be a non-negative number"),
    "region without prices": (
        "envs/common.yaml", "region: ap-northeast-1", "region: eu-west-1",
        "cost/prices.yaml: regions: no prices for 'eu-west-1'"),
    "unknown checked value": (
        "cost/prices.yaml", "checked: unverified", "checked: maybe",
        "cost/prices.yaml: regions.ap-northeast-1.prices.interface_endpoint_hour.checked: one of seen, unverified"),
    "assumption for an unknown environment": (
        "cost/prices.yaml", "value: {default: 2, prod: 10}", "value: {default: 2, prd: 10}",
        "cost/prices.yaml: assumptions.app_log_gb_per_month.value: a non-negative number, or {default: N, "
        "<env>: N}; unknown environment(s) prd"),
    "priced type on a line that does not exist": (
        "cost/prices.yaml", "aws_nat_gateway: nat_gateways", "aws_nat_gateway: nat",
        "cost/prices.yaml: resource_types.priced.aws_nat_gateway: no estimate line 'nat'"),
    "invalid YAML": (
        "cost/prices.yaml", "hours_per_month: 730", "hours_per_month: [730",
        "cost/prices.yaml:"),
    "source date that is not a date": (
        "cost/prices.yaml", 'source_date: "2020-06-08"', "source_date: June 2020",
        "cost/prices.yaml: regions.ap-northeast-1.prices.nat_gateway_hour.source_date: the date of the page"),
    "empty derivation": (
        "cost/prices.yaml", "        derived: >-\n", "        derived:\n        derived_was: >-\n",
        "cost/prices.yaml: regions.ap-northeast-1.prices.fargate_vcpu_hour.derived: say how"),
    "bad --set name": (None, None, ("cost", "--set", "requests=1"), "--set requests=1: expected [ENV.]NAME=NUMBER"),
    "bad --set value": (None, None, ("cost", "--set", "s3_gb=-1"), "--set s3_gb=-1: expected"),
    "bad --set environment": (None, None, ("cost", "--set", "qa.s3_gb=1"), "--set qa.s3_gb=1: expected"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_and_exit_2(priced: Path, run, case: str):
    relpath, old, new, expected = BAD[case]
    if relpath:  # a file edit
        edit(priced / relpath, old, new)
        args: tuple[str, ...] = ("cost",)
    else:  # command-line arguments
        args = new
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and expected in lines[0], lines[0]


def test_missing_price_file(priced: Path, run):
    (priced / "cost" / "prices.yaml").unlink()
    result = run("cost")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: cost/prices.yaml: no such file"]


def test_help_describes_the_command(run):
    result = run("cost", "-h")
    assert result.exit_code == 0
    assert re.search(r"Monthly cost estimate of each environment", result.stdout)
