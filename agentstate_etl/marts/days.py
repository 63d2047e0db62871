"""Which days a warehouse update recomputes, and which lake partitions it must read for them.

A UTC partition touches the report-zone days it overlaps (one, or two when the zone is not
UTC), and the days either side: a schedule segment starts on its report day but may run past
midnight, and an exception is measured whole and owned by the day it starts, so a report day's
adherence reads the partitions of the day before (a span may start there) and after (its own
spans may run on there). Pure functions, so the day
algebra is tested on its own (a DST day has 23 or 25 hours).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_LAST_MS = timedelta(milliseconds=1)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def report_days_of(utc_day: date, zone: ZoneInfo) -> list[date]:
    """The report-zone days that UTC day `utc_day` overlaps."""
    start = datetime.combine(utc_day, time(), UTC)
    return _days(
        start.astimezone(zone).date(),
        (start + timedelta(days=1) - _LAST_MS).astimezone(zone).date(),
    )


def utc_days_of(report_day: date, zone: ZoneInfo) -> list[date]:
    """The UTC days that report-zone day `report_day` overlaps (its midnights are local)."""
    start = datetime.combine(report_day, time(), zone)
    end = datetime.combine(report_day + timedelta(days=1), time(), zone)
    return _days(start.astimezone(UTC).date(), (end - _LAST_MS).astimezone(UTC).date())


def affected_report_days(utc_day: date, zone: ZoneInfo) -> list[date]:
    """The report days whose marts change when UTC partition `utc_day` changes."""
    touched = report_days_of(utc_day, zone)
    return sorted({d + timedelta(days=k) for d in touched for k in (-1, 0, 1)})


def needed_utc_days(report_day: date, zone: ZoneInfo) -> list[date]:
    """The UTC partitions a report day's marts are computed from: its own, the previous day's
    (whose segments run into it, and whose spans may carry on past midnight) and the next
    day's (where its own segments and spans run on)."""
    return sorted(
        {d for k in (-1, 0, 1) for d in utc_days_of(report_day + timedelta(days=k), zone)}
    )


@dataclass(frozen=True)
class DayPlan:
    """One slice of an update: what it publishes and what it reads to compute that."""

    utc_days: tuple[date, ...]  # published by partition day (intervals, reconciliation, agents)
    report_days: tuple[date, ...]  # published by report day (the daily and interval marts)
    read_days: tuple[date, ...]  # the UTC partitions the computation needs


def plan_days(touched: Iterable[date], zone: ZoneInfo, chunk_days: int) -> list[DayPlan]:
    """Split an update of `touched` UTC days into slices of about `chunk_days` days.

    Each report day is computed once, in the slice of the first touched UTC day it depends on,
    from every UTC day it and the next report day overlap; so slices never publish the same
    day twice and a chunked rebuild equals an incremental update day for day.
    """
    utc = sorted(set(touched))
    owner: dict[date, int] = {}
    for index, day in enumerate(utc):
        for report_day in affected_report_days(day, zone):
            owner.setdefault(report_day, index // chunk_days)
    plans = []
    for chunk in range((len(utc) + chunk_days - 1) // chunk_days):
        utc_days = tuple(utc[chunk * chunk_days : (chunk + 1) * chunk_days])
        report_days = tuple(sorted(d for d, c in owner.items() if c == chunk))
        read = set(utc_days)
        for report_day in report_days:
            read.update(needed_utc_days(report_day, zone))
        plans.append(DayPlan(utc_days, report_days, tuple(sorted(read))))
    return plans
