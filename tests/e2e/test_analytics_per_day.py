"""What a report day of the analytics marts needs, for a build that recomputes single days.

A day of the interval, KPI and daily-adherence marts (threshold 0) is computed from the UTC
partitions overlapping that day alone. With a threshold, an exception of a segment that runs
past midnight is measured whole, so the day needs the partitions its segments overlap.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from agentstate_etl import lake, schedules
from agentstate_etl.simulator.schedule import schedule
from agentstate_etl.warehouse.location import WarehouseLocation
from tests.e2e.conftest import (
    DAYS,
    DST_ZONE,
    SCHEDULE_ZONE,
    Analytics,
    Backfill,
    build_warehouse_run,
)
from tests.e2e.test_marts_match_truth import normalized
from tests.warehouse import warehouse_of

DAY = date(2026, 3, 8)  # New York's spring-forward day: UTC 05:00 on the 8th to 04:00 on the 9th


def day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(zone)
    return (
        datetime.combine(day, time(), tz),
        datetime.combine(day + timedelta(days=1), time(), tz),
    )


def utc_days(start: datetime, end: datetime) -> set[date]:
    first, last = pd.Timestamp(start).tz_convert("UTC"), pd.Timestamp(end).tz_convert("UTC")
    return {
        d.date() for d in pd.date_range(first.floor("D"), last - pd.Timedelta(1, "ms"), freq="D")
    }


def build_from(backfill: Backfill, home: Path, partitions: set[date], analytics: Analytics) -> Path:
    """The marts over a lake holding only `partitions` (of every vendor) and every schedule."""
    source, target = lake.Lake.from_url(backfill.home / "lake"), lake.Lake.from_url(home / "lake")
    for key in source.partitions(lake.INTERVALS):
        if key.day in partitions:
            raw = {d: source.read(d, key) for d in (lake.RAW, lake.QUARANTINE)}
            target.commit(lake.RAW, key, raw, source.metadata(lake.RAW, key))  # its horizon
            target.commit(lake.INTERVALS, key, {lake.INTERVALS: source.read(lake.INTERVALS, key)})
    for key in source.partitions(lake.SCHEDULES):
        datasets = (schedules.SEGMENTS, schedules.QUARANTINE)
        target.commit(lake.SCHEDULES, key, {d: source.read(d, key) for d in datasets})
    assert build_warehouse_run(backfill, home, **analytics.settings).success
    return warehouse_of(home)


def rows_of_day(
    backfill: Backfill, warehouse: WarehouseLocation, table: str, keys: list[str]
) -> pd.DataFrame:
    return normalized(
        backfill.query(f"SELECT * FROM {table} WHERE day = DATE '{DAY}'", warehouse), keys
    )


@pytest.mark.parametrize("analytics", ["dst-15"], indirect=True)
@pytest.mark.parametrize(
    "table", ["mart_state_totals_interval", "mart_kpis_daily", "mart_adherence_daily"]
)
def test_a_day_needs_only_the_partitions_overlapping_it(
    backfill: Backfill, analytics: Analytics, table: str, tmp_path: Path
) -> None:
    partitions = utc_days(*day_bounds(DAY, DST_ZONE))
    assert partitions == {DAY, DAY + timedelta(days=1)}
    alone = build_from(backfill, tmp_path, partitions, analytics)
    keys = ["vendor", "agent_id", "interval_start" if "interval" in table else "day"]
    expected = rows_of_day(backfill, analytics.warehouse, table, keys)
    assert not expected.empty
    pd.testing.assert_frame_equal(rows_of_day(backfill, alone, table, keys), expected)


@pytest.mark.parametrize("analytics", ["utc-30"], indirect=True)
def test_with_a_threshold_a_day_needs_the_partitions_its_segments_overlap(
    backfill: Backfill, analytics: Analytics, tmp_path: Path
) -> None:
    """In UTC the day is one partition, and night shifts run past its midnights."""
    assert analytics.threshold_s > 0
    start, end = day_bounds(DAY, analytics.report_tz)
    segments = schedule(backfill.world, SCHEDULE_ZONE, DAYS)
    lo, hi = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    touching = segments[(segments["start_ms"] < hi) & (segments["end_ms"] > lo)]
    window = (
        pd.Timestamp(touching["start_ms"].min(), unit="ms", tz="UTC"),
        pd.Timestamp(touching["end_ms"].max(), unit="ms", tz="UTC"),
    )
    partitions = utc_days(start, end) | utc_days(*window)
    assert partitions == {DAY - timedelta(days=1), DAY, DAY + timedelta(days=1)}
    alone = build_from(backfill, tmp_path, partitions, analytics)
    for table, keys in [
        ("mart_adherence_daily", ["vendor", "agent_id", "day"]),
        ("mart_adherence_exceptions", ["vendor", "agent_id", "start_ts"]),
    ]:
        expected = rows_of_day(backfill, analytics.warehouse, table, keys)
        assert not expected.empty
        pd.testing.assert_frame_equal(rows_of_day(backfill, alone, table, keys), expected)
