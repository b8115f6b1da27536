#!/usr/bin/env python3
"""Validate and plan every environment offline, against a mocked AWS provider.

The AWS provider comes from the registry through an ordinary `terraform init`, held to each
root's committed .terraform.lock.hcl (-lockfile=readonly); where the registry is out of reach,
from a Terraform filesystem mirror folder given by --mirror or TF_PLUGIN_MIRROR
(layout: MIRROR/registry.terraform.io/hashicorp/aws/VERSION/OS_ARCH/terraform-provider-aws_*;
`terraform providers mirror` fills one, see docs/operations.md).

For each environment (default: dev stg prod, plus the variants rendered into a temporary project
copy: "https", prod with a zone of its own for the apex and a wildcard, and "nonat", dev without
NAT gateways and with the interface endpoints its tasks need) it copies modules/ and the root to
a temporary folder, applies the shims of tools/tfwork.py, runs `terraform init -backend=false`
and `terraform validate`, then `terraform test` with two generated plan-only tests
(one mock_provider per provider alias of the root; see PLAN_TESTS): one leaves
computed values unknown as in a first plan (catches for_each/count keys unknown
until apply), one makes mocked values known (variable validations and
preconditions check realistic ARNs). Nothing is written in the repository's tree but the
registry's plugin cache (.local/terraform-plugins, git-ignored; TF_PLUGIN_CACHE_DIR moves it).

    .venv/bin/python tools/plan_offline.py [ENV ...]                        # the registry
    TF_PLUGIN_MIRROR=DIR .venv/bin/python tools/plan_offline.py [ENV ...]   # a mirror

Exit status: 0 all passed, 1 a step failed, 2 cannot run (neither the registry nor a mirror,
no AWS provider in the mirror, no terraform, unknown environment).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from tfwork import (
    LOCK_FILE,
    MOCK,
    SHIMS,
    CannotRun,
    Providers,
    StepFailed,
    apply_shims,
    copy_root,
    find_providers,
    hcl_string,
    terraform,
    useful_error,
)
from tfwork import (
    provider_aliases as tfwork_provider_aliases,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.errors import RenderError  # noqa: E402
from infra.terraform import terraform_binary  # noqa: E402

DEFAULT_ENVS = ("dev", "stg", "prod", "https", "nonat")
ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "ap-northeast-1"
# Variants: an environment's YAML with some keys replaced, rendered in a temporary project copy.
# "https": prod's domain replaced by a zone this root creates, for the apex and a wildcard: the
# create_zone path and the shared ACM validation record of "*.example.com" and "example.com".
# "nonat": dev without NAT gateways, with the interface endpoints its tasks need (infra/endpoints.py).
VARIANTS = {
    "https": ("prod", {"domain": {"zone_name": "example.com", "create_zone": True,
                                  "names": ["example.com", "*.example.com"]}}),
    "nonat": ("dev", {"network": {"nat": "none", "interface_endpoints": [
        "ecr.api", "ecr.dkr", "logs", "ssm", "secretsmanager", "ssmmessages", "kms"]}}),
}


# Attributes of mocked resources that modules check (ARN validations) or need as real
# values; everything else gets Terraform's random mock strings.
MOCK_RESOURCES = {
    "aws_kms_key": {"arn": "arn:aws:kms:{region}:{account}:key/11111111-2222-3333-4444-555555555555"},
    "aws_elasticache_replication_group": {"arn": "arn:aws:elasticache:{region}:{account}:replicationgroup:mock"},
    "aws_elasticache_user": {"arn": "arn:aws:elasticache:{region}:{account}:user:mock"},
}


def provider_aliases(root: Path) -> tuple[list[str], str]:
    """The aliases of the root's aws providers ("" for the default one) and their region."""
    aliases, region = tfwork_provider_aliases(root)
    return aliases, region or DEFAULT_REGION


# The plan-only test files written to the root's tests/: the same mocks, two modes.
PLAN_TESTS = {
    # Computed attributes stay unknown as in the first plan of an empty account:
    # catches for_each/count keys that are not known until apply.
    "plan.tftest.hcl": None,
    # Mocked computed values (ARNs, ids) known at plan time (Terraform >= 1.11), so
    # variable validations and preconditions check realistic values, not unknowns.
    "plan_known.tftest.hcl": "plan",
}


def plan_test(aliases: list[str], region: str, override_during: str | None) -> str:
    """A test file: every aws provider of the root mocked, one plan-only run."""
    defaults = {
        # `name` for 5.x (and the region shim), `region` for 6.x.
        "aws_region": {"name": region, "region": region},
        "aws_caller_identity": {"account_id": ACCOUNT_ID},
        "aws_partition": {"partition": "aws", "dns_suffix": "amazonaws.com"},
        "aws_iam_policy_document": {"json": "{}"},
        "aws_elb_service_account": {"arn": "arn:aws:iam::582318560864:root"},
    }

    def body(kind: str, rtype: str, values: dict[str, str]) -> str:
        lines = [f'  {kind} "{rtype}" {{', "    defaults = {"]
        for key, value in values.items():
            value = value.replace("{region}", region).replace("{account}", ACCOUNT_ID)
            lines.append(f"      {key} = {hcl_string(value)}")
        lines += ["    }", "  }"]
        return "\n".join(lines)

    blocks = ["# Generated by tools/plan_offline.py: an offline plan against mocked providers.\n"]
    for alias in aliases:
        parts = [f'  alias = "{alias}"'] if alias else []
        if override_during:
            parts.append(f"  override_during = {override_during}")
        parts += [body("mock_data", t, v) for t, v in defaults.items()]
        parts += [body("mock_resource", t, v) for t, v in MOCK_RESOURCES.items()]
        blocks.append('mock_provider "aws" {\n' + "\n\n".join(parts) + "\n}\n")
    blocks.append('run "plan" {\n  command = plan\n}\n')
    return "\n".join(blocks)


