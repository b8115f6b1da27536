"""The work folder both offline runs share: copy, shims, provider source, terraform calls.

tools/plan_offline.py (a plan against mocked providers) and tools/apply_local.py (an
apply against an AWS API emulator) both run Terraform in a throwaway copy of modules/
and one root, never in the committed tree, with the same declared changes (shims)
made to the copy first. Every shim names why it exists; one whose pattern matches
nothing is reported as stale, since the code it works around has changed.

Where the providers come from (Providers): by default the registry, through an ordinary
`terraform init` that honours the root's committed .terraform.lock.hcl (-lockfile=readonly);
with TF_PLUGIN_MIRROR (or --mirror), a filesystem mirror, for machines without the registry.
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
# targets 6.x); UNLOCKED when the mirror lacks the version the root's lock file pins; MOCK only
# for terraform test's mock providers; EMULATOR only against the AWS API emulator
# (tools/emulator_gaps.py declares those).
BELOW_6 = "provider < 6.0"
UNLOCKED = "mirror lacks the locked version"
MOCK = "mocked plan"
EMULATOR = "emulator"

LOCK_FILE = ".terraform.lock.hcl"
AWS_ADDRESS = "registry.terraform.io/hashicorp/aws"


@dataclass(frozen=True)
class Shim:
    name: str
    files: str        # glob, relative to the work copy
    pattern: str      # regular expression (re.MULTILINE | re.DOTALL)
    replacement: str  # replacement; see keep_lines
    when: str         # BELOW_6, UNLOCKED, MOCK or EMULATOR
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
        name="drop-aws-lock",
        files=f"envs/**/{LOCK_FILE}",
        pattern=rf'^provider "{re.escape(AWS_ADDRESS)}" \{{.*?^\}}\n?',
        replacement="",
        when=UNLOCKED,
        optional=True,  # a root has no lock until `make providers-lock` has run
        reason="the committed lock pins the registry's aws version and its hashes; init refuses any other "
               "version, so a mirror without it (an older 5.x) installs into the copy with a lock of its own",
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


# ---- Where the providers come from: the registry, or a filesystem mirror -------------

# The registry's packages go to a plugin cache, so the many throwaway copies download each
# provider once: Terraform >= 1.4 takes a package from it only when the lock file lists the
# package's checksum (developer.hashicorp.com/terraform/cli/config/config-file, "Provider Plugin
# Cache"; hashicorp/terraform#32129), another reason to commit the locks. It is not safe for
# concurrent inits (same page): the tools run theirs one at a time. TF_PLUGIN_CACHE_DIR moves it.
PLUGIN_CACHE = ROOT / ".local" / "terraform-plugins"
NO_REGISTRY = ("set TF_PLUGIN_MIRROR=DIR to a filesystem mirror holding hashicorp/aws "
               "(docs/operations.md, \"Providers without the registry\")")
# What `terraform init` prints when it cannot reach the registry or download a package from it.
UNREACHABLE = re.compile(r"Error: Failed to (?:query available provider packages|install provider)"
                          r"[\s\S]*?(dial tcp[^\n]*|no such host|i/o timeout|TLS handshake timeout|"
                          r"network is unreachable)")


def mirror_versions(mirror: Path) -> set[str]:
    """Every AWS provider version in a filesystem mirror, in either layout."""
    base = mirror / "registry.terraform.io" / "hashicorp" / "aws"
    versions = {p.parent.parent.name for p in base.glob("*/*/terraform-provider-aws*") if p.is_file()}
    versions |= {m.group(1) for p in base.glob("terraform-provider-aws_*.zip")
                 if (m := re.match(r"terraform-provider-aws_([^_]+)_", p.name))}
    return versions


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(x) if x.isdigit() else 0 for x in re.split(r"[.-]", version))


def provider_version(mirror: Path) -> str:
    """The newest AWS provider version in a filesystem mirror, in either layout."""
    versions = mirror_versions(mirror)
    if not versions:
        raise CannotRun(f"no AWS provider in the mirror {mirror} "
                        "(expected registry.terraform.io/hashicorp/aws/VERSION/OS_ARCH/terraform-provider-aws_*)")
    return max(versions, key=_version_key)


def major(version: str) -> int:
    return int(version.split(".", 1)[0])


def required_major(template: Path = ROOT / "templates" / "versions.tf.j2") -> int:
    """The AWS provider major version the roots require (`version = "~> 6.0"`)."""
    text = template.read_text(encoding="utf-8")
    match = re.search(r'source\s*=\s*"hashicorp/aws"\s*\n\s*version\s*=\s*"(?:~>|>=)\s*(\d+)', text)
    if not match:
        raise CannotRun(f"{template.name}: no hashicorp/aws version constraint found")
    return int(match.group(1))


def locked_version(root: Path) -> str | None:
    """The AWS provider version a root's .terraform.lock.hcl pins; None without one."""
    path = root / LOCK_FILE
    if not path.is_file():
        return None
    found = re.search(rf'^provider "{re.escape(AWS_ADDRESS)}" \{{[^}}]*?^\s*version\s*=\s*"([^"]+)"',
                      path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return found.group(1) if found else None


@dataclass(frozen=True)
class Providers:
    """Where `terraform init` gets the AWS provider: a filesystem mirror, or the registry (mirror None)."""

    mirror: Path | None = None
    versions: frozenset[str] = frozenset()  # the mirror's

    @property
    def version(self) -> str:
        """The mirror's newest version, or the roots' constraint for the registry (the lock pins it)."""
        return max(self.versions, key=_version_key) if self.mirror else f"~> {required_major()}.0"

    @property
    def major(self) -> int:
        return major(self.version) if self.mirror else required_major()

    def describe(self) -> str:
        if self.mirror:
            return f"aws provider {self.version} from the mirror {self.mirror}"
        return "aws provider from the registry (terraform init; a root's committed lock file pins it)"

    def shims(self, root: Path, *modes: str) -> list[Shim]:
        """The shims of a run in these modes for the root `root` (a committed root or its copy)."""
        locked = locked_version(root)
        unlocked = {UNLOCKED} if self.mirror and locked and locked not in self.versions else set()
        return shims_for(self.major, *modes, *unlocked)

    def init_args(self, root: Path) -> list[str]:
        """A copy whose lock file still pins the AWS provider is held to it, as CI's init is:
        Terraform fails rather than pick another version or write the file."""
        return ["-lockfile=readonly"] if locked_version(root) else []

    def env(self, folder: Path, **extra: str) -> dict[str, str]:
        """The environment of every terraform call; with a mirror, its CLI config in folder."""
        if self.mirror is None:
            return terraform_env(None, **extra)
        config = folder / "terraform.rc"
        if not config.exists():
            folder.mkdir(parents=True, exist_ok=True)
            config.write_text(cli_config(self.mirror), encoding="utf-8")
        return terraform_env(config, **extra)


def find_providers(value: str | Path | None = None) -> Providers:
    """The mirror of --mirror or TF_PLUGIN_MIRROR when one is given (it must hold the AWS
    provider), else the registry."""
    value = value or os.environ.get("TF_PLUGIN_MIRROR")
    if not value:
        return Providers()
    mirror = Path(value).expanduser().resolve()
    if not mirror.is_dir():
        raise CannotRun(f"provider mirror {mirror} is not a directory")
    provider_version(mirror)  # refuses a mirror without the provider
    return Providers(mirror, frozenset(mirror_versions(mirror)))


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
    """modules/ and one root copied under dest (dest/modules, dest/envs/NAME); the root's path.
    The root's committed lock file comes along (the UNLOCKED shim drops it where it cannot hold)."""
    shutil.copytree(ROOT / "modules", dest / "modules", ignore=shutil.ignore_patterns(".terraform*", "*.md"))
    root = dest / "envs" / name
    shutil.copytree(source_root, root, ignore=shutil.ignore_patterns(
        ".terraform", "*.tfstate*", "*.yaml", "*.md", "tests", "tfplan"))
    return root


def shims_for(provider_major: int, *modes: str) -> list[Shim]:
    """The shims that apply to a run in these modes (MOCK, EMULATOR, UNLOCKED) with this provider."""
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


def terraform_env(config: Path | None, **extra: str) -> dict[str, str]:
    """The process environment of every terraform call, no prompts: with a mirror's CLI config,
    only that mirror; without (config None), the user's own CLI config and the registry, as a
    plain `terraform init` has them, with a plugin cache."""
    env = {k: v for k, v in os.environ.items() if k != "TF_DATA_DIR"}
    if config is not None:
        env.pop("TF_PLUGIN_CACHE_DIR", None)
        env["TF_CLI_CONFIG_FILE"] = str(config)
    else:
        env["TF_PLUGIN_CACHE_DIR"] = env.get("TF_PLUGIN_CACHE_DIR") or str(PLUGIN_CACHE)
        # Terraform only warns about a cache folder that is missing, and downloads every time.
        Path(env["TF_PLUGIN_CACHE_DIR"]).mkdir(parents=True, exist_ok=True)
    env.update({"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "TF_INPUT": "0", **extra})
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
        if args[:1] == ["init"] and (unreachable := UNREACHABLE.search(output)):
            raise CannotRun(f"terraform init cannot reach the provider registry ({unreachable.group(1).strip()}): "
                            f"{NO_REGISTRY}")
        detail = useful_error(output, work)
        if args[:1] == ["init"] and "lock file is read-only" in output:
            detail += (f"\n    the root's {LOCK_FILE} does not match its required_providers: "
                       "`make providers-lock` where the registry is reachable (docs/operations.md)")
        raise StepFailed(step, detail)
    return output
