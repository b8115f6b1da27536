"""Where terraform gets the AWS provider, and the roots' dependency lock files.

tools/tfwork.py's Providers: without TF_PLUGIN_MIRROR the registry, through an ordinary init held
to a committed lock (-lockfile=readonly); with it, that mirror alone, and a lock the mirror cannot
satisfy dropped from the throwaway copy by a declared shim. `make providers-lock` writes every
root's lock for the team's platforms. A stand-in terraform (tests/faketf.py) records what the
tools ask; one test runs the real terraform against the mirror, where there is one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from faketf import calls, fake_terraform
from tfhelpers import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import tfwork  # noqa: E402

PLATFORMS = ["linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64"]
VERSIONS_TF = """terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }
}
"""


def lock_text(version: str) -> str:
    return f"""# This file is maintained automatically by "terraform init".
# Manual edits may be lost in future updates.

provider "registry.terraform.io/hashicorp/aws" {{
  version     = "{version}"
  constraints = "~> 6.0"
  hashes = [
    "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "zh:0000000000000000000000000000000000000000000000000000000000000000",
  ]
}}
"""


def fake_mirror(folder: Path, version: str) -> Path:
    package = folder / "registry.terraform.io" / "hashicorp" / "aws" / version / "linux_amd64"
    package.mkdir(parents=True)
    (package / f"terraform-provider-aws_v{version}").write_text("", encoding="utf-8")
    return folder


def work_root(folder: Path, locked: str | None) -> Path:
    """A work copy's root (folder/envs/dev) requiring aws ~> 6.0, with a lock pinning `locked`."""
    root = folder / "envs" / "dev"
    root.mkdir(parents=True)
    (root / "versions.tf").write_text(VERSIONS_TF, encoding="utf-8")
    if locked:
        (root / tfwork.LOCK_FILE).write_text(lock_text(locked), encoding="utf-8")
    return root


def shim_names(shims: list[tfwork.Shim]) -> set[str]:
    return {shim.name for shim in shims}


# ---- Providers: the registry by default, a mirror when named ----------------------------------


def test_without_a_mirror_the_registry_with_the_users_cli_config(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TF_PLUGIN_MIRROR", raising=False)
    monkeypatch.delenv("TF_PLUGIN_CACHE_DIR", raising=False)
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(tmp_path / "users.tfrc"))
    monkeypatch.setattr(tfwork, "PLUGIN_CACHE", tmp_path / "cache")
    providers = tfwork.find_providers()
    assert providers.mirror is None and providers.major == tfwork.required_major() == 6
    env = providers.env(tmp_path / "work")
    # no CLI config of ours: the user's (credentials, network mirror) applies, as for a plain init
    assert env["TF_CLI_CONFIG_FILE"] == str(tmp_path / "users.tfrc")
    assert not (tmp_path / "work" / "terraform.rc").exists()
    assert env["TF_PLUGIN_CACHE_DIR"] == str(tmp_path / "cache") and (tmp_path / "cache").is_dir()
    monkeypatch.setenv("TF_PLUGIN_CACHE_DIR", str(tmp_path / "own-cache"))
    assert providers.env(tmp_path / "work")["TF_PLUGIN_CACHE_DIR"] == str(tmp_path / "own-cache")


def test_a_mirror_is_the_only_source(monkeypatch, tmp_path: Path) -> None:
    mirror = fake_mirror(tmp_path / "mirror", "5.100.0")
    monkeypatch.setenv("TF_PLUGIN_MIRROR", str(mirror))
    monkeypatch.setenv("TF_PLUGIN_CACHE_DIR", str(tmp_path / "cache"))
    providers = tfwork.find_providers()
    assert providers.mirror == mirror.resolve() and providers.version == "5.100.0" and providers.major == 5
    env = providers.env(tmp_path / "work")
    config = Path(env["TF_CLI_CONFIG_FILE"]).read_text(encoding="utf-8")
    assert re.search(r'filesystem_mirror \{\s*path\s*= "' + re.escape(str(mirror.resolve())) + '"', config)
    assert 'include = ["registry.terraform.io/hashicorp/aws"]' in config
    assert "TF_PLUGIN_CACHE_DIR" not in env  # a cache filled from the registry plays no part


def test_a_named_mirror_without_the_provider_is_refused(tmp_path: Path) -> None:
    with pytest.raises(tfwork.CannotRun, match="no AWS provider in the mirror"):
        tfwork.find_providers(tmp_path)


# ---- The committed lock in the throwaway copy -------------------------------------------------


