"""The CI identities as AWS would hold them: every environment's bootstrap applied against the
emulator, its policies read back, and what each role may do evaluated (tests/iameval.py).

Each environment's root envs/bootstrap/ENV is applied whole, in its own emulated account (the
committed YAML gives each environment its own account_id), plus stg rendered for a shared
account (every environment in one account id), with the real AWS provider from the registry or
the filesystem mirror TF_PLUGIN_MIRROR names (skipped without either, like tests/test_plan_offline.py).
The trust documents, inline policies, attached AWS managed policies (moto ships AWS's own
documents of PowerUserAccess and ReadOnlyAccess) and the permissions boundary are read back from
the emulator's IAM, so what is evaluated is what the provider wrote.

Every escalation path of issue "Blast radius" is here: a role created without the boundary, an
inline policy put on a role without it, the boundary removed or replaced or edited, the apply
role changing its own trust, another environment's role passed or created, and a role assumed.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml
from emulated import copy_modules, emulated_root, needs_provider
from iameval import EXPLICIT_DENY, IMPLICIT_DENY, Request, allowed, evaluate
from iamhelpers import allows
from tfhelpers import ROOT

HOST = "token.actions.githubusercontent.com"
ENVS = ("dev", "stg", "prod")
SHARED = "stg-shared"  # stg rendered with every environment in one account

pytestmark = needs_provider


def env_yaml(env: str) -> dict:
    return yaml.safe_load((ROOT / "envs" / env / "env.yaml").read_text(encoding="utf-8"))


ACCOUNTS = {env: env_yaml(env)["account_id"] for env in ENVS}
COMMON = yaml.safe_load((ROOT / "envs" / "common.yaml").read_text(encoding="utf-8"))
REPO = COMMON["codepipeline"]["repository"]
BRANCHES = {env: env_yaml(env)["codepipeline"]["branch"] for env in ENVS}  # each env.yaml names its own


@dataclass
class Identities:
    env: str
    account: str
    trust: dict[str, dict]              # role name -> trust policy
    policies: dict[str, list[dict]]     # role name -> its inline and attached policy documents
    boundary: dict                      # the permissions boundary policy document
    boundary_arn: str
    provider_arn: str
    roles: dict[str, str]               # "plan" / "apply" -> role name
    service_linked: list[str]           # the services with a service-linked role in the account

    def arn(self, kind: str) -> str:
        return f"arn:aws:iam::{self.account}:role/{self.roles[kind]}"

    def role(self, name: str) -> str:
        return f"arn:aws:iam::{self.account}:role/{name}"


def _document(value) -> dict:
    return json.loads(unquote(value)) if isinstance(value, str) else value


def _read_back(endpoint: str, env: str, account: str) -> Identities:
    import boto3

    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    roles = {kind: f"todo-{env.split('-')[0]}-cicd-github-{kind}-role" for kind in ("plan", "apply")}
    trust, policies = {}, {}
    for name in roles.values():
        trust[name] = _document(iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"])
        documents = [_document(iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"])
                     for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]]
        for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            documents.append(_managed(iam, attached["PolicyArn"]))
        policies[name] = documents
    boundary_arn = f"arn:aws:iam::{account}:policy/todo-{env.split('-')[0]}-sec-role-boundary-policy"
    providers = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    provider = providers[0] if providers else f"arn:aws:iam::{account}:oidc-provider/{HOST}"
    # A service-linked role's path names its service (/aws-service-role/ecs.amazonaws.com/); the
    # role names moto gives are its own (AWSServiceRoleForecs), AWS's differ in case.
    service_linked = [r["Path"].split("/")[2] for r in iam.list_roles(PathPrefix="/aws-service-role/")["Roles"]]
    return Identities(env, account, trust, policies, _managed(iam, boundary_arn), boundary_arn, provider, roles,
                      service_linked)


def _managed(iam, arn: str) -> dict:
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    return _document(iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"])


def _shared_stg_root(work: Path) -> Path:
    """envs/bootstrap/stg rendered from a copy of the YAML in which every environment shares dev's account."""
    from infra.render import Project, render_env, write

    project = work / "project"
    project.mkdir()
    shutil.copy(ROOT / "naming.yaml", project / "naming.yaml")
    shutil.copytree(ROOT / "templates", project / "templates")
    shutil.copytree(ROOT / "envs", project / "envs", ignore=shutil.ignore_patterns("*.tf", ".terraform*"))
    for env in ENVS:
        path = project / "envs" / env / "env.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace(ACCOUNTS[env], ACCOUNTS["dev"]), encoding="utf-8")
    rendered = render_env(Project(project), "stg")
    write(Project(project), "stg", rendered)
    return project / "envs" / "bootstrap" / "stg"


