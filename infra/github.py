"""What GitHub Actions needs from the environments' YAML.

Each environment deploys from one branch of one repository (codepipeline.branch and
codepipeline.repository); the OIDC apply role of envs/bootstrap trusts exactly those, the
apply workflow applies the environments of the pushed branch, and a pull request plans the
environments its changes reach. The plan summary posted on pull requests is built here too,
from `terraform show -json`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .config import Environment
from .errors import RenderError
from .loader import cross_environment_problems, load_environment

# Inputs of every environment root: a change here may change any plan. (A change to one
# root's own folder reaches that root only; envs/bootstrap keeps local state and is applied by
# hand, so no workflow plans it.)
EVERY_ROOT = ("modules/", "templates/")
EVERY_ROOT_FILES = ("naming.yaml", "envs/common.yaml")


def environments(envs_dir: Path, labels: list[str], known: dict[str, Environment] | None = None,
                 ) -> dict[str, Environment]:
    """Every environment label of naming.yaml that has an env.yaml, validated, in label order.

    A label without its folder is an environment not created yet (README, "Adding an
    environment"), not an error. Problems of all environments are reported together.
    """
    found: dict[str, Environment] = {}
    problems: list[str] = []
    for label in labels:
        if known and label in known:
            found[label] = known[label]
        elif (envs_dir / label / "env.yaml").is_file():
            try:
                found[label] = load_environment(envs_dir, label, labels)
            except RenderError as exc:
                problems.extend(exc.problems)
    problems = problems or cross_environment_problems(envs_dir, found)
    if problems:
        raise RenderError(problems)
    return found


def deployments(envs: dict[str, Environment]) -> dict[str, dict[str, str]]:
    """{env: {"repository": OWNER/NAME, "branch": BRANCH}}: what the apply role trusts."""
    return {name: {"repository": env.codepipeline.repository, "branch": env.codepipeline.branch}
            for name, env in envs.items()}


def envs_for_branch(envs: dict[str, Environment], branch: str) -> list[str]:
    """The environments a push to `branch` applies."""
    return [name for name, env in envs.items() if env.codepipeline.branch == branch]


def affected_envs(paths: Iterable[str], envs: Iterable[str]) -> list[str]:
    """The environments whose plan a change to `paths` (relative, '/'-separated) may change."""
    ordered = list(envs)
    affected: set[str] = set()
    for path in paths:
        if path.startswith(EVERY_ROOT) or path in EVERY_ROOT_FILES:
            return ordered
        parts = path.split("/")
        if len(parts) >= 3 and parts[0] == "envs" and parts[1] in ordered:
            affected.add(parts[1])
    return [name for name in ordered if name in affected]


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def role_arn(env: Environment, role_name: str) -> str:
    return f"arn:{partition(env.region)}:iam::{env.account_id}:role/{role_name}"


# ---- Plan summary -------------------------------------------------------------------

COMMENT_MARKER = "<!-- terraform-plan -->"
# GitHub refuses comments over 65,536 characters; three environments share one comment.
TEXT_LIMIT = 15_000

_ACTION_NAMES = {
    ("create",): "create",
    ("update",): "update",
    ("delete",): "destroy",
    ("delete", "create"): "replace",
    ("create", "delete"): "replace",
    ("read",): "read",
}


def _action(actions: list[str]) -> str | None:
    if actions in (["no-op"], []):
        return None
    return _ACTION_NAMES.get(tuple(actions), "+".join(actions))


def plan_summary(env: str, plan: dict[str, Any], text: str = "") -> str:
    """Markdown for one environment: counts, each changed address, the plan text folded."""
    changes: list[tuple[str, str]] = []
    for change in plan.get("resource_changes", []):
        action = _action(change.get("change", {}).get("actions", []))
        if action and action != "read":
            changes.append((action, change["address"]))
    counts = {name: sum(1 for action, _ in changes if action == name)
              for name in ("create", "update", "replace", "destroy")}
    lines = [f"### `{env}`: " + (", ".join(f"{n} to {a}" for a, n in counts.items() if n) or "no changes")]
    drift = [d["address"] for d in plan.get("resource_drift", [])]
    if drift:
        lines.append(f"Changed outside Terraform: {', '.join(f'`{a}`' for a in drift)}")
    if counts["destroy"] or counts["replace"]:
        lines.append("**This plan destroys or replaces resources.**")
    if changes:
        lines += ["", "| action | address |", "| --- | --- |"]
        lines += [f"| {action} | `{address}` |" for action, address in sorted(changes, key=lambda c: c[1])]
    if text.strip():
        shown = text.strip()
        if len(shown) > TEXT_LIMIT:
            shown = shown[:TEXT_LIMIT] + f"\n... ({len(text) - TEXT_LIMIT} more characters in the job log)"
        lines += ["", "<details><summary>terraform plan</summary>", "", "```text", shown, "```", "", "</details>"]
    return "\n".join(lines) + "\n"
