"""The day algebra of incremental updates: which report days a UTC day touches, and back."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from agentstate_etl.marts.days import (
    affected_report_days,
    needed_utc_days,
    plan_days,
    report_days_of,
    utc_days_of,
)

ZONES = st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati"])
DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))


def test_a_utc_day_touches_one_or_two_report_days() -> None:
    assert report_days_of(date(2026, 3, 8), ZoneInfo("UTC")) == [date(2026, 3, 8)]
    new_york = ZoneInfo("America/New_York")
    assert report_days_of(date(2026, 3, 8), new_york) == [date(2026, 3, 7), date(2026, 3, 8)]
    # the local day of the spring-forward spans 23 hours, still two UTC days
    assert utc_days_of(date(2026, 3, 8), new_york) == [date(2026, 3, 8), date(2026, 3, 9)]


@given(st.sets(DAYS, min_size=1, max_size=20), ZONES, st.integers(1, 8))
def test_each_report_day_is_published_once_and_read_whole(
    touched: set[date], zone_name: str, chunk_days: int
) -> None:
    zone = ZoneInfo(zone_name)
    plans = plan_days(touched, zone, chunk_days)
    published_utc = [d for p in plans for d in p.utc_days]
    published_report = [d for p in plans for d in p.report_days]
    assert sorted(published_utc) == sorted(touched)
    assert len(published_report) == len(set(published_report))
    assert set(published_report) == {r for d in touched for r in affected_report_days(d, zone)}
    for plan in plans:
        for report_day in plan.report_days:
            assert set(needed_utc_days(report_day, zone)) <= set(plan.read_days)
            # whatever partition a report day reads, a change to it recomputes that day
            for utc_day in needed_utc_days(report_day, zone):
                assert report_day in affected_report_days(utc_day, zone)
        assert set(plan.utc_days) <= set(plan.read_days)


@given(DAYS, ZONES)
def test_report_and_utc_days_are_inverse(day: date, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    for report_day in report_days_of(day, zone):
        assert day in utc_days_of(report_day, zone)
    assert all(abs((r - day).days) <= 1 for r in report_days_of(day, zone))
    assert report_days_of(day + timedelta(days=1), zone)[0] >= report_days_of(day, zone)[0]