def test_the_registry_holds_init_to_the_committed_lock(tmp_path: Path) -> None:
    root = work_root(tmp_path, "6.62.0")
    providers = tfwork.Providers()
    assert "drop-aws-lock" not in shim_names(providers.shims(root, tfwork.MOCK))
    assert providers.init_args(root) == ["-lockfile=readonly"]


def test_without_a_lock_init_writes_one_in_the_copy(tmp_path: Path) -> None:
    root = work_root(tmp_path, None)
    assert tfwork.Providers().init_args(root) == []
    mirror = tfwork.Providers(tmp_path / "m", frozenset({"5.100.0"}))
    assert "drop-aws-lock" not in shim_names(mirror.shims(root))
    # the shim is optional: no lock to drop is not a stale shim
    assert "drop-aws-lock" not in tfwork.apply_shims(tmp_path, 5, mirror.shims(root) + [tfwork.SHIMS[1]])


def test_a_mirror_without_the_locked_version_drops_the_lock_by_a_declared_shim(tmp_path: Path) -> None:
    root = work_root(tmp_path, "6.62.0")
    providers = tfwork.Providers(tmp_path / "m", frozenset({"5.100.0"}))
    shims = providers.shims(root, tfwork.MOCK)
    assert {"drop-aws-lock", "relax-version"} <= shim_names(shims)
    unmatched = tfwork.apply_shims(tmp_path, providers.major, shims)
    assert "drop-aws-lock" not in unmatched and "relax-version" not in unmatched
    lock = (root / tfwork.LOCK_FILE).read_text(encoding="utf-8")
    assert "hashicorp/aws" not in lock and "6.62.0" not in lock
    assert tfwork.locked_version(root) is None and providers.init_args(root) == []
    (drop,) = [shim for shim in tfwork.SHIMS if shim.name == "drop-aws-lock"]
    assert drop.when == tfwork.UNLOCKED and "lock" in drop.reason


def test_a_mirror_holding_the_locked_version_keeps_the_lock(tmp_path: Path) -> None:
    root = work_root(tmp_path, "6.62.0")
    providers = tfwork.Providers(tmp_path / "m", frozenset({"6.62.0", "6.70.0"}))
    assert "drop-aws-lock" not in shim_names(providers.shims(root))
    assert providers.init_args(root) == ["-lockfile=readonly"]


def test_the_copy_takes_the_lock_and_leaves_local_state(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(ROOT / "envs" / "bootstrap" / "dev", source)
    (source / tfwork.LOCK_FILE).write_text(lock_text("6.62.0"), encoding="utf-8")
    (source / ".terraform").mkdir()
    (source / "terraform.tfstate").write_text("{}", encoding="utf-8")
    root = tfwork.copy_root(source, tmp_path / "copy", "bootstrap/dev")
    assert tfwork.locked_version(root) == "6.62.0"
    assert not (root / ".terraform").exists() and not (root / "terraform.tfstate").exists()


def test_lock_files_are_not_git_ignored() -> None:
    """Terraform's advice: commit each root's lock. A pattern that ignores it would hide it."""
    roots = sorted(p.parent.relative_to(ROOT) for p in (ROOT / "envs").glob("**/providers.tf"))
    assert len(roots) == 6
    for root in roots:
        result = subprocess.run(["git", "check-ignore", "-q", str(root / tfwork.LOCK_FILE)], cwd=ROOT,
                                check=False)
        assert result.returncode == 1, f"{root}/{tfwork.LOCK_FILE} is git-ignored"


@pytest.mark.skipif(not (os.environ.get("TF_PLUGIN_MIRROR") and shutil.which("terraform")),
                    reason="needs TF_PLUGIN_MIRROR and terraform on PATH")
def test_the_real_init_needs_the_shim_to_use_the_mirror_under_a_lock(tmp_path: Path) -> None:
    """A lock pinning a version the mirror lacks stops the real init; the copy's shims let it run."""
    providers = tfwork.find_providers()
    if "6.999.0" in providers.versions:
        pytest.skip("the mirror holds the version this test locks")

    def init(folder: Path, drop_lock: bool) -> subprocess.CompletedProcess[str]:
        root = work_root(folder, "6.999.0")
        shims = [s for s in providers.shims(root) if drop_lock or s.name != "drop-aws-lock"]
        tfwork.apply_shims(folder, providers.major, shims)
        return subprocess.run([tfwork.terraform_binary(), "init", "-backend=false", "-input=false", "-no-color",
                               *providers.init_args(root)], cwd=root, env=providers.env(folder),
                              capture_output=True, text=True, check=False, timeout=600)

    # the version shims alone: init still wants the locked version
    held = init(tmp_path / "held", drop_lock=False)
    assert held.returncode != 0 and "6.999.0" in held.stdout + held.stderr
    done = init(tmp_path / "copy", drop_lock=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert tfwork.locked_version(tmp_path / "copy" / "envs" / "dev") == providers.version  # the copy's own lock


# ---- What tools/plan_offline.py asks of terraform ---------------------------------------------


def run_plan_offline(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    fake = fake_terraform(tmp_path / "bin")
    base = {k: v for k, v in os.environ.items() if k not in ("TF_PLUGIN_MIRROR", "TF_CLI_CONFIG_FILE")}
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "plan_offline.py"), "dev"], cwd=ROOT,
                            env={**base, "TERRAFORM": str(fake), "TF_PLUGIN_CACHE_DIR": str(tmp_path / "cache"),
                                 **env}, capture_output=True, text=True, check=False, timeout=300)
    return result, calls(tmp_path / "bin")


