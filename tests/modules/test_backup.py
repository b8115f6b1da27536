"""modules/backup (and its copy_vault): what the plan keeps, where, under which key and lock, and
that deleting an environment keeps its recovery points. Read from the HCL and from the rendered
roots, so that the YAML's settings are followed through to the module's arguments."""

from __future__ import annotations

import re
from typing import Any

import hcl2
import pytest
from tfhelpers import MODULES, ROOT, blocks, load_dir, resources, statements_of

BACKUP = MODULES / "backup"


@pytest.fixture(scope="module")
def res() -> dict[str, dict[str, Any]]:
    return resources(load_dir(BACKUP))


@pytest.fixture(scope="module")
def copy_res() -> dict[str, dict[str, Any]]:
    return resources(load_dir(BACKUP / "copy_vault"))


def rendered(env: str) -> dict[str, Any]:
    with (ROOT / "envs" / env / "backup.tf").open(encoding="utf-8") as handle:
        return {name: body for module in hcl2.load(handle).get("module", []) for name, body in module.items()}


def unquoted(name: str) -> str:
    return name.strip('"')


# ---- Vault: the environment's key, never emptied by a destroy ----


def test_the_vault_uses_the_environment_key_and_keeps_its_recovery_points(res):
    vault = res["aws_backup_vault.this"]
    assert vault["kms_key_arn"] == "${var.kms_key_arn}"
    assert vault["force_destroy"] == "${var.force_destroy}"
    modules = {unquoted(k): v for k, v in rendered("prod").items()}
    assert modules["backup"]["kms_key_arn"] == "${module.ssm.kms_key_arn}"
    assert modules["backup"]["force_destroy"] is False
    assert modules["backup_copy_vault"]["force_destroy"] is False


def test_the_copy_vault_has_its_own_key_in_its_region(copy_res):
    key = copy_res["aws_kms_key.this"]
    assert key["enable_key_rotation"] is True
    assert copy_res["aws_backup_vault.this"]["kms_key_arn"] == "${aws_kms_key.this.arn}"
    providers = (ROOT / "envs" / "prod" / "providers.tf").read_text(encoding="utf-8")
    assert 'alias               = "backup_copy"\n  region              = "ap-northeast-3"' in providers
    modules = {unquoted(k): v for k, v in rendered("prod").items()}
    assert modules["backup_copy_vault"]["providers"] == {"aws": "${aws.backup_copy}"}


# ---- Vault lock: governance unless compliance is asked for ----


@pytest.mark.parametrize("folder", [BACKUP, BACKUP / "copy_vault"], ids=["vault", "copy_vault"])
def test_changeable_for_days_only_in_compliance_mode(folder):
    # Without changeable_for_days the lock is in governance mode; with it, compliance mode after
    # that many days (PutBackupVaultLockConfiguration). Only mode "compliance" may set it.
    parsed = load_dir(folder)
    lock = resources(parsed)["aws_backup_vault_lock_configuration.this"]
    text = "\n".join(p.read_text(encoding="utf-8") for p in folder.glob("*.tf"))
    assert "compliance\" ? var.vault_lock.grace_days : null" in text
    assert lock["count"].endswith("? 0 : 1}") or lock["count"].endswith("? 1 : 0}")


def test_prod_locks_both_vaults_in_governance_mode():
    modules = {unquoted(k): v for k, v in rendered("prod").items()}
    for name in ("backup", "backup_copy_vault"):
        assert unquoted(modules[name]["vault_lock"]["mode"]) == "governance"


# ---- Plan ----


def test_daily_rule_copies_to_the_second_region_and_continuous_rule_is_pitr(res):
    plan = res["aws_backup_plan.this"]
    (daily,) = blocks(plan, "rule")
    assert daily["rule_name"] == "daily"
    assert blocks(daily, "lifecycle")[0]["delete_after"] == "${var.retention_days}"
    (copy,) = blocks(daily, "dynamic")
    (content,) = blocks(copy["copy_action"], "content")
    assert content["destination_vault_arn"] == "${copy_action.value.vault_arn}"
    (continuous,) = [d["rule"] for d in blocks(plan, "dynamic") if "rule" in d]
    (content,) = blocks(continuous, "content")
    assert content["enable_continuous_backup"] is True


def test_prod_keeps_pitr_for_the_databases_own_window_and_copies():
    modules = {unquoted(k): v for k, v in rendered("prod").items()}
    backup = modules["backup"]
    env_yaml = (ROOT / "envs" / "prod" / "env.yaml").read_text(encoding="utf-8")
    assert "backup_retention_days: 14" in env_yaml
    assert backup["continuous_retention_days"] == 14
    assert backup["copy"]["vault_arn"] == "${module.backup_copy_vault.vault_arn}"
    assert backup["db_instance_arn"] == "${module.rds.instance_arn}"


def test_dev_has_no_plan_and_stg_no_copy_or_pitr_rule():
    assert rendered("dev") == {}
    stg = {unquoted(k): v for k, v in rendered("stg").items()}
    assert set(stg) == {"backup"}
    assert "continuous_retention_days" not in stg["backup"] and "copy" not in stg["backup"]


# ---- Service role ----


def test_the_role_trusts_aws_backup_and_has_its_managed_policies(res):
    role = res["aws_iam_role.this"]
    assert role["permissions_boundary"] == "${var.permissions_boundary_arn}"
    attached = res["aws_iam_role_policy_attachment.this"]
    assert set(attached["for_each"].removeprefix("${toset(").removesuffix(")}").strip("[]").replace('"', "")
               .replace(" ", "").split(",")) == {"AWSBackupServiceRolePolicyForBackup",
                                                 "AWSBackupServiceRolePolicyForRestores"}
    assert "policy/service-role/" in attached["policy_arn"]


def test_the_role_may_use_the_keys_and_grant_only_to_aws_resources():
    parsed = load_dir(BACKUP)
    documents = {name: body for block in parsed.get("data", []) for kind, named in block.items()
                 if kind.strip('"') == "aws_iam_policy_document" for name, body in named.items()}
    trust = statements_of(documents['"assume"'])
    assert [unquoted(i) for i in trust[0]["principals"][0]["identifiers"]] == ["backup.amazonaws.com"]
    keys = {unquoted(s["sid"]): s for s in statements_of(documents['"keys"'])}
    assert keys["UseTheEnvironmentKeys"]["resources"] == "${local.key_arns}"
    grant = keys["GrantsForAwsResources"]
    assert [unquoted(a) for a in grant["actions"]] == ["kms:CreateGrant"]
    assert unquoted(grant["condition"][0]["variable"]) == "kms:GrantIsForAWSResource"


def test_the_apply_role_may_pass_roles_to_aws_backup():
    # CreateBackupSelection passes the backup role: without this the first apply of prod fails.
    text = (MODULES / "bootstrap" / "ci_policies.tf").read_text(encoding="utf-8")
    services = text.split("passed_to_services = [", 1)[1].split("]", 1)[0]
    assert '"backup.amazonaws.com"' in services


# ---- RDS: deleting a protected environment keeps its backups ----


def test_protected_environments_keep_automated_backups_on_delete():
    rds = (MODULES / "rds" / "main.tf").read_text(encoding="utf-8")
    assert "delete_automated_backups = !var.keep_automated_backups_on_delete" in rds
    for env, kept in (("dev", False), ("stg", True), ("prod", True)):
        text = (ROOT / "envs" / env / "rds.tf").read_text(encoding="utf-8")
        assert re.search(rf"keep_automated_backups_on_delete\s+= {str(kept).lower()}\n", text), env
