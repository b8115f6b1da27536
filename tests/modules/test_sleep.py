"""Behaviour and least privilege of modules/sleep, read from its HCL."""

from __future__ import annotations

import re
from typing import Any

import yaml
from tfhelpers import (
    MODULES,
    blocks,
    data_sources,
    load_module,
    locals_of,
    module_fixture,
    outputs_of,
    resources,
    scheduler_role_call,
    statements_of,
    variables_of,
)

MODULE = "sleep"

parsed = module_fixture(MODULE)


def calls(parsed) -> dict[str, dict[str, Any]]:
    return locals_of(parsed)["calls"]


def schedule(parsed) -> dict[str, Any]:
    return resources(parsed, "aws_scheduler_schedule")["this"]


def test_names_variable_has_exactly_the_naming_catalogue_keys(parsed):
    catalogue = yaml.safe_load((MODULES.parent / "naming.yaml").read_text(encoding="utf-8"))["resources"][MODULE]
    keys = set(re.findall(r"(\w+)\s*=\s*string", variables_of(parsed)["names"]["type"]))
    assert keys == set(catalogue)


# ---- Database: EventBridge Scheduler universal targets ----


def test_database_is_started_and_stopped_by_universal_targets(parsed):
    assert locals_of(parsed)["sdk_target"] == "arn:${local.partition}:scheduler:::aws-sdk"
    start, stop = calls(parsed)["db_start"], calls(parsed)["db_stop"]
    assert start["target"] == "${local.sdk_target}:rds:startDBInstance"
    assert stop["target"] == "${local.sdk_target}:rds:stopDBInstance"
    for call in (start, stop):
        assert call["input"] == {"DbInstanceIdentifier": "${var.db_instance_identifier}"}
    assert start["expression"] == "${var.schedule.db_start}"
    assert stop["expression"] == "${var.schedule.db_stop}"


def test_alarm_actions_are_off_while_asleep_and_on_while_awake(parsed):
    quiet, loud = calls(parsed)["alarms_quiet"], calls(parsed)["alarms_loud"]
    assert quiet["target"] == "${local.sdk_target}:cloudwatch:disableAlarmActions"
    assert loud["target"] == "${local.sdk_target}:cloudwatch:enableAlarmActions"
    # Silenced exactly when the service sleeps, loud again exactly when it wakes.
    assert quiet["expression"] == "${var.schedule.service_sleep}"
    assert loud["expression"] == "${var.schedule.service_wake}"
    assert quiet["input"] == loud["input"] == {"AlarmNames": "${var.quiet_alarm_names}"}


def test_every_call_is_a_schedule_of_the_group_in_the_working_hours_zone(parsed):
    sched = schedule(parsed)
    assert sched["for_each"] == "${local.calls}"
    assert sched["group_name"] == "${aws_scheduler_schedule_group.this.name}"
    assert sched["schedule_expression"] == "${each.value.expression}"
    assert sched["schedule_expression_timezone"] == "${var.schedule.timezone}"
    assert sched["state"] == "ENABLED"
    assert sched["kms_key_arn"] == "${var.kms_key_arn}"
    # On the minute: a flexible window could start the database after the service.
    window = blocks(sched, "flexible_time_window")[0]
    assert window["mode"] == "OFF" and "maximum_window_in_minutes" not in window
    target = blocks(sched, "target")[0]
    assert target["arn"] == "${each.value.target}"
    assert target["input"] == "${jsonencode(each.value.input)}"
    assert target["role_arn"] == "${module.scheduler_role.arn}"


def test_failed_calls_retry_for_an_hour_and_go_to_no_dead_letter_queue(parsed):
    target = blocks(schedule(parsed), "target")[0]
    retry = blocks(target, "retry_policy")[0]
    assert retry == {
        "maximum_retry_attempts": "${local.retry_attempts}",
        "maximum_event_age_in_seconds": "${local.event_age}",
    }
    values = locals_of(parsed)
    assert 1 <= values["retry_attempts"] <= 185  # Scheduler's range
    assert values["event_age"] == 3600  # within 60-86400, and well short of the next day's run
    # The weekend's "already stopped" errors are expected: a queue would only page people.
    assert "dead_letter_config" not in target


# ---- Service: scheduled actions on the ecs module's scalable target ----


def test_service_sleeps_at_zero_and_wakes_with_the_yaml_capacity(parsed):
    actions = resources(parsed, "aws_appautoscaling_scheduled_action")
    assert set(actions) == {"sleep", "wake"}
    for action in actions.values():
        assert action["service_namespace"] == "${var.scalable_target.service_namespace}"
        assert action["resource_id"] == "${var.scalable_target.resource_id}"
        assert action["scalable_dimension"] == "${var.scalable_target.scalable_dimension}"
        assert action["timezone"] == "${var.schedule.timezone}"
    assert actions["sleep"]["schedule"] == "${var.schedule.service_sleep}"
    assert actions["wake"]["schedule"] == "${var.schedule.service_wake}"
    assert blocks(actions["sleep"], "scalable_target_action")[0] == {"min_capacity": 0, "max_capacity": 0}
    assert blocks(actions["wake"], "scalable_target_action")[0] == {
        "min_capacity": "${var.min_capacity}",
        "max_capacity": "${var.max_capacity}",
    }
    # One pending update per target: the two actions are created in turn.
    assert actions["wake"]["depends_on"] == ["${aws_appautoscaling_scheduled_action.sleep}"]


def test_the_wake_capacity_cannot_be_zero(parsed):
    condition = variables_of(parsed)["min_capacity"]["validation"][0]["condition"]
    assert "var.min_capacity >= 1" in condition


def test_ecs_scalable_target_output_waits_for_the_scaling_policies():
    output = outputs_of(load_module("ecs"))["scalable_target"]
    assert output["depends_on"] == ["${aws_appautoscaling_policy.cpu}", "${aws_appautoscaling_policy.requests}"]
    assert output["value"]["resource_id"] == "${aws_appautoscaling_target.this.resource_id}"


# ---- IAM ----


def statements(parsed) -> dict[str, dict[str, Any]]:
    return {s["sid"]: s for s in statements_of(data_sources(parsed, "aws_iam_policy_document")["scheduler"])}


def test_scheduler_role_does_exactly_three_things(parsed):
    found = statements(parsed)
    assert set(found) == {"StopAndStartTheDatabase", "QuietAlarmsAtNight", "EncryptedInput"}
    database = found["StopAndStartTheDatabase"]
    assert sorted(database["actions"]) == ["rds:StartDBInstance", "rds:StopDBInstance"]
    assert database["resources"] == ["${var.db_instance_arn}"]
    alarms = found["QuietAlarmsAtNight"]
    assert sorted(alarms["actions"]) == ["cloudwatch:DisableAlarmActions", "cloudwatch:EnableAlarmActions"]
    assert alarms["resources"] == (
        "${[for name in var.quiet_alarm_names : "
        '"arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${name}"]}'
    )
    assert found["EncryptedInput"]["actions"] == ["kms:Decrypt"]
    assert found["EncryptedInput"]["resources"] == ["${var.kms_key_arn}"]
    for statement in found.values():
        assert "*" not in str(statement["actions"])
        assert statement.get("effect", "Allow") == "Allow"


def test_scheduler_role_is_the_shared_one_for_the_sleep_group(parsed):
    scheduler_role_call(parsed)
