#!/usr/bin/env python3
"""`terraform apply` of an environment with no AWS account, against an AWS API emulator.

    .venv/bin/python tools/apply_local.py apply ENV [--backend local|s3]   # make apply-local ENV=dev
    .venv/bin/python tools/apply_local.py plan ENV                         # make plan-local ENV=dev
    .venv/bin/python tools/apply_local.py destroy ENV                      # make destroy-local ENV=dev
    .venv/bin/python tools/apply_local.py release ENV [--commit SHA]       # make release-local ENV=dev
    .venv/bin/python tools/apply_local.py stop ENV                         # discard, without destroying
    .venv/bin/python tools/apply_local.py gaps                             # the declared emulator gaps

The emulator is moto's server (pinned in requirements/tools.lock) on a free loopback port,
started for the environment and stopped by its own PID when the environment is destroyed (or
at once, when the command that started it only plans). The next command finds it through
.local/ENV/emulator.json: a record whose process is gone is stale and removed; an emulator of
ours that does not answer is an error, and nothing is removed (`stop` ends it). Terraform runs with the AWS
provider of the registry (an ordinary `terraform init`, held to the root's committed lock file),
or of the filesystem mirror TF_PLUGIN_MIRROR names (as tools/plan_offline.py), in a throwaway
copy of modules/ and the root under .local/ENV/ (git-ignored): the committed roots are never
touched. The copy gets the same shims as the mocked plan (tools/tfwork.py), plus the declared
emulator gaps (tools/emulator_gaps.py) and an override file that points every provider alias
at the emulator. Nothing can reach a real account: credentials are placeholders, profiles and
credential variables are removed, and every endpoint is the loopback emulator.

--backend s3 first applies envs/bootstrap into the same emulator (local state), then uses the
root's own, unchanged S3 backend block against the emulated state bucket: the env backends
and the bootstrap bucket are proven to agree (bucket, key, KMS key, lock file).

--report FILE writes what the command did as JSON (steps and their seconds, resources applied
and stood in, the plan's diffs, the release, the state object), for the tests; APPLY_LOCAL_REPORT
is its default, so that a test can run the very `make` command a user types and still read it.

Exit status: 0 done, 1 a step failed, 2 cannot run (neither the registry nor a mirror, no
terraform, unknown environment, an emulator of ours that does not answer; nothing to destroy is not an error).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import emulator_gaps
import local_release
from emulator import Emulator, EmulatorError
from tfwork import (
    EMULATOR,
    ROOT,
    CannotRun,
    StepFailed,
    apply_shims,
    copy_root,
    find_providers,
    hcl_string,
    provider_aliases,
    terraform,
    terraform_binary,
)

# Where each environment's emulator record, state and work copy live (git-ignored);
# APPLY_LOCAL_DIR moves it (the tests use a temporary folder).
LOCAL = Path(os.environ.get("APPLY_LOCAL_DIR") or ROOT / ".local")
BOOTSTRAP = "bootstrap"  # envs/bootstrap/ENV: each environment's bootstrap root


def bootstrap_of(env: str) -> str:
    """The root name of ENV's bootstrap (envs/bootstrap/ENV), which creates its state bucket."""
    return f"{BOOTSTRAP}/{env}"


def is_bootstrap(name: str) -> bool:
    return name.startswith(f"{BOOTSTRAP}/")
OVERRIDE = "zz_emulator_override.tf"
STEP_TIMEOUT = 1800.0  # seconds for one terraform command; the provider's own waits are bounded too
# moto answers an API it does not implement with a 500, which the provider retries with backoff for
# many minutes by default: two attempts make such a call fail in seconds.
MAX_RETRIES = 2
# The commit a local release deploys (the deploy program wants a full SHA; no image exists anyway).
LOCAL_COMMIT = hashlib.sha1(b"apply-local").hexdigest()


# ---- the roots -------------------------------------------------------------------------