def _apply(name: str, source: Path, account: str, tmp: Path) -> Identities:
    work = tmp / name
    copy_modules(work)
    root = work / "envs" / "bootstrap" / name
    # the root's committed lock comes along: the registry's init is held to it (a mirror drops it)
    shutil.copytree(source, root, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    with emulated_root(work, root, account) as run:
        result = run.terraform("apply", "-auto-approve", "-input=false")
        if result.returncode != 0 and "EntityAlreadyExists" in result.stderr and "Service Linked Role" in result.stderr:
            # Seen once on a loaded machine: CreateServiceLinkedRole answered 409 in a fresh
            # emulator after a slow apply, most likely a request sent again after a slow first
            # answer, so the role exists but is not in the state. A second apply is what an
            # operator would run: its plan finds the role and the root's import block adopts it
            # (the path the module provides for an account that already has the role).
            result = run.terraform("apply", "-auto-approve", "-input=false")
        assert result.returncode == 0, f"{name}: " + result.stdout[-4000:] + result.stderr[-4000:]
        return _read_back(run.emulator.endpoint, name, account)


@pytest.fixture(scope="module")
def identities(tmp_path_factory) -> dict[str, Identities]:
    tmp = tmp_path_factory.mktemp("ci-identities")
    sources = {env: (ROOT / "envs" / "bootstrap" / env, ACCOUNTS[env]) for env in ENVS}
    sources[SHARED] = (_shared_stg_root(tmp), ACCOUNTS["dev"])
    # Four emulators and four applies at once: most of an apply is the provider waiting.
    with ThreadPoolExecutor(max_workers=len(sources)) as pool:
        futures = {name: pool.submit(_apply, name, source, account, tmp) for name, (source, account) in sources.items()}
        return {name: future.result() for name, future in futures.items()}


# A policy that grants everything: what a role's own policy could say at worst.
EVERYTHING = [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]


def apply_can(ids: Identities, action: str, resource: str, **context) -> str:
    return evaluate(Request(action, resource, context), ids.policies[ids.roles["apply"]])


def plan_can(ids: Identities, action: str, resource: str, **context) -> str:
    return evaluate(Request(action, resource, context), ids.policies[ids.roles["plan"]])


def claims(sub: str) -> dict[str, str]:
    return {f"{HOST}:sub": sub, f"{HOST}:aud": "sts.amazonaws.com"}


# ---- 1. One environment cannot reach another ---------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_each_environment_is_in_its_own_account(identities, env):
    assert identities[env].account == ACCOUNTS[env]
    assert len(set(ACCOUNTS.values())) == len(ENVS)


@pytest.mark.parametrize("env", ENVS)
def test_the_apply_role_trusts_only_its_environment_from_its_branch(identities, env):
    ids = identities[env]
    trust = ids.trust[ids.roles["apply"]]
    own = f"repo:{REPO}:environment:{env}:ref:refs/heads/{BRANCHES[env]}"
    assert allows(trust, ids.provider_arn, claims(own))
    for other in ENVS:
        if other != env:  # another environment's job, from its branch or from this one's
            for branch in (BRANCHES[other], BRANCHES[env]):
                sub = f"repo:{REPO}:environment:{other}:ref:refs/heads/{branch}"
                assert not allows(trust, ids.provider_arn, claims(sub)), sub
    for sub in (f"repo:{REPO}:environment:{env}:ref:refs/heads/feature",   # its environment, another branch
                f"repo:{REPO}:pull_request:ref:refs/pull/7/merge",
                f"repo:{REPO}:ref:refs/heads/{BRANCHES[env]}:ref:refs/heads/{BRANCHES[env]}",  # no environment
                f"repo:{REPO}-fork:environment:{env}:ref:refs/heads/{BRANCHES[env]}"):
        assert not allows(trust, ids.provider_arn, claims(sub)), sub
    wrong_audience = {**claims(own), f"{HOST}:aud": "https://github.com/example-org"}
    assert not allows(trust, ids.provider_arn, wrong_audience)


@pytest.mark.parametrize("env", ENVS)
def test_the_plan_role_trusts_pull_requests_and_its_branchs_plan_before_the_gate(identities, env):
    ids = identities[env]
    trust = ids.trust[ids.roles["plan"]]
    branch = BRANCHES[env]
    assert allows(trust, ids.provider_arn, claims(f"repo:{REPO}:pull_request:ref:refs/pull/7/merge"))
    # the plan job of a push to the environment's branch names no environment: the reviewers
    # approve its saved plan, so it runs before the gate
    assert allows(trust, ids.provider_arn, claims(f"repo:{REPO}:ref:refs/heads/{branch}:ref:refs/heads/{branch}"))
    for other in ENVS:
        if BRANCHES[other] != branch:  # another environment's branch
            sub = f"repo:{REPO}:ref:refs/heads/{BRANCHES[other]}:ref:refs/heads/{BRANCHES[other]}"
            assert not allows(trust, ids.provider_arn, claims(sub)), sub
    for sub in (f"repo:{REPO}:ref:refs/heads/feature:ref:refs/heads/feature",
                f"repo:{REPO}:ref:refs/tags/{branch}:ref:refs/tags/{branch}",
                f"repo:{REPO}:environment:{env}:ref:refs/heads/{branch}",
                f"repo:{REPO}-other:pull_request:ref:refs/pull/7/merge",
                f"repo:{REPO}-other:ref:refs/heads/{branch}:ref:refs/heads/{branch}"):
        assert not allows(trust, ids.provider_arn, claims(sub)), sub


@pytest.mark.parametrize("env", ENVS)
def test_the_apply_role_changes_roles_of_its_environment_only(identities, env):
    ids = identities[env]
    boundary = {"iam:PermissionsBoundary": ids.boundary_arn}
    assert allowed(Request("iam:CreateRole", ids.role(f"todo-{env}-app-web-x-role"), boundary),
                   ids.policies[ids.roles["apply"]])
    for other in ENVS:
        if other != env:  # named for another environment, even in this account and with the boundary
            assert not allowed(Request("iam:CreateRole", ids.role(f"todo-{other}-app-web-x-role"), boundary),
                               ids.policies[ids.roles["apply"]])


def test_in_a_shared_account_the_other_environments_are_denied_by_name_and_tag(identities):
    ids = identities[SHARED]
    account = ids.account
    assert ids.account == identities["dev"].account
    theirs = [
        ("rds:DeleteDBInstance", f"arn:aws:rds:ap-northeast-1:{account}:db:todo-prod-data-db-main-rds"),
        ("ecs:UpdateService",
         f"arn:aws:ecs:ap-northeast-1:{account}:service/todo-prod-app-web-main-ecs/todo-prod-app-web-main-svc"),
        ("s3:GetObject", f"arn:aws:s3:::todo-prod-ops-tfstate-main-s3-{account}/prod/terraform.tfstate"),
        ("ssm:PutParameter", f"arn:aws:ssm:ap-northeast-1:{account}:parameter/todo/dev/app/web/imagetag"),
        ("iam:PutRolePolicy", f"arn:aws:iam::{account}:role/todo-dev-cicd-github-apply-role"),
    ]
    for action, resource in theirs:
        context = {"iam:PermissionsBoundary": ids.boundary_arn}
        assert apply_can(ids, action, resource, **context) == EXPLICIT_DENY, resource
        # ...and to every role of this environment, whatever policy it is given (the boundary).
        assert evaluate(Request(action, resource, context), EVERYTHING, ids.boundary) == EXPLICIT_DENY, resource
    assert plan_can(ids, "s3:GetObject", theirs[2][1]) == EXPLICIT_DENY
    # A resource known only by its id is caught by its Env tag, where the service supports it.
    instance = f"arn:aws:ec2:ap-northeast-1:{account}:instance/i-0123456789abcdef0"
    assert apply_can(ids, "ec2:TerminateInstances", instance, **{"aws:ResourceTag/Env": "prod"}) == EXPLICIT_DENY
    assert apply_can(ids, "ec2:TerminateInstances", instance, **{"aws:ResourceTag/Env": "stg"}) == "allow"
    assert apply_can(ids, "ec2:CreateVpc", "*", **{"aws:RequestTag/Env": "dev"}) == EXPLICIT_DENY
    # Its own resources stay reachable.
    own = f"arn:aws:rds:ap-northeast-1:{account}:db:todo-stg-data-db-main-rds"
    assert apply_can(ids, "rds:DeleteDBInstance", own) == "allow"


def test_in_separate_accounts_no_guard_is_needed(identities):
    for env in ENVS:
        text = json.dumps(identities[env].policies[identities[env].roles["apply"]])
        assert "DenyOtherEnvironments" not in text


# ---- 2. No self-escalation ---------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_a_role_cannot_be_created_or_given_a_policy_without_the_boundary(identities, env):
    ids = identities[env]
    role = ids.role(f"todo-{env}-app-web-x-role")
    other_boundary = f"arn:aws:iam::{ids.account}:policy/todo-{env}-other"
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary"):
        assert apply_can(ids, action, role, **{"iam:PermissionsBoundary": ids.boundary_arn}) == "allow", action
        assert apply_can(ids, action, role) != "allow", f"{action} without a boundary"
        assert apply_can(ids, action, role, **{"iam:PermissionsBoundary": other_boundary}) != "allow", action
    admin = {"iam:PermissionsBoundary": ids.boundary_arn,
             "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}
    assert apply_can(ids, "iam:AttachRolePolicy", role, **admin) != "allow"
    service_role = {"iam:PermissionsBoundary": ids.boundary_arn,
                    "iam:PolicyARN": "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"}
    assert apply_can(ids, "iam:AttachRolePolicy", role, **service_role) == "allow"
    assert apply_can(ids, "iam:AttachRolePolicy", role,
                     **{"iam:PolicyARN": service_role["iam:PolicyARN"]}) != "allow"


@pytest.mark.parametrize("env", ENVS)
def test_the_boundary_cannot_be_removed_replaced_or_edited(identities, env):
    ids = identities[env]
    role = ids.role(f"todo-{env}-app-web-task-role")
    assert apply_can(ids, "iam:DeleteRolePermissionsBoundary", role) == EXPLICIT_DENY
    for action in ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy",
                   "iam:DeletePolicyVersion"):
        assert apply_can(ids, action, ids.boundary_arn) == EXPLICIT_DENY, action


@pytest.mark.parametrize("env", ENVS)
def test_the_apply_role_cannot_change_itself_the_plan_role_or_the_provider(identities, env):
    ids = identities[env]
    for kind in ("apply", "plan"):
        for action in ("iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:AttachRolePolicy",
                       "iam:DeleteRolePermissionsBoundary", "iam:UpdateRole", "iam:DeleteRole", "iam:PassRole"):
            context = {"iam:PermissionsBoundary": ids.boundary_arn,
                       "iam:PolicyARN": "arn:aws:iam::aws:policy/service-role/X"}
            assert apply_can(ids, action, ids.arn(kind), **context) == EXPLICIT_DENY, f"{action} on {kind}"
    for action in ("iam:UpdateOpenIDConnectProviderThumbprint", "iam:DeleteOpenIDConnectProvider",
                   "iam:AddClientIDToOpenIDConnectProvider"):
        assert apply_can(ids, action, ids.provider_arn) == EXPLICIT_DENY, action


@pytest.mark.parametrize("env", ENVS)
def test_roles_are_passed_only_to_the_services_that_use_them(identities, env):
    ids = identities[env]
    task_role = ids.role(f"todo-{env}-app-web-task-role")
    for service in ("ecs-tasks.amazonaws.com", "scheduler.amazonaws.com", "codebuild.amazonaws.com"):
        assert apply_can(ids, "iam:PassRole", task_role, **{"iam:PassedToService": service}) == "allow"
    for service in ("lambda.amazonaws.com", "ec2.amazonaws.com", "cloudformation.amazonaws.com"):
        assert apply_can(ids, "iam:PassRole", task_role, **{"iam:PassedToService": service}) != "allow", service
    # Lambda gets the smoke-test hook's execution role, in blue/green environments, and nothing else.
    hook_role = ids.role(f"todo-{env}-app-web-smokehook-role")
    to_lambda = {"iam:PassedToService": "lambda.amazonaws.com"}
    assert apply_can(ids, "iam:PassRole", hook_role, **to_lambda) == ("allow" if env != "dev" else IMPLICIT_DENY)
    assert apply_can(ids, "iam:PassRole", hook_role, **{"iam:PassedToService": "ec2.amazonaws.com"}) != "allow"
    flow_log_role = ids.role(f"todo-{env}-net-core-flowlogs-role")
    flow_logs = {"iam:PassedToService": "vpc-flow-logs.amazonaws.com"}
    assert apply_can(ids, "iam:PassRole", flow_log_role, **flow_logs) == "allow"
    for other in ENVS:
        if other != env:
            theirs = f"arn:aws:iam::{ACCOUNTS[other]}:role/todo-{other}-app-web-task-role"
            ecs = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
            assert apply_can(ids, "iam:PassRole", theirs, **ecs) != "allow"


@pytest.mark.parametrize("env", ENVS)
def test_the_escalation_path_ends_at_the_boundary(identities, env):
    """Create a role trusting the apply role, give it *:*, assume it: each step is refused or capped."""
    ids = identities[env]
    sneaky = ids.role(f"todo-{env}-x")
    assert apply_can(ids, "iam:CreateRole", sneaky) != "allow"                      # no boundary: refused
    assert apply_can(ids, "iam:CreateRole", sneaky, **{"iam:PermissionsBoundary": ids.boundary_arn}) == "allow"
    assert apply_can(ids, "sts:AssumeRole", sneaky) == EXPLICIT_DENY                # and it cannot be assumed
    # Even if something assumed it, *:* under the boundary is no admin.
    everything = EVERYTHING
    for action, resource in (("iam:CreateRole", ids.role(f"todo-{env}-y")), ("iam:PutRolePolicy", ids.arn("apply")),
                             ("iam:DeleteRolePermissionsBoundary", sneaky), ("sts:AssumeRole", "*"),
                             ("organizations:LeaveOrganization", "*"), ("iam:CreateUser", "*")):
        assert not allowed(Request(action, resource), everything, ids.boundary), action
    assert allowed(Request("s3:PutObject", "arn:aws:s3:::todo-x/y"), everything, ids.boundary)
    # A role under the boundary may pass the environment's roles to ECS tasks, and to no other
    # service: even *:* cannot hand the task role to Lambda or EC2 to run code as it.
    task_role = ids.role(f"todo-{env}-app-web-task-role")
    passed_to = lambda service: Request("iam:PassRole", task_role, {"iam:PassedToService": service})  # noqa: E731
    assert allowed(passed_to("ecs-tasks.amazonaws.com"), everything, ids.boundary)
    for service in ("lambda.amazonaws.com", "ec2.amazonaws.com", "codebuild.amazonaws.com"):
        assert not allowed(passed_to(service), everything, ids.boundary), service
    assert not allowed(Request("iam:PassRole", task_role), everything, ids.boundary)


@pytest.mark.parametrize("env", ENVS)
def test_the_state_is_written_but_its_bucket_and_key_are_not_reconfigured(identities, env):
    ids = identities[env]
    bucket = f"arn:aws:s3:::todo-{env}-ops-tfstate-main-s3-{ids.account}"
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        assert apply_can(ids, action, f"{bucket}/{env}/terraform.tfstate") == "allow"
    for action in ("s3:DeleteBucket", "s3:PutBucketPolicy", "s3:PutBucketVersioning",
                   "s3:PutLifecycleConfiguration"):
        assert apply_can(ids, action, bucket) == EXPLICIT_DENY, action
    assert apply_can(ids, "s3:DeleteObjectVersion", f"{bucket}/{env}/terraform.tfstate") == EXPLICIT_DENY


# ---- 3. Plans stay read-only -------------------------------------------------------------------

WRITES = [
    ("s3:PutObject", "arn:aws:s3:::todo-{env}-ops-tfstate-main-s3-{account}/{env}/terraform.tfstate"),
    ("s3:DeleteObject", "arn:aws:s3:::todo-{env}-ops-tfstate-main-s3-{account}/{env}/terraform.tfstate.tflock"),
    ("ec2:RunInstances", "*"), ("rds:DeleteDBInstance", "*"), ("iam:CreateRole", "*"), ("kms:Encrypt", "*"),
    ("ecs:UpdateService", "*"), ("ssm:PutParameter", "*"), ("secretsmanager:GetSecretValue", "*"),
    ("sts:AssumeRole", "*"), ("lambda:InvokeFunction", "*"),
]


@pytest.mark.parametrize("env", ENVS)
def test_the_plan_role_writes_nothing(identities, env):
    ids = identities[env]
    for action, resource in WRITES:
        resource = resource.format(env=env, account=ids.account)
        assert plan_can(ids, action, resource) != "allow", action


@pytest.mark.parametrize("env", ENVS)
def test_the_plan_role_reads_only_its_own_state(identities, env):
    ids = identities[env]
    state = f"arn:aws:s3:::todo-{env}-ops-tfstate-main-s3-{ids.account}/{env}/terraform.tfstate"
    assert plan_can(ids, "s3:GetObject", state) == "allow"
    another_key = f"arn:aws:kms:ap-northeast-1:{ids.account}:key/x"
    assert plan_can(ids, "kms:Decrypt", another_key) != "allow"  # only the state key
    # What the plan role's own policy adds to AWS's ReadOnlyAccess: reads, and nothing else.
    (own,) = [d for d in ids.policies[ids.roles["plan"]]
              if any(statement.get("Sid") == "ReadState" for statement in d["Statement"])]
    granted = {action for statement in own["Statement"] if statement["Effect"] == "Allow"
               for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])}
    assert granted == {"s3:GetObject", "s3:ListBucket", "kms:Decrypt", "secretsmanager:GetRandomPassword"}


# ---- 5. First apply in a fresh account ----------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_the_service_linked_roles_exist_after_bootstrap(identities, env):
    expected = {"ecs.amazonaws.com", "elasticloadbalancing.amazonaws.com", "rds.amazonaws.com",
                "elasticache.amazonaws.com", "ecs.application-autoscaling.amazonaws.com"}
    assert expected <= set(identities[env].service_linked), identities[env].service_linked


def test_a_shared_accounts_later_environment_creates_no_account_wide_resources(identities):
    assert identities[SHARED].service_linked == []
