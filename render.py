#!/usr/bin/env python3
"""Render the per-environment Terraform roots from YAML, and check them.

Every AWS name comes from naming.yaml; every setting from envs/common.yaml
merged with envs/ENV/env.yaml. This file only parses arguments and turns
problems into one-line messages; the work is in the infra package.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from infra.errors import RenderError
from infra.render import Project, differences, load, render_env, render_envs, rules_for, write
from infra.terraform import fmt_check, fmt_write

ROOT = Path(__file__).resolve().parent
CONTEXT = {"help_option_names": ["-h", "--help"]}


def fail(problems: list[str]) -> None:
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    sys.exit(2)


def project() -> Project:
    return Project(Path(click.get_current_context().obj or ROOT))


@click.group(context_settings=CONTEXT)
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None, hidden=True,
              help="Project root (for tests).")
@click.pass_context
def cli(ctx: click.Context, root: Path | None) -> None:
    """Render and check the Terraform roots of envs/ from YAML and naming.yaml."""
    ctx.obj = root.resolve() if root else ROOT


@cli.command()
@click.argument("env")
def render(env: str) -> None:
    """Write envs/ENV/*.tf and its bootstrap root envs/bootstrap/ENV/*.tf from the YAML.

    Nothing is written when any input is invalid; files are replaced atomically.
    """
    proj = project()
    try:
        changed = write(proj, env, render_env(proj, env))
    except RenderError as exc:
        fail(exc.problems)
    for path in changed:
        click.echo(f"wrote {proj.rel(path)}" if path.exists() else f"removed {proj.rel(path)}")
    click.echo(f"{env}: {len(changed)} file(s) changed")


@cli.command()
@click.argument("envs", nargs=-1)
def check(envs: tuple[str, ...]) -> None:
    """Fail when the committed files differ from a fresh render (default: every environment)."""
    proj = project()
    problems: list[str] = []
    try:
        rules = rules_for(proj)
        selected = list(envs) or rules.labels["env"]
        rendered, problems = render_envs(proj, selected, rules)
        for env, files in rendered.items():
            problems.extend(differences(proj, env, files))
    except RenderError as exc:
        problems.extend(exc.problems)
    if problems:
        fail(problems)
    click.echo(f"up to date: {', '.join(selected)}")


@cli.command()
@click.argument("env")
@click.option("--json", "as_json", is_flag=True, help='Print [{"kind": ..., "name": ...}, ...].')
def names(env: str, as_json: bool) -> None:
    """Every AWS name of the environment, with its Terraform resource type."""
    proj = project()
    try:
        _, _, env_names = load(proj, env)
    except RenderError as exc:
        fail(exc.problems)
    listing = env_names.listing()
    if as_json:
        click.echo(json.dumps(listing, indent=2))
        return
    width = max(len(item["kind"]) for item in listing)
    for item in listing:
        click.echo(f"{item['kind']:<{width}}  {item['name']}")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
def lint(paths: tuple[Path, ...]) -> None:
    """Parse, interface and provider-schema checks of the Terraform (default: modules/ and envs/)."""
    from infra.tfcheck import check_paths

    proj = project()
    roots = list(paths) or [proj.root / "modules", proj.envs]
    problems = check_paths(roots, proj.root / "schema" / "aws_provider.json")
    if problems:
        fail([str(p) for p in problems])
    click.echo(f"no problems in {', '.join(proj.rel(Path(r).resolve()) for r in roots)}")


@cli.command()
@click.argument("envs", nargs=-1)
@click.option("--set", "overrides", multiple=True, metavar="[ENV.]NAME=VALUE",
              help="Override a usage assumption of cost/prices.yaml for this run (repeatable).")
@click.option("--with", "settings", multiple=True, metavar="[ENV.]KEY.PATH=VALUE",
              help="Price the YAML with this setting changed (YAML value, validated like env.yaml; repeatable).")
@click.option("--what-if", "what_if", is_flag=True,
              help="Per environment: NAT per zone / single / none with endpoints, x86 / ARM, Spot shares and "
                   "sleeping hours, each priced against the current YAML, with the NAT break-even traffic.")
@click.option("--markdown", is_flag=True, help="A Markdown table (the README's).")
@click.option("--detail", is_flag=True, help="Also print what each line counts.")
def cost(envs: tuple[str, ...], overrides: tuple[str, ...], settings: tuple[str, ...], what_if: bool,
         markdown: bool, detail: bool) -> None:
    """Monthly cost estimate of each environment, side by side (default: every environment).

    Computed from the same merged YAML that renders the roots, with the prices and usage
    assumptions of cost/prices.yaml.
    """
    from infra import cost as costs
    from infra import whatif

    proj = project()
    try:
        rules = rules_for(proj)
        selected = list(envs) or rules.labels["env"]
        layers = whatif.parse_with(list(settings), rules.labels["env"])
        loaded = {env: whatif.load_variant(proj.envs, rules, env, layers.get(env, ())) for env in selected}
        region = next(iter(loaded.values()))[0].region
        prices = proj.root / "cost" / "prices.yaml"
        table = costs.load_prices(prices, region, proj.rel(prices), rules.labels["env"])
        table = costs.apply_overrides(table, list(overrides), rules.labels["env"])
        if what_if:
            results = [whatif.what_if(proj.envs, rules, env, table, layers[env]) for env in selected]
        else:
            estimates = {env: costs.estimate(env, found, names, table) for env, (found, names) in loaded.items()}
    except RenderError as exc:
        fail(exc.problems)
    if what_if:
        click.echo((whatif.format_markdown if markdown else whatif.format_text)(results, table), nl=False)
        return
    click.echo((costs.format_markdown if markdown else costs.format_text)(estimates, table), nl=False)
    if detail:
        click.echo("\n" + costs.format_details(estimates), nl=False)


@cli.command()
@click.argument("envs", nargs=-1)
@click.option("--markdown", is_flag=True, help="A Markdown table (docs/recovery.md's).")
def recovery(envs: tuple[str, ...], markdown: bool) -> None:
    """Recovery objectives (RPO, RTO) of each environment's database, side by side (default: every one).

    Computed from the same merged YAML that renders the roots, with the AWS figures of
    cost/recovery.yaml.
    """
    from infra.recovery import format_markdown, format_text, load_figures, objectives

    proj = project()
    try:
        rules = rules_for(proj)
        selected = list(envs) or rules.labels["env"]
        path = proj.root / "cost" / "recovery.yaml"
        figures = load_figures(path, proj.rel(path))
        results = {env: objectives(load(proj, env, rules)[1], figures) for env in selected}
    except RenderError as exc:
        fail(exc.problems)
    click.echo((format_markdown if markdown else format_text)(results, figures), nl=False)


@cli.command()
@click.option("--check", "only_check", is_flag=True, help="Change nothing; fail when a file is not formatted.")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def fmt(only_check: bool, paths: tuple[Path, ...]) -> None:
    """terraform fmt over modules/ and envs/ (or PATHS)."""
    proj = project()
    roots = list(paths) or [proj.root / "modules", proj.envs]
    try:
        if only_check:
            unformatted = fmt_check(roots)
            if unformatted:
                fail([f"{name}: not terraform fmt-clean (run `make fmt`)" for name in unformatted])
            click.echo("formatted: " + ", ".join(proj.rel(Path(r).resolve()) for r in roots))
        else:
            fmt_write(roots)
    except RenderError as exc:
        fail(exc.problems)


if __name__ == "__main__":
    cli()
