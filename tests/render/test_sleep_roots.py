"""working_hours: what the roots get (envs/<env>/sleep.tf, the monitoring module's `sleeps`) and
the YAML it refuses, one line naming the file and key with nothing written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_bad_input import edit, snapshot

from infra.config import WorkingHours
from infra.sleep import Unreadable, day_list, fire_times, schedule

DEV_HOURS = 'working_hours: {timezone: Asia/Tokyo, days: [MON, TUE, WED, THU, FRI], start: "08:00", end: "21:00"}'


def hours(**changes) -> WorkingHours:
    base = {"timezone": "Asia/Tokyo", "days": ["MON", "TUE", "WED", "THU", "FRI"], "start": "08:00", "end": "21:00"}
    return WorkingHours(**{**base, **changes})


def sleep_schedule(root: Path, env: str) -> dict[str, str]:
    text = (root / "envs" / env / "sleep.tf").read_text(encoding="utf-8")
    block = re.search(r"schedule = \{(.*?)\}", text, flags=re.DOTALL).group(1)
    return dict(re.findall(r'(\w+)\s*=\s*"([^"]+)"', block))


# ---- Rendered roots ----


def test_dev_sleeps_on_weekday_office_hours_in_tokyo(project: Path, run):
    assert run("render", "dev").exit_code == 0
    assert sleep_schedule(project, "dev") == {
        "timezone": "Asia/Tokyo",
        "service_wake": "cron(0 8 ? * MON-FRI *)",
        "service_sleep": "cron(0 21 ? * * *)",  # every day: undoes any wake outside the hours
        "db_start": "cron(40 7 ? * MON-FRI *)",  # ready before the first task
        "db_stop": "cron(15 21 ? * * *)",  # after the tasks drained
    }
    text = (project / "envs/dev/sleep.tf").read_text(encoding="utf-8")
    assert "scalable_target = module.ecs.scalable_target" in text
    assert "min_capacity = 1" in text and "max_capacity = 2" in text  # the YAML's ecs capacity
    assert "sleeps = true" in (project / "envs/dev/monitoring.tf").read_text(encoding="utf-8")


@pytest.mark.parametrize("env", ["stg", "prod"])
def test_without_working_hours_nothing_is_rendered(project: Path, run, env: str):
    assert run("render", env).exit_code == 0
    assert not (project / "envs" / env / "sleep.tf").exists()
    assert "sleeps = false" in (project / "envs" / env / "monitoring.tf").read_text(encoding="utf-8")


def test_removing_working_hours_removes_the_rendered_sleep(project: Path, run):
    assert run("render", "dev").exit_code == 0
    assert (project / "envs/dev/sleep.tf").exists()
    edit(project / "envs/dev/env.yaml", DEV_HOURS, "working_hours: null")
    assert run("render", "dev").exit_code == 0
    assert not (project / "envs/dev/sleep.tf").exists()
    assert "sleeps = false" in (project / "envs/dev/monitoring.tf").read_text(encoding="utf-8")


def test_capacity_restored_follows_the_yaml(project: Path, run):
    edit(
        project / "envs/dev/env.yaml",
        "  fargate_base: 0",
        "  fargate_base: 0\n  min_capacity: 2\n  max_capacity: 5\n  desired_count: 2",
    )
    assert run("render", "dev").exit_code == 0
    text = (project / "envs/dev/sleep.tf").read_text(encoding="utf-8")
    assert "min_capacity = 2" in text and "max_capacity = 5" in text


def test_hours_and_zone_of_another_environment(project: Path, run):
    edit(
        project / "envs/dev/env.yaml",
        DEV_HOURS,
        'working_hours: {timezone: Europe/Berlin, days: [SAT, SUN, WED], start: "09:30", end: "17:45"}',
    )
    # The job is in Tokyo's time: 19:00 there is 11:00 or 12:00 in Berlin, on Wednesdays.
    edit(project / "envs/dev/env.yaml", JOB, "      schedule: cron(0 19 ? * WED *)")
    assert run("render", "dev").exit_code == 0
    assert sleep_schedule(project, "dev") == {
        "timezone": "Europe/Berlin",
        "service_wake": "cron(30 9 ? * SUN,WED,SAT *)",
        "service_sleep": "cron(45 17 ? * * *)",
        "db_start": "cron(10 9 ? * SUN,WED,SAT *)",
        "db_stop": "cron(0 18 ? * * *)",
    }


# ---- The expressions ----


def test_a_start_just_after_midnight_starts_the_database_the_day_before():
    found = schedule(hours(days=["MON", "SUN"], start="00:10", end="12:00"))
    assert found.service_wake == "cron(10 0 ? * SUN-MON *)"
    assert found.db_start == "cron(50 23 ? * SUN,SAT *)"  # Sunday's start on Saturday, Monday's on Sunday


def test_an_end_just_before_midnight_stops_the_database_after_it():
    assert schedule(hours(end="23:50")).db_stop == "cron(5 0 ? * * *)"


def test_day_ranges_follow_crons_week_and_never_wrap():
    assert day_list(["MON", "TUE", "WED", "THU", "FRI"]) == "MON-FRI"
    assert day_list(["SAT", "SUN"]) == "SUN,SAT"  # cron counts 1 = SUN ... 7 = SAT: "SAT-SUN" would wrap
    assert day_list(["FRI", "MON", "WED", "THU"]) == "MON,WED-FRI"
    assert schedule(hours(days=["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"])).service_wake == "cron(0 8 ? * * *)"


@pytest.mark.parametrize(
    ("expression", "days", "minutes"),
    [
        ("cron(0 3 * * ? *)", {"MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"}, {180}),
        ("cron(0/30 9-10 ? * MON-FRI *)", {"MON", "TUE", "WED", "THU", "FRI"}, {540, 570, 600, 630}),
        ("cron(15,45 12 ? * 2,4 *)", {"MON", "WED"}, {735, 765}),  # 1 = SUN
        ("cron(0 9 ? * 6#3 *)", {"FRI"}, {540}),  # the third Friday: a Friday
        ("cron(0 9 ? * 5L *)", {"THU"}, {540}),
        ("cron(0 9 1 * ? *)", {"MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"}, {540}),  # the 1st: any weekday
    ],
)
def test_fire_times_of_the_common_cron_forms(expression: str, days: set[str], minutes: set[int]):
    assert fire_times(expression) == (days, minutes)


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 hour)",
        "cron(0 3 * *)",
        "cron(x 3 * * ? *)",
        "cron(0 25 * * ? *)",
        "cron(0 3 ? * FUNDAY *)",
        "at(tomorrow)",
    ],
)
def test_forms_it_cannot_confine_are_unreadable(expression: str):
    with pytest.raises(Unreadable):
        fire_times(expression)


# ---- Refused YAML ----

JOB = "      schedule: cron(0 20 ? * MON-FRI *)"

BAD = {
    "a time that is no time": (
        DEV_HOURS,
        DEV_HOURS.replace('"08:00"', '"24:00"'),
        "envs/dev/env.yaml: working_hours.start: String should match pattern",
    ),
    "end before start": (
        DEV_HOURS,
        DEV_HOURS.replace('"21:00"', '"07:30"'),
        "envs/dev/env.yaml: working_hours: end (07:30) must be later than start (08:00)",
    ),
    "a day twice": (
        DEV_HOURS,
        DEV_HOURS.replace("WED, THU", "WED, WED"),
        "envs/dev/env.yaml: working_hours: days must not repeat (WED more than once)",
    ),
    "an unknown day": (
        DEV_HOURS,
        DEV_HOURS.replace("THU", "THUR"),
        "envs/dev/env.yaml: working_hours.days[3]: Input should be 'MON'",
    ),
    "an unknown zone": (
        DEV_HOURS,
        DEV_HOURS.replace("Asia/Tokyo", "Asia/Tokio"),
        "envs/dev/env.yaml: working_hours.timezone: 'Asia/Tokio' is not an IANA time zone",
    ),
    "a night too short to stop and start the database": (
        DEV_HOURS,
        DEV_HOURS.replace('"08:00"', '"00:10"').replace('"21:00"', '"23:50"'),
        "envs/dev/env.yaml: working_hours: 00:10-23:50 leaves 20 minutes of night; the database stops 15 minutes "
        "after end and starts 20 before start, so at least 35",
    ),
    "a job at night": (
        JOB,
        "      schedule: cron(0 3 * * ? *)",
        "envs/dev/env.yaml: batch.jobs.0.schedule: cron(0 3 * * ? *) (Asia/Tokyo) runs at MON 03:00 "
        "Asia/Tokyo, while the environment sleeps: outside working_hours (MON-FRI 08:00-21:00 "
        "Asia/Tokyo) less the 15-minute flexible window before the end",
    ),
    "a job at the weekend": (
        JOB,
        "      schedule: cron(0 12 ? * SAT *)",
        "envs/dev/env.yaml: batch.jobs.0.schedule: cron(0 12 ? * SAT *) (Asia/Tokyo) runs at "
        "SAT 12:00 Asia/Tokyo, while the environment sleeps",
    ),
    "a job whose window reaches past the end": (
        JOB,
        "      schedule: cron(50 20 ? * MON-FRI *)",
        "batch.jobs.0.schedule: cron(50 20 ? * MON-FRI *) (Asia/Tokyo) runs at MON 20:50 Asia/Tokyo",
    ),
    "a job at another zone's night": (
        JOB + "\n      timezone: Asia/Tokyo",
        "      schedule: cron(0 12 ? * MON-FRI *)\n      timezone: UTC",
        "batch.jobs.0.schedule: cron(0 12 ? * MON-FRI *) (UTC) runs at MON 21:00 Asia/Tokyo",
    ),
    "a job that runs at a rate": (
        JOB,
        "      schedule: rate(6 hours)",
        "envs/dev/env.yaml: batch.jobs.0.schedule: rate(6 hours): a rate() runs around the "
        "clock, so it cannot be confined to working_hours",
    ),
    "a job cron cannot be read": (
        JOB,
        "      schedule: cron(0 8-22/x ? * MON-FRI *)",
        "batch.jobs.0.schedule: cron(0 8-22/x ? * MON-FRI *): cannot read the hours field",
    ),
    "a one-off job on a Saturday": (
        JOB,
        "      schedule: at(2027-03-06T10:00:00)",
        "batch.jobs.0.schedule: at(2027-03-06T10:00:00) (Asia/Tokyo) runs at SAT 10:00",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_working_hours_are_one_line_and_write_nothing(project: Path, run, case: str):
    assert run("render", "dev").exit_code == 0
    old, new, message = BAD[case]
    edit(project / "envs/dev/env.yaml", old, new)
    before = snapshot(project)
    result = run("render", "dev")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert snapshot(project) == before


def test_the_shared_night_job_is_refused_where_an_environment_sleeps(project: Path, run):
    """prod inherits the 03:00 purge: giving prod working hours is refused until the job moves."""
    edit(project / "envs/prod/env.yaml", "backup:", DEV_HOURS + "\n\nbackup:")
    before = snapshot(project)
    result = run("render", "prod")
    assert result.exit_code == 2
    assert (
        "envs/prod/env.yaml: batch.jobs.0.schedule: cron(0 3 * * ? *) (Asia/Tokyo) runs at MON 03:00" in result.stderr
    )
    assert snapshot(project) == before


@pytest.mark.parametrize("schedule_line", ["      schedule: cron(0 3 * * ? *)", "      schedule: rate(1 hour)"])
def test_a_disabled_job_is_not_checked(project: Path, run, schedule_line: str):
    edit(project / "envs/dev/env.yaml", JOB, schedule_line + "\n      enabled: false")
    assert run("render", "dev").exit_code == 0


def test_jobs_inside_the_hours_render(project: Path, run):
    # From the start, and up to the end less the flexible window, on working days only.
    edit(project / "envs/dev/env.yaml", JOB, "      schedule: cron(0/15 8-20 ? * MON-FRI *)")
    assert run("render", "dev").exit_code == 0


@pytest.mark.parametrize(("job_hour", "refused"), [(8, True), (9, False)])
def test_daylight_saving_weeks_between_two_zones_are_met(project: Path, run, job_hour: int, refused: bool):
    """08:00 in New York is 13:00 in London, except in the weeks of March when only the US has
    moved its clocks: then it is 12:00, before a 13:00 start."""
    edit(
        project / "envs/dev/env.yaml",
        DEV_HOURS,
        'working_hours: {timezone: Europe/London, days: [MON, TUE, WED, THU, FRI], start: "13:00", end: "20:00"}',
    )
    edit(
        project / "envs/dev/env.yaml",
        JOB + "\n      timezone: Asia/Tokyo",
        f"      schedule: cron(0 {job_hour} ? * MON-FRI *)\n      timezone: America/New_York",
    )
    result = run("render", "dev")
    if refused:
        assert result.exit_code == 2
        assert "runs at MON 12:00 Europe/London" in result.stderr, result.stderr
    else:
        assert result.exit_code == 0, result.stderr