def root_settings(name: str) -> tuple[list[str], str, str]:
    """(provider aliases, region, account id) of a committed root."""
    root = ROOT / "envs" / name
    if not (root / "providers.tf").is_file():
        raise CannotRun(f"envs/{name}: no such root (run `make render`)")
    aliases, region = provider_aliases(root)
    text = (root / "providers.tf").read_text(encoding="utf-8")
    account = re.search(r'allowed_account_ids\s*=\s*\["(\d{12})"\]', text)
    if not (region and account):
        raise CannotRun(f"envs/{name}: cannot read the region and account id of the root")
    return aliases, region, account.group(1)


def override_file(aliases: list[str], state: Path | None) -> str:
    """Provider settings merged into every aws provider of the copy (Terraform override file),
    and the local backend when the root's own backend is not used."""
    lines = ["# Written by tools/apply_local.py into the throwaway copy: the emulator, never an account.", ""]
    for alias in aliases:
        lines += ['provider "aws" {'] + ([f'  alias = "{alias}"'] if alias else []) + [
            "  s3_use_path_style           = true",
            "  skip_metadata_api_check     = true",
            f"  max_retries                 = {MAX_RETRIES}",
            "}", ""]
    if state is not None:
        lines += ["terraform {", '  backend "local" {', f"    path = {hcl_string(str(state))}", "  }", "}", ""]
    return "\n".join(lines)


# ---- one root in the work folder ----------------------------------------------------------


@dataclass
class Root:
    name: str
    path: Path                      # the copy of envs/NAME
    region: str
    backend: str                    # "local" or "s3"
    stood_in: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)


@dataclass
class Report:
    env: str
    backend: str
    steps: dict[str, float] = field(default_factory=dict)          # "dev apply" -> seconds
    resources: dict[str, dict[str, int]] = field(default_factory=dict)  # root -> applied / stood_in
    stood_in: dict[str, list[str]] = field(default_factory=dict)
    diffs: dict[str, list[str]] = field(default_factory=dict)       # root -> second-plan diffs
    unexpected_diffs: dict[str, list[str]] = field(default_factory=dict)
    stale: list[str] = field(default_factory=list)
    state_object: dict[str, str] = field(default_factory=dict)
    release: dict = field(default_factory=dict)


