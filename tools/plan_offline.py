#!/usr/bin/env python3
"""Validate and plan every environment offline, against a mocked AWS provider.

The AWS provider cannot be downloaded here, so this needs a provider binary in a
Terraform filesystem mirror folder, given by --mirror or TF_PLUGIN_MIRROR
(layout: MIRROR/registry.terraform.io/hashicorp/aws/VERSION/OS_ARCH/terraform-provider-aws_*).

For each environment (default: dev stg prod, plus the variant "https": prod with a
zone of its own for the apex and a wildcard, rendered into a temporary project copy) it copies modules/ and the root to
a temporary folder, applies the SHIMS below, runs `terraform init -backend=false`
and `terraform validate`, then `terraform test` with two generated plan-only tests
(one mock_provider per provider alias of the root; see PLAN_TESTS): one leaves
computed values unknown as in a first plan (catches for_each/count keys unknown
until apply), one makes mocked values known (variable validations and
preconditions check realistic ARNs). Nothing is written in the repository's tree.

    TF_PLUGIN_MIRROR=DIR .venv/bin/python tools/plan_offline.py [ENV ...]

Exit status: 0 all passed, 1 a step failed, 2 cannot run (no mirror, no AWS
provider in it, no terraform, unknown environment).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ENVS = ("dev", "stg", "prod", "https")
ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "ap-northeast-1"
# The "https" variant: prod's YAML with its domain replaced by a zone this root creates, for the
# apex and a wildcard (rendered in a temporary project copy): the create_zone path and the
# shared ACM validation record of "*.example.com" and "example.com".
HTTPS_BASE = "prod"
HTTPS_DOMAIN = {"zone_name": "example.com", "create_zone": True, "names": ["example.com", "*.example.com"]}
MOCK_SECRET = "offline-plan-placeholder-secret"


@dataclass(frozen=True)
class Shim:
    name: str
    files: str        # glob, relative to the temporary copy
    pattern: str      # regular expression (re.MULTILINE | re.DOTALL)
    replacement: str  # replacement; see keep_lines
    below_6: bool     # only needed when the mirror's provider is older than 6.0
    reason: str
    keep_lines: bool = False  # replace the match by as many newlines, so error line numbers stay true


# Every change made to the copy before running Terraform. A shim whose pattern matches
# nothing is reported: the code it works around has changed, so the shim is stale.
SHIMS: tuple[Shim, ...] = (
    Shim(
        name="relax-version",
        files="**/versions.tf",
        pattern=r'(version\s*=\s*)"(?:~>|>=)\s*6\.0"',
        replacement=r'\1">= 5.0"',
        below_6=True,
        reason="the roots and modules require provider 6.x; the mirror may only hold 5.x",
    ),
    Shim(
        name="region-attribute",
        files="modules/**/*.tf",
        pattern=r"\bdata\.aws_region\.current\.region\b",
        replacement="data.aws_region.current.name",
        below_6=True,
        reason="aws_region's `region` attribute is new in 6.0; 5.x only has `name`",
    ),
    Shim(
        name="ephemeral-password-block",
        files="modules/*/main.tf",
        pattern=r'^ephemeral\s+"aws_secretsmanager_random_password"\s+"\w+"\s*\{.*?^\}[ \t]*$',
        replacement="",
        below_6=False,
        keep_lines=True,
        reason="terraform test's mock providers do not support ephemeral resources",
    ),
    Shim(
        name="ephemeral-password-reference",
        files="modules/*/main.tf",
        pattern=r"\bephemeral\.aws_secretsmanager_random_password\.\w+(?:\[each\.key\])?\.random_password\b",
        replacement=f'"{MOCK_SECRET}"',
        below_6=False,
        reason="the reference to the removed ephemeral resource needs a stand-in value",
    ),
    Shim(
        name="write-only-user-passwords",
        files="modules/elasticache/main.tf",
        pattern=r"\bpasswords_wo(\s*)= \[[^\]\n]*\]\n\s*passwords_wo_version\s*=\s*\d+",
        replacement=f'passwords\\1= ["{MOCK_SECRET}"]\n',
        below_6=True,
        reason="aws_elasticache_user's write-only passwords_wo is new in 6.x",
    ),
)

# Attributes of mocked resources that modules check (ARN validations) or need as real
# values; everything else gets Terraform's random mock strings.
MOCK_RESOURCES = {
    "aws_kms_key": {"arn": "arn:aws:kms:{region}:{account}:key/11111111-2222-3333-4444-555555555555"},
    "aws_elasticache_replication_group": {"arn": "arn:aws:elasticache:{region}:{account}:replicationgroup:mock"},
    "aws_elasticache_user": {"arn": "arn:aws:elasticache:{region}:{account}:user:mock"},
}


class CannotRun(Exception):
    """A precondition of the whole run is missing: exit 2 with one line."""


class StepFailed(Exception):
    def __init__(self, step: str, detail: str) -> None:
        super().__init__(step)
        self.step = step
        self.detail = detail


# ---- Preconditions ---------------------------------------------------------------


def provider_version(mirror: Path) -> str:
    """The newest AWS provider version in a filesystem mirror, in either layout."""
    base = mirror / "registry.terraform.io" / "hashicorp" / "aws"
    versions = {p.parent.parent.name for p in base.glob("*/*/terraform-provider-aws*") if p.is_file()}
    versions |= {m.group(1) for p in base.glob("terraform-provider-aws_*.zip")
                 if (m := re.match(r"terraform-provider-aws_([^_]+)_", p.name))}
    if not versions:
        raise CannotRun(f"no AWS provider in the mirror {mirror} "
                        "(expected registry.terraform.io/hashicorp/aws/VERSION/OS_ARCH/terraform-provider-aws_*)")
    return max(versions, key=lambda v: tuple(int(x) if x.isdigit() else 0 for x in re.split(r"[.-]", v)))


def major(version: str) -> int:
    return int(version.split(".", 1)[0])


# ---- Work folder -------------------------------------------------------------------


def apply_shims(copy: Path, provider_major: int) -> list[str]:
    """Apply the shims in the copy; return the names of applicable shims that matched nothing."""
    unmatched = []
    for shim in SHIMS:
        if shim.below_6 and provider_major >= 6:
            continue
        total = 0
        for path in sorted(copy.glob(shim.files)):
            text = path.read_text(encoding="utf-8")

            def replace(match: re.Match[str], shim: Shim = shim) -> str:
                if shim.keep_lines:
                    return "\n" * match.group(0).count("\n")
                return match.expand(shim.replacement)

            new, count = re.subn(shim.pattern, replace, text, flags=re.MULTILINE | re.DOTALL)
            if count:
                path.write_text(new, encoding="utf-8")
                total += count
        if not total:
            unmatched.append(shim.name)
    return unmatched


def cli_config(mirror: Path) -> str:
    return f"""provider_installation {{
  filesystem_mirror {{
    path    = {hcl_string(str(mirror))}
    include = ["registry.terraform.io/hashicorp/aws"]
  }}
}}
"""


def hcl_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${") + '"'


def provider_aliases(root: Path) -> tuple[list[str], str]:
    """The aliases of the root's aws providers ("" for the default one) and their region."""
    text = (root / "providers.tf").read_text(encoding="utf-8")
    aliases = []
    for block in re.finditer(r'^provider\s+"aws"\s*\{(.*?)^\}', text, flags=re.MULTILINE | re.DOTALL):
        alias = re.search(r'^\s*alias\s*=\s*"([^"]+)"', block.group(1), flags=re.MULTILINE)
        aliases.append(alias.group(1) if alias else "")
    region = re.search(r'^\s*region\s*=\s*"([^"]+)"', text, flags=re.MULTILINE)
    return aliases or [""], region.group(1) if region else DEFAULT_REGION


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


