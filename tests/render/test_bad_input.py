"""Each bad input: exit status 2, one line naming the file and key, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "envs").rglob("*")) if p.is_file()}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


PLAIN = "  allow_plain_http: true"  # dev's proxy section: the admin list goes beside it

CASES = {
    "unknown key with a did-you-mean": (
        "envs/dev/env.yaml", "  nat: single", "  natt: single",
        ['envs/dev/env.yaml: network.natt: unknown key (did you mean "nat"?)']),
    "unknown top-level key": (
        "envs/dev/env.yaml", "force_destroy: true", "force_destroy: true\nrdss: {}",
        ['envs/dev/env.yaml: rdss: unknown key (did you mean "rds"?)']),
    "wrong type": (
        "envs/common.yaml", "  desired_count: 1", '  desired_count: "one"',
        ["envs/common.yaml: ecs.desired_count: Input should be a valid integer"]),
    "value out of range": (
        "envs/dev/env.yaml", "  fargate_spot_weight: 100", "  fargate_spot_weight: 101",
        ["envs/dev/env.yaml: ecs.fargate_spot_weight: Input should be less than or equal to 100 (got 101)"]),
    "value not in the allowed set": (
        "envs/dev/env.yaml", "  nat: single", "  nat: double",
        ["envs/dev/env.yaml: network.nat: Input should be 'none', 'single' or 'per_az' (got 'double')"]),
    "invalid CIDR": (
        "envs/common.yaml", "  cidr: 10.0.0.0/16", "  cidr: 10.0.0.300/16",
        ["envs/common.yaml: network.cidr: not a valid IPv4 network in CIDR notation"]),
    "CIDR with host bits": (
        "envs/common.yaml", "  cidr: 10.0.0.0/16", "  cidr: 10.0.0.1/16",
        ["envs/common.yaml: network.cidr: not a valid IPv4 network", "has host bits set"]),
    "invalid system label": (
        "envs/common.yaml", "system: todo", "system: To-Do",
        ["envs/common.yaml: system: String should match pattern '^[a-z0-9]+$' (got 'To-Do')"]),
    "label that makes a name impossible": (
        "envs/common.yaml", "system: todo", "system: 1todo",
        ["system: aws_db_instance name '1todo-dev-data-db-main-rds' is impossible: must start with a letter"]),
    "job label that makes a name impossible": (
        "envs/common.yaml", "    - name: purgedone", "    - name: Purge_Done",
        ["envs/common.yaml: batch.jobs[0].name: String should match pattern"]),
    "cross-field rule": (
        "envs/dev/env.yaml", "  fargate_spot_weight: 100", "  fargate_spot_weight: 100\n  desired_count: 5",
        ["ecs: need min_capacity <= desired_count <= max_capacity"]),
    "shared key overridden per environment": (
        "envs/dev/env.yaml", "force_destroy: true", "force_destroy: true\nregion: us-east-1",
        ["envs/dev/env.yaml: region: set it in"]),
    "plain HTTP without saying so": (
        "envs/dev/env.yaml", "  allow_plain_http: true", "  allow_plain_http: false",
        ["envs/dev/env.yaml: domain: not set, so the load balancer would serve plain HTTP",
         "proxy.allow_plain_http: true"]),
    "plain HTTP asked for beside a domain": (
        "envs/dev/env.yaml", "proxy:\n  allow_plain_http: true",
        "proxy:\n  allow_plain_http: true\n"
        "domain: {zone_name: example.com, create_zone: false, names: [dev.example.com]}",
        ["envs/dev/env.yaml: proxy.allow_plain_http: true, but domain is set"]),
    "YAML syntax error names the line": (
        "envs/dev/env.yaml", "network:\n  nat: single", "network:\n  nat: [single",
        ["envs/dev/env.yaml:", ": invalid YAML"]),
    "misspelt alarm": (
        "envs/dev/env.yaml", "force_destroy: true",
        "force_destroy: true\nmonitoring:\n  alarms:\n    rds_conections: {}",
        ['envs/dev/env.yaml: monitoring.alarms.rds_conections: unknown key (did you mean "rds_connections"?)']),
    "alarm period of no whole minutes": (
        "envs/common.yaml", "dlq_messages:             {threshold: 0, period: 300",
        "dlq_messages:             {threshold: 0, period: 90",
        ["envs/common.yaml: monitoring.alarms.dlq_messages.period: must be a multiple of 60 seconds"]),
    "more datapoints than evaluation periods": (
        "envs/common.yaml", "evaluation_periods: 1, datapoints_to_alarm: 1}   # responses",
        "evaluation_periods: 1, datapoints_to_alarm: 2}   # responses",
        ["envs/common.yaml: monitoring.alarms.alb_elb_5xx: datapoints_to_alarm cannot exceed evaluation_periods"]),
    "alarm window longer than a day": (
        "envs/common.yaml", "period: 60, evaluation_periods: 5, datapoints_to_alarm: 5}",
        "period: 3600, evaluation_periods: 25, datapoints_to_alarm: 5}",
        ["envs/common.yaml: monitoring.alarms.ecs_running_tasks: period * evaluation_periods must not exceed one day"]),
    "negative threshold": (
        "envs/common.yaml", "rds_cpu:                  {threshold: 80", "rds_cpu:                  {threshold: -1",
        ["envs/common.yaml: monitoring.alarms.rds_cpu.threshold: Input should be greater than or equal to 0 (got -1)"]),
    "threshold that is not a number": (
        "envs/common.yaml", "rds_cpu:                  {threshold: 80", 'rds_cpu:                  {threshold: "high"',
        ["envs/common.yaml: monitoring.alarms.rds_cpu.threshold: Input should be a valid number (got 'high')"]),
    "alarm missing from the defaults": (
        "envs/common.yaml", "    dlq_messages:", "    dlq_messagez:",
        ["envs/common.yaml: monitoring.alarms.dlq_messagez: unknown key (did you mean \"dlq_messages\"?)",
         "monitoring.alarms.dlq_messages: required key is missing"]),
    "not an e-mail address": (
        "envs/dev/env.yaml", "force_destroy: true", "force_destroy: true\nmonitoring:\n  emails: [ops.example.com]",
        ["envs/dev/env.yaml: monitoring.emails[0]: String should match pattern", "(got 'ops.example.com')"]),
    "admin network that is not a CIDR": (
        "envs/dev/env.yaml", PLAIN, PLAIN + "\n  admin_allowed_cidrs: [203.0.113.300/24]",
        ["envs/dev/env.yaml: proxy.admin_allowed_cidrs: '203.0.113.300/24' is not an IPv4 network in CIDR notation"]),
    "admin network with host bits": (
        "envs/dev/env.yaml", PLAIN, PLAIN + "\n  admin_allowed_cidrs: [203.0.113.5/24]",
        ["envs/dev/env.yaml: proxy.admin_allowed_cidrs: '203.0.113.5/24' is not an IPv4 network", "has host bits set"]),
    "admin network in IPv6": (
        "envs/dev/env.yaml", PLAIN, PLAIN + "\n  admin_allowed_cidrs: ['2001:db8::/32']",
        ["envs/dev/env.yaml: proxy.admin_allowed_cidrs: '2001:db8::/32' is not an IPv4 network",
         "the load balancer has IPv4 addresses only"]),
    "admin network that admits everyone": (
        "envs/dev/env.yaml", PLAIN, PLAIN + "\n  admin_allowed_cidrs: [0.0.0.0/0]",
        ["envs/dev/env.yaml: proxy.admin_allowed_cidrs: 0.0.0.0/0 admits everyone: leave the list empty instead"]),
    "admin network twice": (
        "envs/dev/env.yaml", PLAIN,
        PLAIN + "\n  admin_allowed_cidrs: [192.0.2.0/24, 192.0.2.0/24]",
        ["envs/dev/env.yaml: proxy.admin_allowed_cidrs: listed twice: 192.0.2.0/24"]),
    "too many admin networks": (
        "envs/dev/env.yaml", PLAIN,
        PLAIN + "\n  admin_allowed_cidrs: [" + ", ".join(f"10.{i}.0.0/16" for i in range(21)) + "]",
        ["envs/dev/env.yaml: proxy.admin_allowed_cidrs: at most 20 networks (got 21)"]),
    "an e-mail address twice": (
        "envs/dev/env.yaml", "force_destroy: true",
        "force_destroy: true\nmonitoring:\n  emails: [ops@example.com, ops@example.com]",
        ["envs/dev/env.yaml: monitoring.emails: email addresses must be unique: ops@example.com"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_reported_and_nothing_is_written(project: Path, run, case: str):
    relpath, old, new, expected = CASES[case]
    assert run("render", "dev").exit_code == 0
    before = snapshot(project)
    edit(project / relpath, old, new)
    before[relpath] = (project / relpath).read_bytes()

    result = run("render", "dev")

    assert result.exit_code == 2
    assert "Traceback" not in result.output
    for fragment in expected:
        assert fragment in result.stderr, result.stderr
    assert all(line.startswith("error: ") for line in result.stderr.splitlines())
    assert snapshot(project) == before


def test_yaml_syntax_error_line_number(project: Path, run):
    path = project / "envs/dev/env.yaml"
    lines = path.read_text().splitlines()
    lines.append("ecs: [unclosed")
    path.write_text("\n".join(lines) + "\n")
    result = run("render", "dev")
    assert result.exit_code == 2
    assert f"envs/dev/env.yaml:{len(lines) + 1}: invalid YAML" in result.stderr


def test_each_problem_gets_its_own_line(project: Path, run):
    edit(project / "envs/dev/env.yaml", "  nat: single", "  natt: single")
    edit(project / "envs/dev/env.yaml", "  flow_log_retention_days: 7", "  flow_log_retention_days: 8")
    result = run("render", "dev")
    assert result.exit_code == 2
    errors = result.stderr.splitlines()
    assert len(errors) == 2, errors
    assert any("network.natt: unknown key" in e for e in errors)
    assert any("network.flow_log_retention_days: must be one of CloudWatch's retention periods" in e
               for e in errors)


def test_a_key_given_twice_is_an_error(project: Path, run):
    edit(project / "envs/dev/env.yaml", "  nat: single", "  nat: single\n  nat: per_az")
    result = run("render", "dev")
    assert result.exit_code == 2
    assert "envs/dev/env.yaml:" in result.stderr and "duplicate key 'nat'" in result.stderr


def test_missing_env_file(project: Path, run):
    (project / "envs/dev/env.yaml").unlink()
    result = run("render", "dev")
    assert result.exit_code == 2
    assert "envs/dev/env.yaml: no such file" in result.stderr


def test_missing_common_file(project: Path, run):
    (project / "envs/common.yaml").unlink()
    result = run("render", "dev")
    assert result.exit_code == 2
    assert "envs/common.yaml: no such file" in result.stderr


def test_empty_file(project: Path, run):
    (project / "envs/dev/env.yaml").write_text("# nothing yet\n")
    result = run("render", "dev")
    assert result.exit_code == 2
    assert "envs/dev/env.yaml: the file is empty" in result.stderr


def test_not_a_mapping(project: Path, run):
    (project / "envs/dev/env.yaml").write_text("- a\n- b\n")
    result = run("render", "dev")
    assert result.exit_code == 2
    assert "envs/dev/env.yaml: the top level must be a mapping" in result.stderr


def test_unknown_environment(project: Path, run):
    result = run("render", "qa")
    assert result.exit_code == 2
    assert "unknown environment 'qa' (allowed: dev, stg, prod)" in result.stderr


def test_missing_required_key(project: Path, run):
    edit(project / "envs/common.yaml", "  health_check_path: /healthz\n", "")
    result = run("render", "dev")
    assert result.exit_code == 2
    assert "proxy.health_check_path: required key is missing" in result.stderr


def test_refuses_to_overwrite_a_hand_written_file(project: Path, run):
    assert run("render", "dev").exit_code == 0
    target = project / "envs/dev/network.tf"
    target.write_text('# my own file\nmodule "x" {}\n')
    before = snapshot(project)
    result = run("render", "dev")
    assert result.exit_code == 2
    assert "envs/dev/network.tf: exists and was not generated by render.py" in result.stderr
    assert snapshot(project) == before


def test_a_broken_naming_file_is_one_line_not_a_traceback(project: Path, run):
    path = project / "naming.yaml"
    path.write_text(path.read_text().replace("delimiter:", "delimitr:", 1))
    result = run("render", "dev")
    assert result.exit_code == 2
    assert sorted(result.stderr.splitlines()) == [
        "error: naming.yaml: delimiter: required key is missing",
        'error: naming.yaml: delimitr: unknown key (did you mean "delimiter"?)']


@pytest.mark.parametrize("env", ["stg", "prod"])
def test_stg_and_prod_serve_https_by_default(project: Path, run, env: str):
    """Removing an environment's domain does not quietly fall back to plain HTTP."""
    path = project / "envs" / env / "env.yaml"
    text = path.read_text()
    start = text.index("domain:")
    end = text.index("\n\n", start)
    path.write_text(text[:start] + text[end + 2:])
    result = run("render", env)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: envs/{env}/env.yaml: domain: not set, so the load balancer would serve plain HTTP (passwords "
        'and session cookies in clear text); set domain (docs/operations.md, "Serving HTTPS") or, for a throwaway '
        "environment, proxy.allow_plain_http: true",
        # Both deploy blue/green, whose test listener is HTTPS too.
        f"error: envs/{env}/env.yaml: ecs.deployment.strategy: BLUE_GREEN needs a domain: its test listener "
        "serves the HTTPS certificate",
    ]

