"""The work folder both offline runs share: copy, shims, provider mirror, terraform calls.

tools/plan_offline.py (a plan against mocked providers) and tools/apply_local.py (an
apply against an AWS API emulator) both run Terraform in a throwaway copy of modules/
and one root, never in the committed tree, with the same declared changes (shims)
made to the copy first. Every shim names why it exists; one whose pattern matches
nothing is reported as stale, since the code it works around has changed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MOCK_SECRET = "offline-plan-placeholder-secret"

# When a shim applies: BELOW_6 whenever the mirror's provider is older than 6.0 (the project
# targets 6.x); MOCK only for terraform test's mock providers; EMULATOR only against the
# AWS API emulator (tools/emulator_gaps.py declares those).
BELOW_6 = "provider < 6.0"
MOCK = "mocked plan"
EMULATOR = "emulator"


@dataclass(frozen=True)
class Shim:
    name: str
    files: str        # glob, relative to the work copy
    pattern: str      # regular expression (re.MULTILINE | re.DOTALL)
    replacement: str  # replacement; see keep_lines
    when: str         # BELOW_6, MOCK or EMULATOR
    reason: str
    keep_lines: bool = False  # replace the match by as many newlines, so error line numbers stay true
    optional: bool = False    # matching nothing is not stale (a reference rewrite with no reference)


# The shims of the provider version and of the mocked plan.
SHIMS: tuple[Shim, ...] = (
    Shim(
        name="relax-version",
        files="**/versions.tf",
        pattern=r'(version\s*=\s*)"(?:~>|>=)\s*6\.\d+"',
        replacement=r'\1">= 5.0"',
        when=BELOW_6,
        reason="the roots and modules require provider 6.x; the mirror may only hold 5.x",
    ),
    Shim(
        name="region-attribute",
        files="modules/**/*.tf",
        pattern=r"\bdata\.aws_region\.current\.region\b",
        replacement="data.aws_region.current.name",
        when=BELOW_6,
        reason="aws_region's `region` attribute is new in 6.0; 5.x only has `name`",
    ),
    Shim(
        name="ephemeral-password-block",
        files="modules/*/main.tf",
        pattern=r'^ephemeral\s+"aws_secretsmanager_random_password"\s+"\w+"\s*\{.*?^\}[ \t]*$',
        replacement="",
        when=MOCK,
        keep_lines=True,
        reason="terraform test's mock providers do not support ephemeral resources",
    ),
    Shim(
        name="ephemeral-password-reference",
        files="modules/*/main.tf",
        pattern=r"\bephemeral\.aws_secretsmanager_random_password\.\w+(?:\[each\.key\])?\.random_password\b",
        replacement=f'"{MOCK_SECRET}"',
        when=MOCK,
        reason="the reference to the removed ephemeral resource needs a stand-in value",
    ),
    Shim(
        name="ecs-deployment-configuration",
        files="modules/ecs/service.tf",
        pattern=r"^  deployment_configuration \{\n.*?^  \}\n",
        replacement="",
        when=BELOW_6,
        keep_lines=True,
        reason="aws_ecs_service's deployment_configuration block (strategy, bake_time_in_minutes) is new in "
               "6.4; 5.x deploys ROLLING, its only strategy",
    ),
    Shim(
        name="ecs-load-balancer-advanced-configuration",
        files="modules/ecs/service.tf",
        pattern=r'^    dynamic "advanced_configuration" \{\n.*?^    \}\n',
        replacement="",
        when=BELOW_6,
        keep_lines=True,
        reason="load_balancer.advanced_configuration (blue/green's alternate target group and listener rules) "
               "is new in 6.4; 5.x registers tasks in the primary target group only",
    ),
    Shim(
        name="write-only-user-passwords",
        files="modules/elasticache/main.tf",
        pattern=r"\bpasswords_wo(\s*)= \[[^\]\n]*\]\n\s*passwords_wo_version\s*=\s*\d+",
        replacement=f'passwords\\1= ["{MOCK_SECRET}"]\n',
        when=BELOW_6,
        reason="aws_elasticache_user's write-only passwords_wo is new in 6.x; 5.x stores a placeholder "
               "password in state (only in the throwaway copy)",
    ),
)


class CannotRun(Exception):
    """A precondition of the whole run is missing: exit 2 with one line."""


class StepFailed(Exception):
    def __init__(self, step: str, detail: str) -> None:
        super().__init__(step)
        self.step = step
        self.detail = detail


# ---- The provider mirror ---------------------------------------------------------


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


def find_mirror(value: str | Path | None) -> tuple[Path, str]:
    """The mirror folder (from --mirror or TF_PLUGIN_MIRROR) and its AWS provider version."""
    value = value or os.environ.get("TF_PLUGIN_MIRROR")
    if not value:
        raise CannotRun("no provider mirror: set TF_PLUGIN_MIRROR or pass --mirror DIR "
                        "(a Terraform filesystem mirror holding hashicorp/aws)")
    mirror = Path(value).expanduser().resolve()
    if not mirror.is_dir():
        raise CannotRun(f"provider mirror {mirror} is not a directory")
    return mirror, provider_version(mirror)


def terraform_binary() -> str:
    """The terraform on PATH, if it is as new as the roots require (one check: infra/terraform.py)."""
    import sys

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from infra.errors import RenderError
    from infra.terraform import terraform_binary as checked_binary

    try:
        return checked_binary()
    except RenderError as exc:
        raise CannotRun(str(exc)) from None


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


def provider_aliases(root: Path) -> tuple[list[str], str | None]:
    """The aliases of a root's aws providers ("" for the default one) and their literal region."""
    text = (root / "providers.tf").read_text(encoding="utf-8")
    aliases = []
    for block in re.finditer(r'^provider\s+"aws"\s*\{(.*?)^\}', text, flags=re.MULTILINE | re.DOTALL):
        alias = re.search(r'^\s*alias\s*=\s*"([^"]+)"', block.group(1), flags=re.MULTILINE)
        aliases.append(alias.group(1) if alias else "")
    region = re.search(r'^\s*region\s*=\s*"([^"]+)"', text, flags=re.MULTILINE)
    return aliases or [""], region.group(1) if region else None