class LocalRun:
    def __init__(self, env: str, backend: str, verbose: bool = False, mirror: str | None = None) -> None:
        self.env = env
        self.backend = backend
        self.verbose = verbose
        self.providers = find_providers(mirror)
        self.terraform_bin = terraform_binary()
        self.folder = LOCAL / env
        self.record = self.folder / "emulator.json"
        self.report = Report(env, backend)
        self.emulator: Emulator | None = None
        _, self.region, self.account = root_settings(env)

    # ---- emulator ---------------------------------------------------------------------

    def recorded_emulator(self) -> Emulator | None:
        """The environment's recorded emulator while its process runs; a record whose process is
        gone (or whose PID another program now has) is stale: it and the folder are removed."""
        if not self.record.exists():
            return None
        found = Emulator.load(self.record)
        if found is not None and found.is_ours():
            return found
        what = f"the recorded emulator (pid {found.pid}) is no longer running" if found else \
            f"the emulator record {self.record} is unreadable"
        print(f"{self.env}: {what}; its stale record is removed "
              "(its resources lived only in that process's memory)", flush=True)
        shutil.rmtree(self.folder, ignore_errors=True)
        return None

    def running_emulator(self) -> Emulator | None:
        """The recorded emulator, answering; None when none runs. One of ours that runs but does
        not answer is an error: its stack may still be in it, so nothing is removed."""
        found = self.recorded_emulator()
        if found is not None and not found.answers():
            raise EmulatorError(
                f"{self.env}: the emulator (pid {found.pid}, {found.endpoint}) runs but does not answer; "
                f"see {self.folder / 'emulator.log'}; `make stop-local ENV={self.env}` stops it (its stack goes "
                "with it)")
        return found

    def start_emulator(self) -> Emulator:
        """A cold emulator; whatever state an earlier one left is gone with it."""
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.emulator = Emulator.start(self.account, self.folder / "emulator.log")
        self.emulator.save(self.record, backend=self.backend)
        print(f"emulator: moto server, pid {self.emulator.pid}, {self.emulator.endpoint}", flush=True)
        return self.emulator

    def stop_emulator(self) -> None:
        """Stop the emulator; its work folder (record, state, copies) goes too."""
        if self.emulator:
            self.emulator.stop()
            print(f"emulator: stopped (pid {self.emulator.pid})", flush=True)
        shutil.rmtree(self.folder, ignore_errors=True)

    # ---- preparing a root ---------------------------------------------------------------

    def prepare(self, name: str) -> Root:
        assert self.emulator is not None
        aliases, region, account = root_settings(name)
        work = self.folder / "work" / name
        if work.exists():
            shutil.rmtree(work)
        path = copy_root(ROOT / "envs" / name, work, name)
        shims = self.providers.shims(path, EMULATOR) + list(emulator_gaps.SHIMS)
        shims += emulator_gaps.stand_in_shims(emulator_gaps.STAND_INS, region, account)
        unmatched = apply_shims(work, self.providers.major, shims)
        # A shim whose files are not in this copy (bootstrap's state key in an env run) is not stale.
        applicable = {shim.name for shim in shims if any(work.glob(shim.files))}
        stale = [n for n in unmatched if n in applicable]
        # modules/ is copied whole; which stand-ins a root really uses, its state tells (apply()).
        stood_in = [s.address for s in emulator_gaps.STAND_INS if f"stand-in {s.address}" not in unmatched]
        root = Root(name, path, region, "s3" if (self.backend == "s3" and not is_bootstrap(name)) else "local",
                    stood_in=stood_in, stale=stale)
        state = None if root.backend == "s3" else self.folder / f"{name.replace('/', '-')}.tfstate"
        (path / OVERRIDE).write_text(override_file(aliases, state), encoding="utf-8")
        for name_ in stale:
            print(f"{name}: warning: emulator shim {name_!r} matched nothing; is it stale?", flush=True)
        self.report.stale += [f"{name}: {n}" for n in stale]
        self.report.stood_in[name] = stood_in
        return root

    def env_for(self, root: Root) -> dict[str, str]:
        assert self.emulator is not None
        return self.providers.env(self.folder, **{
            k: v for k, v in self.emulator.client_env(root.region).items()
            if k.startswith("AWS_") or k in ("PATH", "HOME")})

    def tf(self, root: Root, step: str, args: list[str]) -> str:
        started = time.perf_counter()
        output = terraform(self.terraform_bin, [*args, "-no-color"], root.path, self.env_for(root),
                           f"{root.name} {step}", self.folder, self.verbose, STEP_TIMEOUT)
        elapsed = time.perf_counter() - started
        self.report.steps[f"{root.name} {step}"] = round(elapsed, 1)
        print(f"{root.name}: {step} ok ({elapsed:.1f}s)", flush=True)
        return output

    def init(self, root: Root) -> None:
        args = ["init", "-input=false", "-reconfigure", *self.providers.init_args(root.path)]
        if root.backend == "s3":
            # The root's own backend block, unchanged; only the emulator's addressing is added.
            args += ["-backend-config=use_path_style=true", "-backend-config=skip_metadata_api_check=true"]
        self.tf(root, "init", args)

    # ---- steps ------------------------------------------------------------------------

    def apply(self, root: Root) -> None:
        self.run_steps(root, emulator_gaps.SETUP)
        self.tf(root, "apply", ["apply", "-auto-approve", "-input=false"])
        state = json.loads(self.tf(root, "state read", ["show", "-json"]) or "{}")
        instances = list(managed_instances(state.get("values", {}).get("root_module", {})))
        stood_in = [a for a in instances if is_stand_in(a)]
        self.report.resources[root.name] = {"applied": len(instances) - len(stood_in), "stood_in": len(stood_in)}
        print(f"{root.name}: {len(instances) - len(stood_in)} resources applied, {len(stood_in)} stood in "
              "for emulator gaps:", flush=True)
        for address in stood_in:
            print(f"    {address}", flush=True)

    def outputs(self, root: Root) -> None:
        values = json.loads(self.tf(root, "outputs", ["output", "-json"]) or "{}")
        for key, item in sorted(values.items()):
            shown = "(sensitive)" if item.get("sensitive") else json.dumps(item.get("value"))
            print(f"    {key} = {shown[:200]}", flush=True)

    def plan(self, root: Root) -> list[str]:
        """The second plan's changes, one line each: 'ACTION ADDRESS: attr, attr'."""
        plan_file = self.folder / f"{root.name.replace('/', '-')}.tfplan"
        self.run_steps(root, emulator_gaps.SETUP)  # each does nothing when already done
        self.tf(root, "plan", ["plan", "-input=false", f"-out={plan_file}"])
        shown = json.loads(self.tf(root, "plan read", ["show", "-json", str(plan_file)]))
        diffs = plan_diffs(shown)
        self.report.diffs[root.name] = diffs
        unexpected = unexpected_diffs(root.name, diffs)
        self.report.unexpected_diffs[root.name] = unexpected
        stale_known = stale_known_diffs(root.name, diffs)
        self.report.stale += stale_known
        for line in stale_known:
            print(f"    warning: declared emulator diff no longer seen (stale?): {line}", flush=True)
        print(f"{root.name}: second plan: {len(diffs)} change(s), {len(diffs) - len(unexpected)} of them "
              f"declared emulator diffs, {len(unexpected)} unexpected", flush=True)
        for line in unexpected:
            print(f"    unexpected: {line}", flush=True)
        return diffs

    def run_steps(self, root: Root, steps: tuple[emulator_gaps.Step, ...]) -> None:
        assert self.emulator is not None
        for step in steps:
            if root.name not in step.roots:
                continue
            if step.run:
                for done in step.run(self.emulator, root.path, root.region):
                    print(f"{root.name}: {step.name}: {done}", flush=True)
            if step.forget:
                listed = set(self.tf(root, "state list", ["state", "list"]).split())
                present = [a for a in step.forget if a in listed]
                if present:
                    self.tf(root, step.name, ["state", "rm", *present])

    def destroy(self, root: Root) -> None:
        self.run_steps(root, emulator_gaps.TEARDOWN)
        self.tf(root, "destroy", ["destroy", "-auto-approve", "-input=false"])

    def release(self, root: Root, commit: str) -> None:
        """A release by the deploy program, as the pipeline's Deploy stage runs it."""
        assert self.emulator is not None
        started = time.perf_counter()
        try:
            found = local_release.release(self.emulator, root.region, commit)
        except Exception as exc:  # the deploy program's DeployError, or an AWS call it made
            raise StepFailed(f"{root.name} release", f"    {type(exc).__name__}: {exc}") from exc
        self.report.steps[f"{root.name} release"] = round(time.perf_counter() - started, 1)
        self.report.release = found
        for line in found["log"]:
            print(f"    {line}", flush=True)
        print(f"{root.name}: release ok: image tag {found['image_tag']}, the service runs "
              f"{found['service_task_definition'].rpartition('/')[2]}", flush=True)

    def check_state_object(self, root: Root) -> None:
        """The env's state lies in the bootstrap bucket under its key, SSE-KMS with the state key."""
        assert self.emulator is not None
        backend = backend_settings(ROOT / "envs" / root.name / "versions.tf")
        s3 = self.emulator.boto3_client("s3", root.region)
        head = s3.head_object(Bucket=backend["bucket"], Key=backend["key"])
        found = {"bucket": backend["bucket"], "key": backend["key"],
                 "encryption": head.get("ServerSideEncryption", ""), "kms_key_id": head.get("SSEKMSKeyId", "")}
        listed = s3.list_objects_v2(Bucket=backend["bucket"]).get("Contents", [])
        found["lock_files_left"] = str(sum(1 for o in listed if o["Key"].endswith(".tflock")))
        self.report.state_object = found
        print(f"{root.name}: state object s3://{found['bucket']}/{found['key']} "
              f"({found['encryption']}, {found['kms_key_id']}); lock files left: {found['lock_files_left']}",
              flush=True)


