"""Rules between environments, and the region and account of each: rendering any environment checks
them all; each problem is one line naming the file and key, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_bad_input import edit, snapshot

# (file, old text, new text, the whole of stderr)
CASES = {
    "branch inherited from common.yaml": (
        "envs/common.yaml", "  repository: example-org/django-todo-aws   # the GitHub repository the pipeline builds\n",
        "  repository: example-org/django-todo-aws   # the GitHub repository the pipeline builds\n  branch: main\n",
        "envs/common.yaml: codepipeline.branch: set it in each environment's env.yaml, not here: an environment "
        "that inherits it deploys from another's branch"),
    "environment without its branch": (
        "envs/stg/env.yaml", "codepipeline:\n  branch: release\n", "codepipeline: {}\n",
        "envs/stg/env.yaml: codepipeline.branch: required key is missing"),
    "two environments on one branch": (
        "envs/prod/env.yaml", "  branch: main\n", "  branch: release\n",
        "envs/prod/env.yaml: codepipeline.branch: 'release' is stg's deploy branch too, so a push to it would "
        "apply both; give each environment its own"),
    "overlapping ranges": (
        "envs/stg/env.yaml", "  cidr: 10.1.0.0/16", "  cidr: 10.0.128.0/20",
        "envs/stg/env.yaml: network.cidr: 10.0.128.0/20 overlaps dev's 10.0.0.0/16; give each environment its "
        "own range"),
    "a range inherited by two environments": (
        "envs/prod/env.yaml", "  cidr: 10.2.0.0/16\n", "",
        "envs/prod/env.yaml: network.cidr: 10.0.0.0/16 overlaps dev's 10.0.0.0/16; give each environment its "
        "own range"),
    "a region that does not exist": (
        "envs/common.yaml", "region: ap-northeast-1", "region: ap-northeast-9",
        "envs/common.yaml: region: not an AWS Region this project knows (infra/regions.py) "
        "(did you mean \"ap-northeast-3\"?) (got 'ap-northeast-9')"),
    "a misspelt region": (
        "envs/common.yaml", "region: ap-northeast-1", "region: eu-wset-1",
        "envs/common.yaml: region: not an AWS Region this project knows (infra/regions.py) "
        "(did you mean \"eu-west-1\"?) (got 'eu-wset-1')"),
    "an account ID of 11 digits": (
        "envs/stg/env.yaml", 'account_id: "222222222222"', 'account_id: "22222222222"',
        "envs/stg/env.yaml: account_id: must be the 12 digits of an AWS account ID (got '22222222222')"),
    "an account ID without quotes": (
        "envs/stg/env.yaml", 'account_id: "222222222222"', "account_id: 222222222222",
        "envs/stg/env.yaml: account_id: write the 12 digits in quotes: unquoted, YAML reads a number "
        "(got 222222222222)"),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", ["render", "check"])
def test_each_problem_is_one_line_and_nothing_is_written(project: Path, run, case: str, command: str):
    relpath, old, new, expected = CASES[case]
    assert run("render", "dev").exit_code == 0
    edit(project / relpath, old, new)
    before = snapshot(project)

    result = run(*(["render", "dev"] if command == "render" else ["check"]))

    assert result.exit_code == 2
    assert result.stderr == f"error: {expected}\n"
    assert snapshot(project) == before


@pytest.mark.parametrize("region", ["mx-central-1", "ap-southeast-7", "ap-east-2", "ap-southeast-6", "us-gov-west-1"])
def test_regions_opened_lately_are_known(project: Path, run, region: str):
    edit(project / "envs/common.yaml", "region: ap-northeast-1", f"region: {region}")
    result = run("names", "dev")
    assert result.exit_code == 0, result.stderr
