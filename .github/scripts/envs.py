#!/usr/bin/env python3
"""What .github/workflows/terraform.yml asks of the environments' YAML.

    envs.py affected < changed-paths        JSON list of the environments a change may re-plan
    envs.py branch BRANCH                   JSON list of the environments a push to BRANCH applies
    envs.py roles                           roles={ENV: {region, plan_role_arn, apply_role_arn}} as
                                            compact JSON, one line (for $GITHUB_OUTPUT)
    envs.py summary ENV PLAN_JSON [PLAN_TXT]  Markdown summary of a saved plan (`terraform show -json`)

Every fact comes from envs/*.yaml and naming.yaml, as for render.py. Each environment has its own
AWS account (account_id of its env.yaml) and its own plan and apply roles there, created by
envs/bootstrap/<env>. A problem is one line on stderr and exit status 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from infra.errors import RenderError  # noqa: E402
from infra.github import affected_envs, environments, envs_for_branch, plan_summary, role_arn  # noqa: E402
from infra.naming import load_rules  # noqa: E402
from infra.render import Project, load  # noqa: E402

CONTEXT = {"help_option_names": ["-h", "--help"]}


def _environments(root: Path):
    rules = load_rules(root / "naming.yaml")
    return rules, environments(root / "envs", rules.labels["env"])


@click.group(context_settings=CONTEXT)
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=ROOT, hidden=True)
@click.pass_context
def cli(ctx: click.Context, root: Path) -> None:
    """Environments, roles and plan summaries for the GitHub workflows."""
    ctx.obj = root


@cli.command()
@click.pass_obj
def affected(root: Path) -> None:
    """Read changed paths (one per line) on stdin; print the environments to plan as JSON."""
    paths = [line.strip() for line in sys.stdin if line.strip()]
    _, envs = _environments(root)
    click.echo(json.dumps(affected_envs(paths, envs)))


@cli.command()
@click.argument("name")
@click.pass_obj
def branch(root: Path, name: str) -> None:
    """The environments whose codepipeline.branch is NAME, as JSON."""
    _, envs = _environments(root)
    click.echo(json.dumps(envs_for_branch(envs, name)))


@cli.command()
@click.pass_obj
def roles(root: Path) -> None:
    """Each environment's region and OIDC roles (envs/bootstrap/ENV), as one roles=JSON line."""
    rules, envs = _environments(root)
    if not envs:
        raise RenderError("envs/: no environment has an env.yaml")
    project = Project(root)
    found: dict[str, dict[str, str]] = {}
    for env_name in envs:
        # Every environment has its own account (account_id) and its own roles in it.
        _, env, names = load(project, env_name, rules)
        bootstrap = names.by_module["bootstrap"]
        found[env_name] = {
            "region": env.region,
            "plan_role_arn": role_arn(env, bootstrap["github_plan_role"]),
            "apply_role_arn": role_arn(env, bootstrap["github_apply_role"]),
        }
    click.echo("roles=" + json.dumps(found, separators=(",", ":")))


@cli.command()
@click.argument("env")
@click.argument("plan_json", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("plan_text", type=click.Path(dir_okay=False, path_type=Path), required=False)
def summary(env: str, plan_json: Path, plan_text: Path | None) -> None:
    """Markdown summary of one environment's saved plan."""
    try:
        plan = json.loads(plan_json.read_text(encoding="utf-8"))
        text = plan_text.read_text(encoding="utf-8") if plan_text else ""
    except OSError as exc:
        raise RenderError(f"{exc.filename}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise RenderError(f"{plan_json}: not JSON from `terraform show -json` (line {exc.lineno})") from None
    if not isinstance(plan, dict):
        raise RenderError(f"{plan_json}: not a plan from `terraform show -json`")
    click.echo(plan_summary(env, plan, text), nl=False)


def main() -> None:
    try:
        cli(standalone_mode=False)
    except RenderError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        sys.exit(2)


if __name__ == "__main__":
    main()
