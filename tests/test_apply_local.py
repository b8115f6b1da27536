"""tools/apply_local.py: terraform apply, plan and destroy against the AWS API emulator.

The fast tests check the machinery without terraform: the declared emulator gaps still
match the code they work around, stand-ins keep every reference valid, the second plan's
diffs are compared with the declared list, and the emulator is started and stopped by its
own PID. The full runs need the AWS provider, from the registry or from the filesystem mirror
TF_PLUGIN_MIRROR names (as tests/test_plan_offline.py), and are skipped without either. Each runs
its commands one process each, so every command after the first must find the running emulator;
dev's are the README's `make` commands exactly as written there (tests/test_readme_commands.py
holds that these are the README's, which therefore does not run them a second time):
- dev with its own S3 backend against its emulated bootstrap bucket: envs/bootstrap/dev and dev applied
  from a cold emulator, a release by the deploy program, both planned again (only declared
  emulator diffs allowed), destroyed;
- envs/bootstrap/dev alone: applied, planned again (no change at all), destroyed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from doc_commands import run_command
from tfhelpers import ROOT, needs_provider_reason, providers_missing

sys.path.insert(0, str(ROOT / "tools"))
import apply_local  # noqa: E402
import emulator_gaps  # noqa: E402
import tfwork  # noqa: E402
from emulator import Emulator, free_port  # noqa: E402

TOOL = ROOT / "tools" / "apply_local.py"
needs_provider = pytest.mark.skipif(providers_missing() is not None, reason=needs_provider_reason())


def run_tool(*args: str, local: Path, timeout: float = 2400) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "APPLY_LOCAL_DIR": str(local)}
    return subprocess.run([sys.executable, str(TOOL), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=False, timeout=timeout)


def run_make(command: str, local: Path, report: Path | None = None,
             timeout: float = 2400) -> subprocess.CompletedProcess[str]:
    """A README command, as typed (stdout and stderr together); the report through APPLY_LOCAL_REPORT."""
    env = {**os.environ, "APPLY_LOCAL_DIR": str(local)}
    env.pop("APPLY_LOCAL_REPORT", None)
    if report:
        env["APPLY_LOCAL_REPORT"] = str(report)
    return run_command(command, cwd=ROOT, env=env, timeout=timeout)


def work_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "modules", tmp_path / "modules")
    for root in ("dev", "bootstrap/dev"):
        shutil.copytree(ROOT / "envs" / root, tmp_path / "envs" / root)
    return tmp_path


def emulator_shims() -> list[tfwork.Shim]:
    return [*emulator_gaps.SHIMS, *emulator_gaps.stand_in_shims(emulator_gaps.STAND_INS, "ap-northeast-1",
                                                                  "111111111111")]


# ---- the declared gaps -----------------------------------------------------------------


def test_every_emulator_shim_and_stand_in_matches_the_code(tmp_path: Path) -> None:
    """A gap whose pattern matches nothing is stale: the code it works around has changed."""
    copy = work_copy(tmp_path)
    assert tfwork.apply_shims(copy, 6, emulator_shims()) == []


def test_stand_ins_leave_no_reference_to_the_replaced_resources(tmp_path: Path) -> None:
    copy = work_copy(tmp_path)
    tfwork.apply_shims(copy, 6, emulator_shims())
    text = "\n".join(p.read_text(encoding="utf-8") for p in (copy / "modules").rglob("*.tf"))
    for stand_in in emulator_gaps.STAND_INS:
        assert not re.search(rf"\b{stand_in.type}\.{stand_in.name}\b", text), stand_in.address
        assert f'resource "{stand_in.type}" "{stand_in.name}"' not in text
        assert f'resource "terraform_data" "{stand_in.data_name}"' in text
        # every attribute read elsewhere is one the stand-in provides
        for attr in re.findall(rf"terraform_data\.{stand_in.data_name}(?:\[[^\]]*\])?\.output\.(\w+)", text):
            assert attr in stand_in.attributes, f"{stand_in.address}.{attr} is read but not stood in"


def test_a_stand_in_keeps_count_and_for_each(tmp_path: Path) -> None:
    module = tmp_path / "modules" / "x"
    module.mkdir(parents=True)
    (module / "main.tf").write_text(
        'resource "aws_thing" "this" {\n  for_each = var.things\n  name = each.key\n}\n\n'
        'output "arns" {\n  value = [for k, v in aws_thing.this : v.arn]\n}\n\n'
        'output "one" {\n  value = aws_thing.this["a"].arn\n}\n', encoding="utf-8")
    stand_in = emulator_gaps.StandIn("aws_thing", "this", "modules/x/main.tf", {"arn": '"arn:{region}"'}, "test")
    assert tfwork.apply_shims(tmp_path, 6, stand_in.shims("r1", "1")) == []
    text = (module / "main.tf").read_text(encoding="utf-8")
    assert 'resource "terraform_data" "thing_this" {' in text
    assert "  for_each = var.things\n" in text
    assert 'arn = "arn:r1"' in text
    assert 'terraform_data.thing_this["a"].output.arn' in text
    assert "in terraform_data.thing_this :" in text


def test_the_override_points_every_provider_alias_at_the_emulator() -> None:
    aliases, region, account = apply_local.root_settings("dev")
    assert region == "ap-northeast-1" and re.fullmatch(r"\d{12}", account)
    text = apply_local.override_file(aliases, Path("/state/dev.tfstate"))
    assert text.count('provider "aws" {') == len(aliases) > 1
    for alias in aliases:
        if alias:
            assert f'alias = "{alias}"' in text
    assert f"max_retries                 = {apply_local.MAX_RETRIES}" in text
    assert 'backend "local"' in text and '"/state/dev.tfstate"' in text
    assert "backend" not in apply_local.override_file(aliases, None)


def test_each_bootstrap_is_in_its_environments_account() -> None:
    for env in ("dev", "stg", "prod"):
        aliases, region, account = apply_local.root_settings(f"bootstrap/{env}")
        assert aliases == [""]
        assert (region, account) == apply_local.root_settings(env)[1:]
    accounts = {apply_local.root_settings(env)[2] for env in ("dev", "stg", "prod")}
    assert len(accounts) == 3, "the committed example gives each environment its own account"


def test_the_env_backend_is_read_from_the_committed_root() -> None:
    backend = apply_local.backend_settings(ROOT / "envs" / "dev" / "versions.tf")
    assert backend["key"] == "dev/terraform.tfstate"
    assert backend["bucket"].startswith("todo-dev-ops-tfstate-")
    assert backend["kms_key_id"].startswith("arn:aws:kms:") and ":alias/" in backend["kms_key_id"]


# ---- the second plan's diffs -------------------------------------------------------------


def plan_json(*changes: tuple[str, list[str], dict, dict]) -> dict:
    return {"resource_changes": [
        {"address": address, "change": {"actions": actions, "before": before, "after": after,
                                        "after_unknown": {"u": True} if "u" in after else {},
                                        "replace_paths": [["klass"]] if "delete" in actions else None}}
        for address, actions, before, after in changes]}


def test_plan_diffs_name_the_changed_attributes() -> None:
    shown = plan_json(
        ("module.a.aws_x.y", ["update"], {"p": 1, "q": 2, "tags": {}}, {"p": 1, "q": 3, "tags": {}}),
        ("module.a.aws_x.v", ["update"], {"p": 1, "u": "old"}, {"p": 1, "u": None}),
        ("aws_z.w", ["delete", "create"], {"klass": ""}, {"klass": "STANDARD"}),
        ("aws_n.o", ["no-op"], {"p": 1}, {"p": 1}),
    )
    assert apply_local.plan_diffs(shown) == [
        "replace aws_z.w: klass", "update module.a.aws_x.v: u", "update module.a.aws_x.y: q"]


def test_only_declared_diffs_are_expected(monkeypatch: pytest.MonkeyPatch) -> None:
    known = (emulator_gaps.KnownDiff(("dev",), "module.*.aws_x.y", "update", ("q", "r"), "moto drops q"),)
    monkeypatch.setattr(emulator_gaps, "KNOWN_DIFFS", known)
    assert apply_local.unexpected_diffs("dev", ["update module.a.aws_x.y: q"]) == []
    # another attribute, another action, another resource: each unexpected
    assert apply_local.unexpected_diffs("dev", ["update module.a.aws_x.y: q, s"]) == ["update module.a.aws_x.y: q, s"]
    assert apply_local.unexpected_diffs("dev", ["replace module.a.aws_x.y"]) == ["replace module.a.aws_x.y"]
    assert apply_local.unexpected_diffs("dev", ["update module.a.aws_x.z: q"]) == ["update module.a.aws_x.z: q"]
    # instance keys are literal; only * is a wildcard
    keyed = (emulator_gaps.KnownDiff(("dev",), 'aws_x.y["*"]', "update", ("q",), "moto drops q"),)
    monkeypatch.setattr(emulator_gaps, "KNOWN_DIFFS", keyed)
    assert apply_local.unexpected_diffs("dev", ['update aws_x.y["a"]: q']) == []
    assert apply_local.unexpected_diffs("dev", ["update aws_x.y[0]: q"]) == ["update aws_x.y[0]: q"]
    monkeypatch.setattr(emulator_gaps, "KNOWN_DIFFS", known)
    # a declared diff that no longer appears is reported as stale, for its own root only
    assert apply_local.stale_known_diffs("dev", []) == ["dev: update module.*.aws_x.y: q, r"]
    assert apply_local.stale_known_diffs("bootstrap/dev", []) == []
    assert apply_local.unexpected_diffs("prod", ["update module.a.aws_x.y: q"]) == ["update module.a.aws_x.y: q"]
    assert apply_local.stale_known_diffs("dev", ["update module.a.aws_x.y: r"]) == []


def test_every_known_diff_names_its_root_and_reason() -> None:
    for diff in emulator_gaps.KNOWN_DIFFS:
        assert diff.roots and set(diff.roots) <= {"dev", "stg", "prod", *emulator_gaps.BOOTSTRAPS}, diff
        assert diff.action in ("update", "replace", "create", "delete"), diff
        assert len(diff.reason) > 20, diff


# ---- the emulator process ------------------------------------------------------------------


def test_the_emulator_starts_and_stops_by_its_own_pid(tmp_path: Path) -> None:
    emulator = Emulator.start("210987654321", tmp_path / "moto.log")
    try:
        assert emulator.alive()
        sts = emulator.boto3_client("sts", "ap-northeast-1")
        assert sts.get_caller_identity()["Account"] == "210987654321"
        emulator.save(tmp_path / "emulator.json")
        assert Emulator.load(tmp_path / "emulator.json") == emulator
    finally:
        emulator.stop()
    assert not emulator.alive()
    assert not Path(f"/proc/{emulator.pid}").exists() or not emulator.is_ours()


def test_a_recorded_pid_of_another_program_is_never_stopped(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        foreign = Emulator(sleeper.pid, 1, "123456789012")
        assert not foreign.is_ours()
        foreign.stop()
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    assert Emulator.load(tmp_path / "bad.json") is None


# A failure of CI's clean-clone run (1,102 s in): the API's code sits lines below the summary.
CI_DUPLICATE = """dev apply FAILED
    Error: creating VPC Security Group Rule

      with module.ecs.aws_vpc_security_group_egress_rule.redis,
      on ../../modules/ecs/security_group.tf line 44, in resource "aws_vpc_security_group_egress_rule" "redis":
      44: resource "aws_vpc_security_group_egress_rule" "redis" {

    operation error EC2: AuthorizeSecurityGroupEgress, https response error
    StatusCode: 400, RequestID:
    sYsIDt3875WBJtjoppqkPl4YTBNnFhBGEZlJN7DuA2TcE0IhhDxS, api error
    InvalidPermission.Duplicate: The specified rule already exists
make[1]: *** [Makefile:192: apply-local] Error 1
"""


def test_a_transient_is_recognised_by_the_code_below_its_summary() -> None:
    assert emulator_gaps.transient_failure(CI_DUPLICATE)
    real = CI_DUPLICATE.replace("InvalidPermission.Duplicate", "InvalidGroup.NotFound")
    assert not emulator_gaps.transient_failure(real)
    assert not emulator_gaps.transient_failure(CI_DUPLICATE + real)  # one real error is enough
    assert not emulator_gaps.transient_failure("dev apply FAILED\nmake[1]: *** Error 1\n")


def test_the_emulator_answers_one_request_at_a_time() -> None:
    """The server patch's wrapper: eight threads in, never two inside moto at once."""
    inside: list[int] = []
    peak: list[int] = []

    class App:
        def __call__(self, environ, start_response):
            inside.append(1)
            peak.append(len(inside))
            time.sleep(0.02)
            inside.pop()
            return [b""]

    App.__call__ = emulator_gaps.one_request_at_a_time(App.__call__)
    threads = [threading.Thread(target=App(), args=({}, None)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(peak) == 8 and max(peak) == 1


def test_the_server_patch_keeps_unconditional_denies(tmp_path: Path) -> None:
    """Patched: a conditional bucket-policy statement moto cannot evaluate no longer denies every
    object request; a Deny without a condition still does (the patch is that narrow)."""
    emulator = Emulator.start("123456789012", tmp_path / "moto.log")
    try:
        s3 = emulator.boto3_client("s3", "us-east-1")
        deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject"}
        for bucket, statement, allowed in (
            ("conditional", {**deny, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}, True),
            ("unconditional", deny, False),
        ):
            s3.create_bucket(Bucket=bucket)
            statement = {**statement, "Resource": f"arn:aws:s3:::{bucket}/*"}
            s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17",
                                                                   "Statement": [statement]}))
            try:
                s3.put_object(Bucket=bucket, Key="k", Body=b"v")
                put = True
            except s3.exceptions.ClientError:
                put = False
            assert put is allowed, bucket
        assert "not found; is it stale?" not in (tmp_path / "moto.log").read_text(encoding="utf-8")
    finally:
        emulator.stop()