# ---- The work copy -----------------------------------------------------------------


def copy_root(source_root: Path, dest: Path, name: str) -> Path:
    """modules/ and one root copied under dest (dest/modules, dest/envs/NAME); the root's path."""
    shutil.copytree(ROOT / "modules", dest / "modules", ignore=shutil.ignore_patterns(".terraform*", "*.md"))
    root = dest / "envs" / name
    shutil.copytree(source_root, root, ignore=shutil.ignore_patterns(
        ".terraform*", "*.tfstate*", "*.yaml", "*.md", "tests"))
    return root


def shims_for(provider_major: int, *modes: str) -> list[Shim]:
    """The shims that apply to a run in these modes (MOCK, EMULATOR) with this provider."""
    wanted = set(modes) | ({BELOW_6} if provider_major < 6 else set())
    return [shim for shim in SHIMS if shim.when in wanted]


def apply_shims(copy: Path, provider_major: int, shims: Iterable[Shim] | None = None) -> list[str]:
    """Apply the shims in the copy; return the names of those that matched nothing.

    Without `shims`: those of the mocked plan (provider-version and mock shims)."""
    chosen = list(shims) if shims is not None else shims_for(provider_major, MOCK)
    unmatched = []
    for shim in chosen:
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
        if not total and not shim.optional:
            unmatched.append(shim.name)
    return unmatched


def terraform_env(config: Path, **extra: str) -> dict[str, str]:
    """The process environment of every terraform call: the mirror's CLI config, no prompts."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_PLUGIN_CACHE_DIR", "TF_DATA_DIR")}
    env.update({"TF_CLI_CONFIG_FILE": str(config), "TF_IN_AUTOMATION": "1",
                "CHECKPOINT_DISABLE": "1", "TF_INPUT": "0", **extra})
    return env


# ---- Running -----------------------------------------------------------------------


def useful_error(output: str, work: Path, limit: int = 80) -> str:
    """Terraform's error blocks without its progress chatter: duplicates merged (the
    same error from several test files), temporary paths made relative, indented."""
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
              verbose: bool, timeout: float | None = None) -> str:
    """Run one terraform command; its output, or StepFailed with the useful part of it."""
    try:
        proc = subprocess.run([terraform_bin, *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, check=False, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        raise StepFailed(step, f"    timed out after {timeout:.0f}s\n" + useful_error(out, work)) from None
    output = proc.stdout
    if verbose:
        print(textwrap.indent(output.rstrip(), "    | "), flush=True)
    if proc.returncode != 0:
        raise StepFailed(step, useful_error(output, work))
    return output