def useful_error(output: str, work: Path, limit: int = 80) -> str:
    """Terraform's error blocks without its progress chatter: duplicates merged (the
    same error from both test files), temporary paths made relative, indented."""
    output = output.replace(str(work) + os.sep, "").replace(str(work), ".")
    errors: dict[str, list[str]] = {}  # error text -> test files it came from
    context, current = "", None
    for line in output.splitlines() + ["Failure!"]:
        test_file = re.match(r"^(tests/\S+\.tftest\.hcl)\.\.\. ", line)
        if test_file:
            context = test_file.group(1)
        starts = re.match(r"^\s*(Error|Warning):", line)
        if starts or test_file or re.match(r'^\s*run "|^(Success|Failure)!', line):
            if current and current[0].lstrip().startswith("Error:"):
                text = re.sub(r"\n{3,}", "\n\n", "\n".join(current).strip("\n"))
                errors.setdefault(text, []).append(context)
            current = [line] if starts else None
        elif current is not None:
            current.append(line.rstrip())
    if errors:
        lines: list[str] = []
        for text, contexts in errors.items():
            where = sorted({c for c in contexts if c})
            lines += ([f"({', '.join(where)})"] if where else []) + text.splitlines() + [""]
    else:
        lines = [line for line in output.splitlines() if line.strip()][-30:]
    lines = lines[:-1] if lines and not lines[-1] else lines
    if len(lines) > limit:
        lines = lines[:limit] + [f"... ({len(lines) - limit} more lines; run with --verbose)"]
    return "\n".join(("    " + line) if line else "" for line in lines)