def test_clients_never_see_a_profile_or_real_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-secret")
    env = Emulator(1, 4566, "123456789012").client_env("ap-northeast-1")
    assert "AWS_PROFILE" not in env
    assert env["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"


# ---- the command line --------------------------------------------------------------------


def test_unknown_environment_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_tool("apply", "qa", local=tmp_path, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "apply_local: unknown environment 'qa': no envs/qa/providers.tf"]
    assert not any(tmp_path.iterdir())


def test_bootstrap_has_no_s3_backend_to_use(tmp_path: Path) -> None:
    result = run_tool("apply", "bootstrap/dev", "--backend", "s3", local=tmp_path, timeout=60)
    assert result.returncode == 2 and "no S3 backend" in result.stderr


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH")
def test_without_a_mirror_or_the_registry_exits_2_and_stops_its_emulator(tmp_path: Path) -> None:
    """No mirror: the registry; out of reach (a proxy that refuses every connection, an empty
    plugin cache), one line says what to do, and the emulator the apply started is gone."""
    env = {k: v for k, v in os.environ.items() if k != "TF_PLUGIN_MIRROR"}
    env |= {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost",
            "TF_PLUGIN_CACHE_DIR": str(tmp_path / "cache"), "APPLY_LOCAL_DIR": str(tmp_path / "local")}
    result = subprocess.run([sys.executable, str(TOOL), "apply", "dev"], cwd=ROOT, capture_output=True, text=True,
                            env=env, check=False, timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("apply_local: terraform init cannot reach the provider registry")
    assert "set TF_PLUGIN_MIRROR=DIR" in lines[0]
    started = re.search(r"emulator: moto server, pid (\d+)", result.stdout)
    assert started and f"emulator: stopped (pid {started.group(1)})" in result.stdout
    assert exited(int(started.group(1)))
    assert not (tmp_path / "local" / "dev").exists()


def exited(pid: int) -> bool:
    """The process is gone, or has exited and waits to be reaped (the tool that started it has
    ended, so its reaper is init, which may take a moment)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state == "Z"


@needs_provider
def test_destroy_with_no_emulator_running_says_so(tmp_path: Path) -> None:
    result = run_tool("destroy", "dev", local=tmp_path, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "nothing to destroy" in result.stdout


@needs_provider
def test_a_record_whose_process_is_gone_is_removed_as_stale(tmp_path: Path) -> None:
    ended = subprocess.Popen(["true"])
    ended.wait()
    Emulator(ended.pid, free_port(), apply_local.root_settings("dev")[2]).save(tmp_path / "dev" / "emulator.json")
    result = run_tool("destroy", "dev", local=tmp_path, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"dev: the recorded emulator (pid {ended.pid}) is no longer running; its stale record is removed" \
        in result.stdout
    assert "nothing to destroy" in result.stdout
    assert not (tmp_path / "dev").exists()
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "emulator.json").write_text("{not json", encoding="utf-8")
    result = run_tool("destroy", "dev", local=tmp_path, timeout=60)
    assert f"dev: the emulator record {tmp_path / 'dev' / 'emulator.json'} is unreadable; its stale record " \
        "is removed" in result.stdout, result.stdout + result.stderr
    assert not (tmp_path / "dev" / "emulator.json").exists()


@needs_provider
def test_an_emulator_of_ours_that_does_not_answer_is_an_error(tmp_path: Path) -> None:
    """Stopped (SIGSTOP), it still holds the stack: destroy and plan refuse with one line, remove
    nothing and leave it running; stop ends it."""
    record = tmp_path / "dev" / "emulator.json"
    emulator = Emulator.start(apply_local.root_settings("dev")[2], tmp_path / "dev" / "emulator.log")
    try:
        emulator.save(record, backend="local")
        os.kill(emulator.pid, signal.SIGSTOP)
        for command in ("destroy", "plan"):
            result = run_tool(command, "dev", local=tmp_path, timeout=120)
            assert result.returncode == 2, result.stdout + result.stderr
            assert result.stderr.splitlines() == [
                f"apply_local: dev: the emulator (pid {emulator.pid}, {emulator.endpoint}) runs but does not answer; "
                f"see {tmp_path / 'dev' / 'emulator.log'}; `make stop-local ENV=dev` stops it (its stack goes with it)"]
            assert "nothing to destroy" not in result.stdout
            assert Emulator.load(record) == emulator and emulator.is_ours()
        stopped = run_tool("stop", "dev", local=tmp_path, timeout=120)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert f"emulator: stopped (pid {emulator.pid})" in stopped.stdout
        assert not emulator.is_ours()
        assert not (tmp_path / "dev").exists()
    finally:
        if emulator.is_ours():
            os.kill(emulator.pid, signal.SIGCONT)
        emulator.stop()


# ---- full runs -----------------------------------------------------------------------------


@needs_provider
def test_dev_on_its_s3_backend_applied_released_planned_and_destroyed(tmp_path: Path) -> None:
    """`make apply-local ENV=dev BACKEND=s3`, `release-local`, `plan-local`, `destroy-local`: four processes."""
    local = tmp_path / "local"
    record = local / "dev" / "emulator.json"
    reports = {step: tmp_path / f"{step}.json" for step in ("apply", "release", "plan", "destroy")}
    for attempt in (1, 2):
        applied = run_make("make apply-local ENV=dev BACKEND=s3", local, reports["apply"])
        print(applied.stdout[-6000:])
        transient = emulator_gaps.transient_failure(applied.stdout)
        if applied.returncode == 0 or not transient or attempt == 2:
            break
        print(f"attempt {attempt}: a declared transient emulator failure; once more from a cold emulator")
        run_make("make stop-local ENV=dev", local, timeout=120)
    recorded = Emulator.load(record)
    try:
        assert applied.returncode == 0, applied.stdout[-12000:]
        assert recorded is not None and recorded.alive()
        released = run_make("make release-local ENV=dev", local, reports["release"])
        assert released.returncode == 0, released.stdout[-8000:]
        planned = run_make("make plan-local ENV=dev", local, reports["plan"])
        assert planned.returncode == 0, planned.stdout[-8000:]
        # Each command found the stack the apply left, in the same emulator.
        for result in (released, planned):
            assert f"emulator: pid {recorded.pid} at {recorded.endpoint} (s3 state)" in result.stdout
            assert "no local stack is up" not in result.stdout
        assert recorded.alive()
    finally:
        destroyed = run_make("make destroy-local ENV=dev", local, reports["destroy"])
        if recorded is not None and recorded.is_ours():  # never leave an emulator behind, whatever failed
            recorded.stop()
    assert destroyed.returncode == 0, destroyed.stdout[-8000:]
    assert "nothing to destroy" not in destroyed.stdout
    assert "dev: destroy ok" in destroyed.stdout and "bootstrap/dev: destroy ok" in destroyed.stdout
    assert f"emulator: stopped (pid {recorded.pid})" in destroyed.stdout
    assert not recorded.is_ours()
    assert not record.exists() and not (local / "dev").exists()

    apply, release, plan = (json.loads(reports[step].read_text(encoding="utf-8"))
                            for step in ("apply", "release", "plan"))
    # Both roots applied from a cold emulator; the stand-ins are the declared ones, no more.
    assert apply["resources"]["bootstrap/dev"]["stood_in"] == 0
    assert apply["resources"]["bootstrap/dev"]["applied"] >= 10
    assert apply["resources"]["dev"]["applied"] >= 90
    # Every declared stand-in is made in the copy; dev instantiates all but the backup selection
    # (backup.enabled is false in dev, so its module has no resources there).
    assert len(apply["stood_in"]["dev"]) == len(emulator_gaps.STAND_INS)
    in_dev = [s for s in emulator_gaps.STAND_INS if s.type != "aws_backup_selection"]
    assert apply["resources"]["dev"]["stood_in"] == len(in_dev)
    # dev's state went through its own backend block into the bootstrap bucket, under its key,
    # encrypted with the state key; the lock file was released.
    backend = apply_local.backend_settings(ROOT / "envs" / "dev" / "versions.tf")
    state = apply["state_object"]
    assert (state["bucket"], state["key"]) == (backend["bucket"], backend["key"])
    assert state["encryption"] == "aws:kms"
    assert state["kms_key_id"] in (backend["kms_key_id"],) or ":key/" in state["kms_key_id"]
    assert state["lock_files_left"] == "0"
    # A release by the deploy program, with the settings Terraform gave its CodeBuild project:
    # the tag parameter names the commit and the service runs the commit's images...
    release = release["release"]
    assert release["image_tag"] == apply_local.LOCAL_COMMIT
    assert release["service_images"] == release["expected_images"]
    assert all(image.endswith(f":{apply_local.LOCAL_COMMIT}") for image in release["expected_images"].values())
    assert any(line.startswith("migrate: exit code 0") for line in release["log"])
    # ...and the second plan of both roots, after that release, equals the declared emulator diffs:
    # no task definition goes back to another image, nothing unexpected, nothing stale.
    assert plan["unexpected_diffs"] == {"bootstrap/dev": [], "dev": []}
    assert plan["stale"] == []
    assert {"dev plan", "bootstrap/dev plan"} <= set(plan["steps"])


@needs_provider
def test_apply_plan_destroy_as_a_user_types_them(tmp_path: Path) -> None:
    local = tmp_path / "local"
    applied = run_tool("apply", "bootstrap/dev", local=local)
    assert applied.returncode == 0, applied.stdout[-6000:] + applied.stderr
    assert "resources applied" in applied.stdout and "state_bucket_name = " in applied.stdout
    recorded = Emulator.load(local / "bootstrap" / "dev" / "emulator.json")
    assert recorded is not None and recorded.alive()
    try:
        planned = run_tool("plan", "bootstrap/dev", local=local)
        assert planned.returncode == 0, planned.stdout[-6000:]
        assert "second plan: 0 change(s)" in planned.stdout
        assert recorded.alive()  # plan leaves the stack up
    finally:
        destroyed = run_tool("destroy", "bootstrap/dev", local=local)
    assert destroyed.returncode == 0, destroyed.stdout[-6000:]
    assert "bootstrap/dev: destroy ok" in destroyed.stdout
    assert not recorded.alive()
    assert not (local / "bootstrap" / "dev").exists()
