"""render.py cost --what-if and --with: every priced option is a YAML the renderer renders, and the
command's tables agree with the plain estimate."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from infra import whatif
from infra.cost import load_prices
from infra.render import Project, load, render_envs, rules_for

ROOT = Path(__file__).resolve().parents[2]
ENVS = ["dev", "stg", "prod"]


@pytest.fixture
def priced(project: Path) -> Path:
    (project / "cost").mkdir()
    shutil.copy(ROOT / "cost" / "prices.yaml", project / "cost" / "prices.yaml")
    return project


def every_option(project: Path) -> dict[str, list[whatif.Row]]:
    """Each environment's what-if rows (the current YAML left out), priced with the real table."""
    proj = Project(project)
    rules = rules_for(proj)
    table = load_prices(ROOT / "cost" / "prices.yaml", "ap-northeast-1", "cost/prices.yaml", ENVS)
    return {env: whatif.what_if(proj.envs, rules, env, table).rows[1:] for env in ENVS}


def test_every_priced_option_renders_as_the_yaml_that_selects_it(project: Path):
    """Each option (and the savings together) written into env.yaml renders, and the renderer
    reads from that file exactly the settings the estimate priced."""
    options = every_option(project)
    proj = Project(project)
    originals = {env: (project / "envs" / env / "env.yaml").read_text(encoding="utf-8") for env in ENVS}
    assert min(len(rows) for rows in options.values()) >= 6  # 2 NAT, 1 CPU, >= 1 Spot, 1 sleep, together
    rendered_options = 0
    # One environment at a time, the others as committed: an option refused for one (nat none
    # with blue/green) must not hide whether another's renders.
    for env, rows in options.items():
        for row in rows:
            settings = whatif.merge_settings(yaml.safe_load(originals[env]), row.option.settings)
            (project / "envs" / env / "env.yaml").write_text(yaml.safe_dump(settings, sort_keys=False),
                                                             encoding="utf-8")
            rendered, problems = render_envs(proj, [env])
            label = f"{env}: {row.option.label}"
            if row.total is None:  # refused by the what-if: the renderer refuses the same YAML
                assert any(row.problem.split(": ", 2)[-1] in p for p in problems), (label, row.problem, problems)
            else:
                assert env in rendered, (label, problems)
                assert any(path.name == "main.tf" for path in rendered[env].files), label
                _, from_file, _ = load(proj, env)
                variant, _ = whatif.load_variant(ROOT / "envs", rules_for(proj), env,
                                                 (("what-if", row.option.settings),))
                assert from_file == variant, label
                rendered_options += 1
            (project / "envs" / env / "env.yaml").write_text(originals[env], encoding="utf-8")
    assert rendered_options >= 18


def test_what_if_table_for_each_environment(priced: Path, run):
    plain = run("cost").stdout
    (total_line,) = [line for line in plain.splitlines() if line.startswith("Total")]
    totals = dict(zip(ENVS, total_line.split()[1:], strict=True))
    result = run("cost", "--what-if")
    assert result.exit_code == 0, result.output
    blocks = result.stdout.split("\n\n")
    for env, block in zip(ENVS, blocks, strict=False):
        lines = block.splitlines()
        assert lines[0].startswith(f"{env}: nat ")
        assert lines[1].split() == ["option", "monthly,", "USD", "vs", "current"]
        current = lines[3].split()
        assert current[:2] == ["current", "YAML"] and current[2] == totals[env]
        base = float(current[2].replace(",", ""))
        rows = [line for line in lines[4:] if not line.startswith("  ")]
        assert len(rows) >= 6, rows
        for row in rows:
            if " refused " in row:  # the reason follows, naming the file and key
                assert "env.yaml: " in row, row
                continue
            *_, monthly, delta = row.split()
            assert float(delta.replace(",", "")) == pytest.approx(float(monthly.replace(",", "")) - base, abs=0.011)
        (nat_none,) = [line for line in rows if line.startswith("network.nat: none, +")]
        if " refused " not in nat_none:  # blue/green needs NAT: no break-even to state then
            assert any("vs nat single: the endpoints cost" in line for line in lines)
    assert "Prices the options move (cost/prices.yaml, ap-northeast-1" in result.stdout
    assert "  fargate_spot_discount: 0.67\n      assumption: " in result.stdout


def test_what_if_prices_the_environments_own_sleeping_hours(priced: Path, run):
    path = priced / "envs" / "dev" / "env.yaml"
    after = run("cost", "dev").stdout  # dev's env.yaml sets working_hours
    assert "working_hours:" in path.read_text(encoding="utf-8")
    text = re.sub(r"^working_hours:.*$", "working_hours: null", path.read_text(encoding="utf-8"), flags=re.M)
    path.write_text(text, encoding="utf-8")
    before = run("cost", "dev").stdout
    path.write_text(text.replace("working_hours: null", 'working_hours: {timezone: Asia/Tokyo, days: [MON, TUE, '
                                 'WED, THU, FRI], start: "08:00", end: "21:00"}'), encoding="utf-8")
    result = run("cost", "dev", "--what-if")
    assert result.exit_code == 0, result.output
    assert "awake 65 of 168 h a week" in result.stdout
    (row,) = [line for line in result.stdout.splitlines() if line.startswith("working_hours: null")]
    total = lambda out: float([r for r in out.splitlines() if r.startswith("Total")][0].split()[1])  # noqa: E731
    assert total(after) < total(before)
    assert float(row.split()[-2]) == pytest.approx(total(before), abs=0.01)  # awake again = as before


def test_with_changes_the_estimate(priced: Path, run):
    base = run("cost", "prod").stdout
    single = run("cost", "prod", "--with", "network.nat=single").stdout
    nat = lambda out: float([r for r in out.splitlines() if r.startswith("NAT gateways")][0].split()[-1])  # noqa: E731
    assert nat(single) == pytest.approx(nat(base) / 3, abs=1.0)  # one gateway instead of three


def test_markdown_what_if(priced: Path, run):
    result = run("cost", "prod", "--what-if", "--markdown")
    assert result.exit_code == 0
    assert result.stdout.startswith("**prod** (nat per_az, ")
    assert "| option | monthly, USD | vs current |\n| --- | ---: | ---: |\n| current YAML | " in result.stdout


@pytest.mark.parametrize(("args", "expected"), [
    (("--with", "ecs.cpu_architecture=SPARC"), "error: --with ecs.cpu_architecture=SPARC: ecs.cpu_architecture: "
                                               "Input should be 'X86_64' or 'ARM64'"),
    (("--with", "network.nat"), "error: --with network.nat: expected [ENV.]KEY.PATH=VALUE"),
    (("--with", "ecs.desired_count=0", "--what-if"), "error: --with ecs.desired_count=0: envs/common.yaml: ecs: "
                                                           "need min_capacity <= desired_count"),
    (("--with", "working_hours.end=22:00"), "error: --with working_hours.end=22:00: "
                                               'working_hours.end: write the time in quotes ("HH:MM")'),
])
def test_bad_with_is_one_line_and_exit_2(priced: Path, run, args, expected):
    result = run("cost", "dev", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) >= 1 and all(line.startswith("error: --with ") for line in lines), lines
    assert lines[0].startswith(expected), lines[0]
