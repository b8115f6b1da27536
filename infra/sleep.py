"""An environment that sleeps outside its working hours (`working_hours`, modules/sleep).

Two things are computed here, at render time: the schedule expressions that wake the environment
and put it to sleep, and the refusal of every batch job that could run while it sleeps (each job
is a Django management command against the database, which is stopped then).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .config import WEEKDAYS, Environment, Job, WorkingHours

# The database is started this long before the service wakes, so the first tasks find it available
# (RDS takes minutes to start an instance), and stopped this long after the service sleeps, once the
# tasks have drained and a job that started just before the end has finished.
DB_LEAD_MINUTES = 20
DB_LAG_MINUTES = 15
DAY = 24 * 60
CRON_WEEK = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # day-of-week 1-7 in a cron expression

# Every fire time of a job is checked over a whole year, from a Monday, so that daylight-saving
# changes between the job's time zone and that of working_hours are met.
_SIMULATED_FROM = date(2027, 1, 4)
_SIMULATED_DAYS = 371


@dataclass(frozen=True)
class SleepSchedule:
    """The four cron expressions of modules/sleep, all in `timezone`."""

    timezone: str
    service_wake: str  # working days at start: the service's capacity back from ecs.min/max_capacity
    service_sleep: str  # every day at end: capacity 0
    db_start: str  # working days, DB_LEAD_MINUTES before start
    db_stop: str  # every day, DB_LAG_MINUTES after end


def minutes(clock: str) -> int:
    hours, mins = map(int, clock.split(":"))
    return hours * 60 + mins


def day_list(days: list[str]) -> str:
    """MON, TUE, WED -> "MON-WED": runs of neighbouring days become ranges. The order is cron's
    (1 = SUN ... 7 = SAT), so that a range never wraps: SAT and SUN stay "SUN,SAT"."""
    ordered = [d for d in CRON_WEEK if d in days]
    runs: list[list[str]] = []
    for day in ordered:
        if runs and CRON_WEEK.index(day) == CRON_WEEK.index(runs[-1][-1]) + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(run[0] if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs)


def cron(minute_of_day: int, days: list[str] | None) -> str:
    """EventBridge Scheduler's and Application Auto Scaling's cron: minutes hours day-of-month
    month day-of-week year; one of the two day fields must be "?". None: every day."""
    hour, minute = divmod(minute_of_day, 60)
    return f"cron({minute} {hour} ? * {'*' if days is None or len(days) == 7 else day_list(days)} *)"


def schedule(hours: WorkingHours) -> SleepSchedule:
    start, end = minutes(hours.start), minutes(hours.end)
    db_start, db_days = start - DB_LEAD_MINUTES, list(hours.days)
    if db_start < 0:  # a start just after midnight: the database starts the evening before
        db_start += DAY
        db_days = [WEEKDAYS[WEEKDAYS.index(d) - 1] for d in hours.days]
    # Sleep every day, working or not: whatever woke the environment outside its hours (an AWS
    # restart of an instance stopped for seven days, a person, an apply) is undone within a day.
    return SleepSchedule(
        timezone=hours.timezone,
        service_wake=cron(start, list(hours.days)),
        service_sleep=cron(end, None),
        db_start=cron(db_start, db_days),
        db_stop=cron((end + DB_LAG_MINUTES) % DAY, None),
    )


# ---- When a batch job fires ----

_DOW_NUMBERS = {str(n): day for n, day in enumerate(CRON_WEEK, start=1)}


class Unreadable(ValueError):
    """A schedule expression whose fire times this module cannot enumerate."""


def _numbers(field: str, low: int, high: int, what: str) -> set[int]:
    found: set[int] = set()
    for part in field.split(","):
        match = re.fullmatch(r"(\*|\d+(?:-\d+)?)(?:/(\d+))?", part)
        if not match:
            raise Unreadable(f"cannot read the {what} field {field!r}")
        span, step = match.group(1), int(match.group(2) or 1)
        first, last = (low, high) if span == "*" else (int(span.split("-")[0]), int(span.split("-")[-1]))
        if match.group(2) and "-" not in span and span != "*":
            last = high  # "5/15": from 5 to the end of the range
        if not low <= first <= last <= high or step < 1:
            raise Unreadable(f"the {what} field {field!r} is outside {low}-{high}")
        found.update(range(first, last + 1, step))
    return found


def _weekday(token: str) -> str:
    token = token.upper()
    day = _DOW_NUMBERS.get(token, token)
    if day not in WEEKDAYS:
        raise Unreadable(f"cannot read the day of week {token!r}")
    return day


def _days_of_week(field: str) -> set[str]:
    days: set[str] = set()
    for part in field.split(","):
        part = re.sub(r"(#\d|L)$", "", part)  # "6#3" (third Friday), "5L" (last Thursday): that weekday
        if "-" in part:
            first, last = (WEEKDAYS.index(_weekday(t)) for t in part.split("-", 1))
            days.update(WEEKDAYS[(first + i) % 7] for i in range((last - first) % 7 + 1))
        else:
            days.add(_weekday(part))
    return days


def fire_times(expression: str) -> tuple[set[str], set[int]] | datetime:
    """The weekdays and minutes of the day a cron(...) fires at (a superset when its day of the month,
    month or year narrow it), or the local time of an at(...). A rate(...) fires around the clock."""
    if expression.startswith("rate("):
        raise Unreadable("a rate() runs around the clock")
    if expression.startswith("at("):
        try:
            return datetime.fromisoformat(expression[3:-1])
        except ValueError:
            raise Unreadable("cannot read the time of at()") from None
    fields = expression[5:-1].split()
    if len(fields) != 6:
        raise Unreadable("a cron() has six fields: minutes hours day-of-month month day-of-week year")
    mins, hours, _day_of_month, _month, day_of_week, _year = fields
    in_day = {h * 60 + m for h in _numbers(hours, 0, 23, "hours") for m in _numbers(mins, 0, 59, "minutes")}
    # Without a day of the week, every weekday: a day of the month (1, L, 15W) falls on any of them.
    if day_of_week in ("?", "*"):
        return set(WEEKDAYS), in_day
    return _days_of_week(day_of_week), in_day


def _local_fires(job: Job) -> list[datetime]:
    """Every time `job` fires over a simulated year, in its own time zone."""
    zone = ZoneInfo(job.timezone)
    times = fire_times(job.schedule)
    if isinstance(times, datetime):
        return [times.replace(tzinfo=zone)]
    days, in_day = times
    fires = []
    for offset in range(_SIMULATED_DAYS):
        day = _SIMULATED_FROM + timedelta(days=offset)
        if WEEKDAYS[day.weekday()] in days:
            fires += [datetime(day.year, day.month, day.day, m // 60, m % 60, tzinfo=zone) for m in sorted(in_day)]
    return fires


def sleep_problems(env: Environment) -> list[tuple[tuple[str, ...], str]]:
    """(key path, reason) for working hours the database cannot follow, and for each enabled batch
    job that could fire while the environment sleeps.

    A job must fire on a working day at or after `start` and early enough that Scheduler's flexible
    window (batch.flexible_window_minutes) still ends by `end`. Forms whose fire times cannot be
    enumerated are refused rather than trusted: a job run while the database is stopped fails."""
    hours = env.working_hours
    if hours is None:
        return []
    try:
        awake_zone = ZoneInfo(hours.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return [(("working_hours", "timezone"), f"{hours.timezone!r} is not an IANA time zone")]
    start, last = minutes(hours.start), minutes(hours.end) - env.batch.flexible_window_minutes
    night = DAY - (minutes(hours.end) - start)
    if night < DB_LEAD_MINUTES + DB_LAG_MINUTES:
        # The database would be told to start before its stop of the same night.
        return [
            (
                ("working_hours",),
                f"{hours.start}-{hours.end} leaves {night} minutes of night; the database "
                f"stops {DB_LAG_MINUTES} minutes after end and starts {DB_LEAD_MINUTES} before "
                f"start, so at least {DB_LEAD_MINUTES + DB_LAG_MINUTES} (or working_hours: null)",
            )
        ]
    awake = f"working_hours ({day_list(hours.days)} {hours.start}-{hours.end} {hours.timezone})"
    problems: list[tuple[tuple[str, ...], str]] = []
    for index, job in enumerate(env.batch.jobs):
        if not job.enabled:
            continue  # never runs; enabling it goes through this check again
        key = ("batch", "jobs", str(index), "schedule")
        try:
            fires = _local_fires(job)
        except Unreadable as exc:
            problems.append(
                (
                    key,
                    f"{job.schedule}: {exc}, so it cannot be confined to {awake}; write it as "
                    "cron(M H ? * DAYS *) inside them",
                )
            )
            continue
        except (ZoneInfoNotFoundError, ValueError):
            problems.append((("batch", "jobs", str(index), "timezone"), f"{job.timezone!r} is not an IANA time zone"))
            continue
        for fire in fires:
            local = fire.astimezone(awake_zone)
            at = local.hour * 60 + local.minute
            if WEEKDAYS[local.weekday()] not in hours.days or not start <= at <= last:
                problems.append(
                    (
                        key,
                        f"{job.schedule} ({job.timezone}) runs at {WEEKDAYS[local.weekday()]} "
                        f"{local:%H:%M} {hours.timezone}, while the environment sleeps: outside "
                        f"{awake} less the {env.batch.flexible_window_minutes}-minute flexible "
                        "window before the end (the database is stopped then)",
                    )
                )
                break
    return problems