# ---- reading Terraform's JSON ------------------------------------------------------------


def managed_instances(module: dict):
    for resource in module.get("resources", []):
        if resource.get("mode") == "managed":
            yield resource["address"]
    for child in module.get("child_modules", []):
        yield from managed_instances(child)


def is_stand_in(address: str) -> bool:
    return any(re.search(rf"(^|\.)terraform_data\.{re.escape(s.data_name)}(\[|$)", address)
               for s in emulator_gaps.STAND_INS)


def changed_paths(before, after, unknown) -> list[str]:
    """Top-level attribute names whose planned value differs (unknown counts as changed)."""
    names = set()
    if isinstance(before, dict) or isinstance(after, dict):
        before, after = before or {}, after or {}
        unknown = unknown if isinstance(unknown, dict) else {}
        for key in set(before) | set(after) | set(unknown):
            if before.get(key) != after.get(key) or unknown.get(key):
                names.add(key)
    return sorted(names)


def plan_diffs(shown: dict) -> list[str]:
    """One line per change: 'update ADDRESS: changed attributes' or 'replace ADDRESS: the
    attributes that force the replacement' (top-level names)."""
    lines = []
    for change in shown.get("resource_changes", []):
        body = change["change"]
        actions = body["actions"]
        if actions in (["no-op"], ["read"]):
            continue
        action = "replace" if set(actions) == {"create", "delete"} else "+".join(actions)
        if action == "update":
            attrs = changed_paths(body.get("before"), body.get("after"), body.get("after_unknown"))
        elif action == "replace":
            attrs = sorted({str(path[0]) for path in body.get("replace_paths") or [] if path})
        else:
            attrs = []
        lines.append(f"{action} {change['address']}" + (f": {', '.join(attrs)}" if attrs else ""))
    return sorted(lines)