def terraform(terraform_bin: str, args: list[str], cwd: Path, env: dict[str, str], step: str, work: Path,
              verbose: bool) -> str:
    proc = subprocess.run([terraform_bin, *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, check=False)
    output = proc.stdout
    if verbose:
        print(textwrap.indent(output.rstrip(), "    | "), flush=True)
    if proc.returncode != 0:
        raise StepFailed(step, useful_error(output, work))
    return output


def render_https(work: Path) -> Path:
    """Render the prod root with a domain into a temporary project copy; return the project."""
    project = work / "project"
    (project / "envs" / HTTPS_BASE).mkdir(parents=True)
    (project / "envs" / "bootstrap").mkdir(parents=True)
    shutil.copy2(ROOT / "naming.yaml", project / "naming.yaml")
    shutil.copytree(ROOT / "templates", project / "templates")
    shutil.copy2(ROOT / "envs" / "common.yaml", project / "envs" / "common.yaml")
    settings = yaml.safe_load((ROOT / "envs" / HTTPS_BASE / "env.yaml").read_text(encoding="utf-8"))
    settings["domain"] = HTTPS_DOMAIN
    (project / "envs" / HTTPS_BASE / "env.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(ROOT / "render.py"), "--root", str(project), "render", HTTPS_BASE],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise StepFailed("render", useful_error(proc.stdout + proc.stderr, work) or "    (no output)")
    return project


def run_env(name: str, terraform_bin: str, mirror: Path, version: str, verbose: bool = False) -> bool:
    """Every step for one environment; print one line per step. True when all passed."""
    with tempfile.TemporaryDirectory(prefix=f"plan-offline-{name}-") as tmp:
        work = Path(tmp)
        step = "copy"
        try:
            started = time.perf_counter()
            if name == "https":
                step = "render"
                source_root = render_https(work) / "envs" / HTTPS_BASE
                print(f"{name}: render ok ({time.perf_counter() - started:.1f}s)", flush=True)
            else:
                source_root = ROOT / "envs" / name
            copy = work / "copy"
            shutil.copytree(ROOT / "modules", copy / "modules", ignore=shutil.ignore_patterns(".terraform*", "*.md"))
            root = copy / "envs" / name
            shutil.copytree(source_root, root, ignore=shutil.ignore_patterns(".terraform*", "*.yaml", "tests"))
            for stale in apply_shims(copy, major(version)):
                print(f"{name}: warning: shim {stale!r} matched nothing; is it stale?", flush=True)
            aliases, region = provider_aliases(root)
            (root / "tests").mkdir()
            for filename, override_during in PLAN_TESTS.items():
                text = plan_test(aliases, region, override_during)
                (root / "tests" / filename).write_text(text, encoding="utf-8")
            config = work / "terraform.rc"
            config.write_text(cli_config(mirror), encoding="utf-8")
            env = {k: v for k, v in os.environ.items() if k != "TF_PLUGIN_CACHE_DIR"}
            env.update({"TF_CLI_CONFIG_FILE": str(config), "TF_IN_AUTOMATION": "1",
                        "CHECKPOINT_DISABLE": "1", "TF_INPUT": "0"})
            env.pop("TF_DATA_DIR", None)
            for step, args in (
                ("init", ["init", "-backend=false", "-input=false", "-no-color"]),
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
                             "'https' is prod with a zone of its own")
    parser.add_argument("--mirror", type=Path, default=None,
                        help="Terraform filesystem mirror folder holding the AWS provider "
                             "(default: $TF_PLUGIN_MIRROR)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print terraform's full output of every step")
    parser.add_argument("--list-shims", action="store_true", help="print the shims and their reasons, then exit")
    args = parser.parse_args(argv)

    if args.list_shims:
        for shim in SHIMS:
            scope = "provider < 6.0" if shim.below_6 else "always"
            print(f"{shim.name} ({scope}, {shim.files}): {shim.reason}")
        return 0
    try:
        envs = args.envs or list(DEFAULT_ENVS)
        unknown = [e for e in envs if e != "https" and not (ROOT / "envs" / e / "providers.tf").is_file()]
        if unknown:
            raise CannotRun(f"unknown environment(s): {', '.join(unknown)}")
        mirror_value = args.mirror or os.environ.get("TF_PLUGIN_MIRROR")
        if not mirror_value:
            raise CannotRun("no provider mirror: set TF_PLUGIN_MIRROR or pass --mirror DIR "
                            "(a Terraform filesystem mirror holding hashicorp/aws)")
        mirror = Path(mirror_value).expanduser().resolve()
        if not mirror.is_dir():
            raise CannotRun(f"provider mirror {mirror} is not a directory")
        version = provider_version(mirror)
        terraform_bin = shutil.which("terraform")
        if not terraform_bin:
            raise CannotRun("terraform is not on PATH")
    except CannotRun as exc:
        print(f"plan_offline: {exc}", file=sys.stderr)
        return 2

    print(f"aws provider {version} from the mirror; shims for provider < 6.0 "
          f"{'applied' if major(version) < 6 else 'skipped'}", flush=True)
    failed = []
    for name in envs:
        started = time.perf_counter()
        ok = run_env(name, terraform_bin, mirror, version, args.verbose)
        print(f"{name}: {'passed' if ok else 'FAILED'} in {time.perf_counter() - started:.1f}s", flush=True)
        if not ok:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