# ---- Running -----------------------------------------------------------------------


def render_variant(name: str, work: Path) -> Path:
    """Render a variant's base root with its keys replaced in a temporary project copy; return the root."""
    base, replaced = VARIANTS[name]
    project = work / "project"
    (project / "envs" / base).mkdir(parents=True)
    shutil.copy2(ROOT / "naming.yaml", project / "naming.yaml")
    shutil.copytree(ROOT / "templates", project / "templates")
    shutil.copy2(ROOT / "envs" / "common.yaml", project / "envs" / "common.yaml")
    settings = yaml.safe_load((ROOT / "envs" / base / "env.yaml").read_text(encoding="utf-8"))
    for key, value in replaced.items():
        current = settings.get(key)
        # A section's other keys stay as the environment has them.
        settings[key] = {**current, **value} if isinstance(current, dict) and isinstance(value, dict) else value
    (project / "envs" / base / "env.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    # The same providers as the base root: its lock holds the variant too.
    if (ROOT / "envs" / base / LOCK_FILE).is_file():
        shutil.copy2(ROOT / "envs" / base / LOCK_FILE, project / "envs" / base / LOCK_FILE)
    proc = subprocess.run([sys.executable, str(ROOT / "render.py"), "--root", str(project), "render", base],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise StepFailed("render", useful_error(proc.stdout + proc.stderr, work) or "    (no output)")
    return project / "envs" / base


def run_env(name: str, terraform_bin: str, providers: Providers, verbose: bool = False) -> bool:
    """Every step for one environment; print one line per step. True when all passed.
    CannotRun (the registry out of reach) stops the whole run."""
    with tempfile.TemporaryDirectory(prefix=f"plan-offline-{name}-") as tmp:
        work = Path(tmp)
        step = "copy"
        try:
            started = time.perf_counter()
            if name in VARIANTS:
                step = "render"
                source_root = render_variant(name, work)
                print(f"{name}: render ok ({time.perf_counter() - started:.1f}s)", flush=True)
            else:
                source_root = ROOT / "envs" / name
            copy = work / "copy"
            root = copy_root(source_root, copy, name)
            for stale in apply_shims(copy, providers.major, providers.shims(root, MOCK)):
                print(f"{name}: warning: shim {stale!r} matched nothing; is it stale?", flush=True)
            aliases, region = provider_aliases(root)
            (root / "tests").mkdir()
            for filename, override_during in PLAN_TESTS.items():
                text = plan_test(aliases, region, override_during)
                (root / "tests" / filename).write_text(text, encoding="utf-8")
            env = providers.env(work)
            for step, args in (
                ("init", ["init", "-backend=false", "-input=false", "-no-color", *providers.init_args(root)]),
                ("validate", ["validate", "-no-color"]),
                ("plan", ["test", "-no-color"]),
            ):
                started = time.perf_counter()
                output = terraform(terraform_bin, args, root, env, step, work, verbose)
                if step == "plan" and f"Success! {len(PLAN_TESTS)} passed, 0 failed" not in output:
                    raise StepFailed(step, useful_error(output, work))
                print(f"{name}: {step} ok ({time.perf_counter() - started:.1f}s)", flush=True)
        except StepFailed as exc:
            print(f"{name}: {exc.step} FAILED\n{exc.detail}", flush=True)
            return False
        except OSError as exc:
            print(f"{name}: {step} FAILED\n    {exc}", flush=True)
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("envs", nargs="*", metavar="ENV",
                        help=f"environments to check (default: {' '.join(DEFAULT_ENVS)}); "
                             "'https' is prod with a zone of its own, 'nonat' dev without NAT")
    parser.add_argument("--mirror", type=Path, default=None,
                        help="Terraform filesystem mirror folder holding the AWS provider "
                             "(default: $TF_PLUGIN_MIRROR; neither: the registry)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print terraform's full output of every step")
    parser.add_argument("--list-shims", action="store_true", help="print the shims and their reasons, then exit")
    args = parser.parse_args(argv)

    if args.list_shims:
        for shim in SHIMS:
            print(f"{shim.name} ({shim.when}, {shim.files}): {shim.reason}")
        return 0
    try:
        envs = args.envs or list(DEFAULT_ENVS)
        unknown = [e for e in envs if e not in VARIANTS and not (ROOT / "envs" / e / "providers.tf").is_file()]
        if unknown:
            raise CannotRun(f"unknown environment(s): {', '.join(unknown)}")
        providers = find_providers(args.mirror)
        terraform_bin = terraform_binary()
    except (CannotRun, RenderError) as exc:
        print(f"plan_offline: {exc}", file=sys.stderr)
        return 2

    print(f"{providers.describe()}; shims for provider < 6.0 "
          f"{'applied' if providers.major < 6 else 'skipped'}", flush=True)
    failed = []
    for name in envs:
        started = time.perf_counter()
        try:
            ok = run_env(name, terraform_bin, providers, args.verbose)
        except CannotRun as exc:
            print(f"plan_offline: {exc}", file=sys.stderr)
            return 2
        print(f"{name}: {'passed' if ok else 'FAILED'} in {time.perf_counter() - started:.1f}s", flush=True)
        if not ok:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