def split_diff(line: str) -> tuple[str, str, set[str]]:
    action, _, rest = line.partition(" ")
    address, _, attrs = rest.partition(": ")
    return action, address, set(filter(None, attrs.split(", ")))


def address_matches(pattern: str, address: str) -> bool:
    """`*` matches anything; everything else (brackets and quotes of instance keys too) literally."""
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), address) is not None


def matches(diff: emulator_gaps.KnownDiff, line: str) -> bool:
    action, address, changed = split_diff(line)
    return diff.action == action and address_matches(diff.address, address) and changed <= set(diff.attributes)


def unexpected_diffs(root: str, diffs: list[str]) -> list[str]:
    """The second plan's changes of this root that no known diff declared for it explains."""
    known = [d for d in emulator_gaps.KNOWN_DIFFS if root in d.roots]
    return [line for line in diffs if not any(matches(d, line) for d in known)]


def stale_known_diffs(root: str, diffs: list[str]) -> list[str]:
    """Known diffs declared for this root that no line of its second plan matched."""
    return [f"{root}: {d.action} {d.address}: {', '.join(d.attributes)}" for d in emulator_gaps.KNOWN_DIFFS
            if root in d.roots and not any(matches(d, line) for line in diffs)]


def backend_settings(versions_tf: Path) -> dict[str, str]:
    text = versions_tf.read_text(encoding="utf-8")
    block = re.search(r'backend\s+"s3"\s*\{(.*?)\}', text, flags=re.DOTALL)
    if not block:
        raise CannotRun(f"{versions_tf.relative_to(ROOT)}: no S3 backend block")
    return dict(re.findall(r'^\s*(\w+)\s*=\s*"([^"]*)"', block.group(1), flags=re.MULTILINE))


