"""infra/recovery.py: the recovery objectives follow each setting that decides them, and
docs/recovery.md shows what `render.py recovery --markdown` prints today."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.errors import RenderError
from infra.recovery import FIGURES, Figures, backup_interval_hours, load_figures, objectives
from infra.render import Project, load

ROOT = Path(__file__).resolve().parent.parent

# Round figures: 10 min to create, 1 min per GB, 5 min replay, 5 min to switch; lag 5 min.
FIXTURE = Figures("fixture", {"pitr_lag_minutes": 5, "pitr_max_days": 35, "multi_az_failover_seconds_min": 60,
                              "multi_az_failover_seconds_max": 120, "restore_create_minutes": 10,
                              "restore_minutes_per_gb": 1, "pitr_replay_minutes": 5, "switch_minutes": 5}, {})


def rows(name: str, **sections: dict) -> dict[str, str]:
    _, env, _ = load(Project(ROOT), name)
    updates = {}
    for section, values in sections.items():
        current = getattr(env, section)
        updates[section] = current.model_copy(update=values)
    return objectives(env.model_copy(update=updates), FIXTURE).rows


def test_prod_states_failover_pitr_and_a_second_region():
    prod = rows("prod")
    assert prod["RPO, instance or zone failure"] == "0 (synchronous standby)"
    assert prod["RTO, instance or zone failure"] == "60-120 s (failover)"
    assert prod["Point-in-time restore window"] == "14 d (AWS Backup)"
    assert prod["RPO, data error (point in time)"] == "5 min"
    # 10 + 50 GB x 1 + 5 replay + 5 switch
    assert prod["RTO, data error (restore to a time)"] == "70 min"
    assert prod["RPO, region loss"] == "24 h + copy time (ap-northeast-3)"
    assert prod["Vault lock"] == "governance"


def test_turning_off_multi_az_changes_the_instance_failure_objectives():
    weaker = rows("prod", rds={"multi_az": False})
    assert weaker["RPO, instance or zone failure"] == "5 min (point-in-time restore)"
    assert weaker["RTO, instance or zone failure"] == "70 min (restore)"


def test_shorter_retention_shortens_the_window_and_what_is_kept():
    weaker = rows("prod", rds={"backup_retention_days": 3}, backup={"retention_days": 7})
    assert weaker["Point-in-time restore window"] == "3 d (AWS Backup)"
    assert weaker["Snapshots"] == "every 24 h, kept 7 d"
    assert "automated backups 3 d" in weaker["Kept when the environment is deleted"]


def test_without_a_copy_region_a_region_loss_is_not_recoverable():
    assert rows("prod", backup={"copy_region": None})["RPO, region loss"] == "not recoverable (no copy_region)"
    assert rows("dev")["RTO, region loss"] == "not recoverable (no copy_region)"


def test_a_bigger_database_takes_longer_to_restore():
    assert rows("dev", rds={"allocated_storage": 100})["RTO, data error (restore to a time)"] == "2.0 h"


def test_without_aws_backup_rds_keeps_the_window_and_nothing_survives_deletion_in_dev():
    dev = rows("dev")
    assert dev["Point-in-time restore window"] == "1 d (RDS)"
    assert dev["Kept when the environment is deleted"] == "nothing"
    assert dev["Vault lock"] == "-"


@pytest.mark.parametrize(("schedule", "hours"), [
    ("cron(0 20 * * ? *)", 24), ("cron(0 0,12 * * ? *)", 12), ("cron(0 */6 * * ? *)", 6),
    ("cron(0 1,5 * * ? *)", 20),  # the longest gap decides
])
def test_backup_interval(schedule, hours):
    assert backup_interval_hours(schedule) == hours


def test_a_schedule_that_skips_days_is_refused():
    with pytest.raises(RenderError, match="need a schedule that runs every day"):
        backup_interval_hours("cron(0 20 ? * MON *)")


def test_every_figure_names_its_aws_source():
    figures = load_figures(ROOT / "cost" / "recovery.yaml", "cost/recovery.yaml")
    assert set(figures.values) == set(FIGURES)
    assert all(source.startswith("https://docs.aws.amazon.com/") for source in figures.sources.values())


def test_a_figure_without_a_source_is_an_error(tmp_path: Path):
    text = (ROOT / "cost" / "recovery.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "recovery.yaml"
    bad.write_text(text.replace("    source: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIT.html\n",
                                "", 1), encoding="utf-8")
    with pytest.raises(RenderError) as caught:
        load_figures(bad, "cost/recovery.yaml")
    assert caught.value.problems == ["cost/recovery.yaml: figures.pitr_lag_minutes.source: the AWS documentation "
                                     "page the figure comes from (https://docs.aws...)"]


def test_docs_show_the_current_objectives():
    from click.testing import CliRunner

    import render

    result = CliRunner().invoke(render.cli, ["recovery", "--markdown"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    docs = (ROOT / "docs" / "recovery.md").read_text(encoding="utf-8")
    assert result.stdout in docs, "docs/recovery.md: stale objectives; paste `render.py recovery --markdown`"
