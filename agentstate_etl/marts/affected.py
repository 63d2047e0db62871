"""Which lake partitions an update covers: the landed partitions of some UTC days, or those a
changed schedule file affects."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from agentstate_etl import lake
from agentstate_etl.canonical import VENDORS
from agentstate_etl.lake import Lake, PartitionKey
from agentstate_etl.marts.days import utc_days_of
from agentstate_etl.marts.update import WarehouseBuild, update_warehouse
from agentstate_etl.settings import Settings, parse_zone


def landed_partitions(
    lk: Lake, days: Iterable[date], vendors: Iterable[str] = VENDORS
) -> list[PartitionKey]:
    """Every vendor tenant's partition of these UTC days that has intervals in the lake."""
    return [
        key
        for vendor in vendors
        for tenant in lk.tenants(lake.INTERVALS, vendor)
        for day in days
        if lk.has(lake.INTERVALS, key := PartitionKey(vendor, tenant, day))
    ]


def update_schedule_days(settings: Settings, schedule_days: Iterable[date]) -> WarehouseBuild:
    """The marts of report days whose schedule changed (and the next day, which its segments
    may run into), for every vendor: the partitions of the UTC days they overlap."""
    zone = parse_zone(settings.report_tz, "AGENTSTATE_REPORT_TZ")
    utc_days = {
        utc_day
        for day in schedule_days
        for report_day in (day, day + timedelta(days=1))
        for utc_day in utc_days_of(report_day, zone)
    }
    return update_warehouse(settings, landed_partitions(settings.lake, sorted(utc_days)))