# ---- commands -----------------------------------------------------------------------------


def roots_of(run: LocalRun) -> list[str]:
    return [bootstrap_of(run.env), run.env] if run.backend == "s3" and not is_bootstrap(run.env) else [run.env]


def cmd_apply(run: LocalRun) -> int:
    wanted = run.backend
    cold = not attach(run)
    if not cold and run.backend != wanted:
        raise CannotRun(f"{run.env} is up with {run.backend} state: `make destroy-local ENV={run.env}` "
                        f"first to apply it with {wanted} state")
    if cold:
        run.start_emulator()
    try:
        for name in roots_of(run):
            root = run.prepare(name)
            try:
                run.init(root)
            except CannotRun:  # no provider to be had: an emulator this command started holds nothing yet
                if cold and not run.report.resources:
                    run.stop_emulator()
                raise
            run.apply(root)
            if root.backend == "s3":
                run.check_state_object(root)
        print(f"{run.env}: outputs", flush=True)
        run.outputs(root)
    except StepFailed:
        print(f"{run.env}: the emulator stays up with what was applied; "
              f"`make destroy-local ENV={run.env}` removes it and stops the emulator", flush=True)
        raise
    print(f"{run.env}: up in the emulator at {run.emulator.endpoint} (pid {run.emulator.pid}); "
          f"`make plan-local ENV={run.env}` plans against it, `make destroy-local ENV={run.env}` takes it down",
          flush=True)
    return 0


def attach(run: LocalRun) -> bool:
    """Use the environment's running emulator, with the backend it was applied with; False
    (and the stale folder removed) when none runs."""
    running = run.running_emulator()
    if running is None:
        shutil.rmtree(run.folder, ignore_errors=True)
        return False
    run.emulator = running
    run.backend = json.loads(run.record.read_text(encoding="utf-8")).get("backend", "local")
    print(f"emulator: pid {running.pid} at {running.endpoint} ({run.backend} state)", flush=True)
    return True


def cmd_plan(run: LocalRun) -> int:
    """Plan every root of the running stack (with --backend s3, its bootstrap too), or ENV
    against an empty emulated account when none runs."""
    cold = not attach(run)
    if cold:
        print(f"{run.env}: no local stack is up: planning against an empty emulated account", flush=True)
        run.start_emulator()
    try:
        for name in reversed(roots_of(run)):
            root = run.prepare(name)
            run.init(root)
            run.plan(root)
    finally:
        if cold:
            run.stop_emulator()
    return 0


def cmd_destroy(run: LocalRun) -> int:
    if not attach(run):
        print(f"{run.env}: nothing to destroy: no emulator of this environment is running "
              "(its resources lived only in that process's memory)", flush=True)
        return 0
    try:
        for name in reversed(roots_of(run)):
            root = run.prepare(name)
            run.init(root)
            run.destroy(root)
    except StepFailed:
        print(f"{run.env}: the emulator stays up with what is left (deletion protection, on in prod, stops "
              f"a destroy as on AWS); `make stop-local ENV={run.env}` discards it all", flush=True)
        raise
    run.stop_emulator()
    return 0


def cmd_release(run: LocalRun, commit: str) -> int:
    if not attach(run):
        raise CannotRun(f"no local stack of {run.env} is up: `make apply-local ENV={run.env}` first")
    run.release(run.prepare(run.env), commit)
    return 0


