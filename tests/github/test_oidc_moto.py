"""The OIDC roles as the AWS provider creates them: envs/bootstrap applied against moto's server.

Only the GitHub parts are applied (-target on the two roles and their policies), in a copy of
the root, with the real AWS provider from the Terraform filesystem mirror named by
TF_PLUGIN_MIRROR (skipped without one, like tests/test_plan_offline.py). The trust policies IAM
stores are then evaluated for the subjects GitHub issues.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
from iamhelpers import allows
from tfhelpers import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import tfwork  # noqa: E402
from emulator import Emulator  # noqa: E402

MIRROR = os.environ.get("TF_PLUGIN_MIRROR")
TERRAFORM = shutil.which("terraform")
REPO = "example-org/django-todo-aws"
HOST = "token.actions.githubusercontent.com"

pytestmark = pytest.mark.skipif(not (MIRROR and TERRAFORM),
                                reason="needs TF_PLUGIN_MIRROR (a filesystem mirror holding hashicorp/aws) "
                                       "and terraform on PATH")

TARGETS = ["aws_iam_role.github_plan", "aws_iam_role.github_apply", "aws_iam_role_policy.github_apply_iam",
           "aws_iam_role_policy_attachment.github_plan_read_only",
           "aws_iam_role_policy_attachment.github_apply_power_user"]


@pytest.fixture(scope="module")
def moto_endpoint(tmp_path_factory):
    # The emulator of the local apply (tools/emulator.py): AWS's managed policies are loaded, so
    # attaching ReadOnlyAccess and PowerUserAccess proves their ARNs.
    server = Emulator.start("123456789012", tmp_path_factory.mktemp("moto") / "moto.log")
    try:
        yield server.endpoint
    finally:
        server.stop()


@pytest.fixture(scope="module")
def roles(moto_endpoint, tmp_path_factory):
    import boto3

    work = tmp_path_factory.mktemp("bootstrap-moto")
    shutil.copytree(ROOT / "modules", work / "modules", ignore=shutil.ignore_patterns(".terraform*", "*.md"))
    shutil.copytree(ROOT / "envs" / "bootstrap", work / "envs" / "bootstrap",
                    ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*", "*.md"))
    mirror = Path(MIRROR).resolve()
    provider_major = tfwork.major(tfwork.provider_version(mirror))
    tfwork.apply_shims(work, provider_major, tfwork.shims_for(provider_major))
    config = work / "terraform.rc"
    config.write_text(tfwork.cli_config(mirror), encoding="utf-8")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(config), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
           "AWS_ENDPOINT_URL": moto_endpoint, "AWS_MAX_ATTEMPTS": "1", "AWS_REGION": "ap-northeast-1"}
    env.pop("TF_PLUGIN_CACHE_DIR", None)
    root = work / "envs" / "bootstrap"
    for args in (["init", "-backend=false", "-input=false", "-no-color"],
                 ["apply", "-auto-approve", "-input=false", "-no-color", *(f"-target={t}" for t in TARGETS)]):
        result = subprocess.run([TERRAFORM, *args], cwd=root, env=env, capture_output=True, text=True,
                                check=False, timeout=600)
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    iam = boto3.client("iam", endpoint_url=moto_endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    found = {}
    for name in ("todo-shared-cicd-github-plan-role", "todo-shared-cicd-github-apply-role"):
        document = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
        found[name] = json.loads(unquote(document)) if isinstance(document, str) else document
    providers = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    return found, [p["Arn"] for p in providers], iam


def claims(sub: str) -> dict[str, str]:
    return {f"{HOST}:sub": sub, f"{HOST}:aud": "sts.amazonaws.com"}


def test_the_provider_exists_once_with_the_sts_audience(roles):
    _, providers, iam = roles
    (arn,) = providers
    assert arn.endswith(":oidc-provider/token.actions.githubusercontent.com")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["sts.amazonaws.com"]


@pytest.mark.parametrize(("sub", "plan", "apply"), [
    (f"repo:{REPO}:environment:prod:ref:refs/heads/main", True, True),
    (f"repo:{REPO}:environment:dev:ref:refs/heads/develop", True, True),
    (f"repo:{REPO}:environment:prod:ref:refs/heads/develop", True, False),
    (f"repo:{REPO}:pull_request:ref:refs/pull/3/merge", True, False),
    (f"repo:{REPO}:environment:prod", True, False),
    ("repo:example-org/elsewhere:environment:prod:ref:refs/heads/main", False, False),
])
def test_stored_trust_policies(roles, sub: str, plan: bool, apply: bool):
    documents, (provider,), _ = roles
    assert allows(documents["todo-shared-cicd-github-plan-role"], provider, claims(sub)) is plan
    assert allows(documents["todo-shared-cicd-github-apply-role"], provider, claims(sub)) is apply