def committed_lock_args() -> list[str]:
    return ["-lockfile=readonly"] if (ROOT / "envs" / "dev" / tfwork.LOCK_FILE).is_file() else []


def test_plan_offline_inits_from_the_registry_without_a_mirror(tmp_path: Path) -> None:
    result, made = run_plan_offline(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("aws provider from the registry")
    assert [c["args"][0] for c in made] == ["init", "validate", "test"]
    init = made[0]
    assert init["args"] == ["init", "-backend=false", "-input=false", "-no-color", *committed_lock_args()]
    assert init["config"] is None  # no CLI config of ours
    assert init["plugin_cache"] == str(tmp_path / "cache")
    # the roots' own constraint (templates/versions.tf.j2): no version shim
    constraint = re.search(r'source\s*=\s*"hashicorp/aws"\s*\n\s*version\s*=\s*"([^"]+)"',
                           (ROOT / "templates" / "versions.tf.j2").read_text(encoding="utf-8")).group(1)
    assert init["constraint"] == constraint
    assert Path(init["cwd"]).is_relative_to(tempfile.gettempdir())  # a throwaway copy, never envs/dev


def test_plan_offline_inits_from_the_mirror_alone_when_named(tmp_path: Path) -> None:
    mirror = fake_mirror(tmp_path / "mirror", "5.100.0")
    result, made = run_plan_offline(tmp_path, TF_PLUGIN_MIRROR=str(mirror))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"aws provider 5.100.0 from the mirror {mirror.resolve()}")
    init = made[0]
    assert init["args"] == ["init", "-backend=false", "-input=false", "-no-color"]
    assert f'path    = "{mirror.resolve()}"' in init["config"]
    assert init["plugin_cache"] is None
    assert init["constraint"] == ">= 5.0"  # the declared version shim
    assert init["lock"] is None or "hashicorp/aws" not in init["lock"]  # a 6.x lock dropped


# ---- make providers-lock ------------------------------------------------------------------------


def make_providers_lock(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    fake_terraform(tmp_path / "bin")
    result = subprocess.run(["make", "-s", "providers-lock"], cwd=ROOT, capture_output=True, text=True, check=False,
                            env={**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}", **env},
                            timeout=120)
    return result, calls(tmp_path / "bin")


def test_make_providers_lock_locks_every_root_for_the_team_platforms(tmp_path: Path) -> None:
    result, made = make_providers_lock(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    roots = {str(p.parent.relative_to(ROOT)) for p in (ROOT / "envs").glob("**/providers.tf")}
    locked = []
    for get, lock in zip(made[::2], made[1::2], strict=True):
        root = get["args"][0].removeprefix("-chdir=")
        # the root's local modules installed (no provider, no backend), then the registry's checksums
        assert get["args"] == [f"-chdir={root}", "get", "-no-color"]
        assert lock["args"] == [f"-chdir={root}", "providers", "lock", "-no-color",
                                *(f"-platform={p}" for p in PLATFORMS)]
        locked.append(root)
    assert sorted(locked) == sorted(roots) and len(locked) == len(roots) == 6


def test_make_providers_lock_stops_at_the_first_failure_and_says_why(tmp_path: Path) -> None:
    result, made = make_providers_lock(tmp_path, FAKE_TF_FAIL="providers lock")
    assert result.returncode != 0
    assert [c["args"][1:3] for c in made] == [["get", "-no-color"], ["providers", "lock"]]
    root = made[0]["args"][0].removeprefix("-chdir=")
    assert (f"providers-lock: {root} failed: it needs the registry; without it, run the Lock providers workflow"
            in result.stderr)