def cmd_stop(run: LocalRun) -> int:
    """Stop the environment's emulator without destroying: everything in it is discarded.
    It need not answer: this is the way out for one that hangs."""
    run.emulator = run.recorded_emulator()
    if run.emulator:
        run.stop_emulator()
    else:
        print(f"{run.env}: no emulator of this environment is running", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("apply", "plan", "destroy", "stop", "release", "gaps"))
    parser.add_argument("env", nargs="?", default="dev", help="environment root under envs/ (default: dev)")
    parser.add_argument("--backend", choices=("local", "s3"), default="local",
                        help="local state (default), or the root's own S3 backend against an emulated "
                             "bootstrap bucket (applies envs/bootstrap first)")
    parser.add_argument("--mirror", default=None,
                        help="Terraform filesystem mirror (default: $TF_PLUGIN_MIRROR; neither: the registry)")
    parser.add_argument("--report", type=Path, default=os.environ.get("APPLY_LOCAL_REPORT") or None,
                        help="write what the command did here, as JSON (default: $APPLY_LOCAL_REPORT)")
    parser.add_argument("--commit", default=LOCAL_COMMIT,
                        help="release: the commit SHA the release deploys (default: a fixed placeholder)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print terraform's full output")
    args = parser.parse_args(argv)

    if args.command == "gaps":
        print_gaps()
        return 0
    try:
        if not (ROOT / "envs" / args.env / "providers.tf").is_file():
            raise CannotRun(f"unknown environment {args.env!r}: no envs/{args.env}/providers.tf")
        if is_bootstrap(args.env) and args.backend == "s3":
            raise CannotRun(f"envs/{args.env} has no S3 backend (it creates the bucket): use --backend local")
        run = LocalRun(args.env, args.backend, args.verbose, args.mirror)
    except CannotRun as exc:
        print(f"apply_local: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        if args.command == "apply":
            status = cmd_apply(run)
        elif args.command == "plan":
            status = cmd_plan(run)
        elif args.command == "destroy":
            status = cmd_destroy(run)
        elif args.command == "stop":
            status = cmd_stop(run)
        else:
            status = cmd_release(run, args.commit)
    except StepFailed as exc:
        print(f"{exc.step} FAILED\n{exc.detail}", flush=True)
        return 1
    except (EmulatorError, CannotRun) as exc:
        print(f"apply_local: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.report:
            args.report.write_text(json.dumps(run.report.__dict__, indent=2) + "\n", encoding="utf-8")
    print(f"{args.command} {args.env}: {'done' if status == 0 else 'FAILED'} in "
          f"{time.perf_counter() - started:.0f}s", flush=True)
    return status


def print_gaps() -> None:
    print("Shims (the throwaway copy only):")
    for shim in emulator_gaps.SHIMS:
        print(f"  {shim.name} ({shim.files}): {shim.reason}")
    print("Server patches (inside the emulator's process):")
    for patch in emulator_gaps.SERVER_PATCHES:
        print(f"  {patch.name} ({patch.target}): {patch.reason}")
    print("Stand-ins (terraform_data in place of the resource):")
    for stand_in in emulator_gaps.STAND_INS:
        print(f"  {stand_in.address} ({stand_in.files}): {stand_in.reason}")
    print("Setup steps (before apply):")
    for step in emulator_gaps.SETUP:
        print(f"  {step.name} ({', '.join(step.roots)}): {step.reason}")
    print("Teardown steps (before destroy):")
    for step in emulator_gaps.TEARDOWN:
        forgets = f"; forgets {', '.join(step.forget)}" if step.forget else ""
        print(f"  {step.name} ({', '.join(step.roots)}): {step.reason}{forgets}")
    print("Known second-plan diffs:")
    for diff in emulator_gaps.KNOWN_DIFFS:
        print(f"  {'/'.join(diff.roots)}: {diff.action} {diff.address}: {', '.join(diff.attributes)}: {diff.reason}")


if __name__ == "__main__":
    sys.exit(main())
