"""The analytics marts equal the simulator's ground truth to the millisecond.

Same faulty backfill as test_marts_match_truth, plus the simulator's schedule files (which its
agents follow imperfectly), built in UTC and across the US spring-forward, at 15 and 30
minutes, with and without an adherence threshold and vendor codes in the activity mapping.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from agentstate_etl import schedules
from agentstate_etl.canonical import LOGGED_OUT, VENDORS
from agentstate_etl.marts.checks import run_check
from agentstate_etl.settings import Settings
from agentstate_etl.simulator import truth
from agentstate_etl.simulator.schedule import JUNK_REASONS, UNKNOWN_ACTIVITY, schedule
from tests.e2e.conftest import DAYS, DST_ZONE, SCHEDULE_ZONE, SIM_NOW, Analytics, Backfill
from tests.e2e.test_marts_match_truth import assert_same

ARGS = dict(lookback_hours=12, as_of=SIM_NOW)
DST_DAY = date(2026, 3, 8)


@pytest.mark.parametrize("vendor", VENDORS)
def test_interval_totals_equal_truth(backfill: Backfill, analytics: Analytics, vendor: str) -> None:
    expected = truth.expected_interval_totals(
        backfill.world,
        vendor,
        DAYS,
        report_tz=analytics.report_tz,
        interval_minutes=analytics.interval_minutes,
        **ARGS,
    )
    actual = backfill.query(
        f"SELECT * FROM mart_state_totals_interval WHERE vendor = '{vendor}'", analytics.warehouse
    )
    assert_same(actual, expected, ["agent_id", "interval_start"])


def test_intervals_add_up_to_the_day_and_follow_the_wall_clock(
    backfill: Backfill, analytics: Analytics
) -> None:
    assert run_check(analytics.warehouse, "intervals_add_up_to_day").empty
    per_day = backfill.query(
        "SELECT day, count(DISTINCT interval_start) AS n FROM mart_state_totals_interval "
        "GROUP BY day",
        analytics.warehouse,
    ).set_index("day")["n"]
    in_a_day = 24 * 60 // analytics.interval_minutes
    if analytics.report_tz == DST_ZONE:  # the spring-forward day has 23 hours
        assert per_day[DST_DAY] == in_a_day - 60 // analytics.interval_minutes
    assert per_day.max() == in_a_day
    local = backfill.query(
        f"SELECT DISTINCT minute(interval_start AT TIME ZONE '{analytics.report_tz}') AS m "
        "FROM mart_state_totals_interval",
        analytics.warehouse,
    )
    assert set(local["m"]) == set(range(0, 60, analytics.interval_minutes))


@pytest.mark.parametrize("vendor", VENDORS)
def test_kpis_equal_truth(backfill: Backfill, analytics: Analytics, vendor: str) -> None:
    totals = truth.expected_totals(
        backfill.world, vendor, DAYS, report_tz=analytics.report_tz, **ARGS
    )
    expected = truth.expected_kpis(totals)
    assert expected["occupancy"].isna().any() or expected["occupancy"].notna().all()
    actual = backfill.query(
        f"SELECT * FROM mart_kpis_daily WHERE vendor = '{vendor}'", analytics.warehouse
    )
    assert_same(actual, expected, ["agent_id", "day"])


@pytest.mark.parametrize("vendor", VENDORS)
def test_adherence_equals_truth(backfill: Backfill, analytics: Analytics, vendor: str) -> None:
    daily, exceptions = truth.expected_adherence(
        backfill.world,
        vendor,
        DAYS,
        segments=schedule(backfill.world, SCHEDULE_ZONE, DAYS, [vendor]),
        report_tz=analytics.report_tz,
        threshold_s=analytics.threshold_s,
        rules=analytics.rules,
        **ARGS,
    )
    where = f"WHERE vendor = '{vendor}'"
    assert_same(
        backfill.query(f"SELECT * FROM mart_adherence_daily {where}", analytics.warehouse),
        daily,
        ["agent_id", "day"],
    )
    assert_same(
        backfill.query(f"SELECT * FROM mart_adherence_exceptions {where}", analytics.warehouse),
        exceptions,
        ["agent_id", "start_ts"],
    )
    if analytics.threshold_s:
        assert exceptions["duration_s"].min() >= analytics.threshold_s


def test_the_deviations_show_up(backfill: Backfill, analytics: Analytics) -> None:
    """No-shows, unknown activities and overrun lunches each leave their mark."""
    daily = backfill.query("SELECT * FROM mart_adherence_daily", analytics.warehouse)
    exceptions = backfill.query("SELECT * FROM mart_adherence_exceptions", analytics.warehouse)
    assert (daily["unknown_activity_s"] > 0).any()
    assert not run_check(analytics.warehouse, "unknown_activities").empty
    assert UNKNOWN_ACTIVITY in set(exceptions["activity"])
    assert ((daily["worked_s"] == 0) & (daily["scheduled_open_s"] > 0)).any()  # no-shows
    open_out = exceptions[exceptions["activity"] == "Open"]
    assert LOGGED_OUT in set(open_out["actual_state"])
    assert "Lunch" in set(open_out["actual_reason"])  # back from lunch late
    assert (daily["adherence_pct"] < 100).any() and (daily["adherence_pct"] == 100).any()


def test_every_malformed_schedule_row_is_quarantined_with_its_reason(backfill: Backfill) -> None:
    quarantined = pd.concat(
        [
            pd.read_parquet(path)
            for path in (backfill.home / "lake" / schedules.QUARANTINE).rglob("*.parquet")
        ],
        ignore_index=True,
    )
    reasons = {reason.split(":")[0] for reason in quarantined["reason"]}
    assert reasons == set(JUNK_REASONS)
    assert quarantined["raw_record"].str.contains("junk-").all()


def test_schedule_files_land_once(backfill: Backfill) -> None:
    settings = Settings(
        home=backfill.home,
        dagster_home=backfill.home,
        report_tz="UTC",
        drift_tolerance_s=2.0,
        lookback_hours=12,
        max_quarantine_rate=0.01,
    )
    assert len(schedules.inbox(settings.schedules)) == len(DAYS)
    assert schedules.pending(settings) == []
