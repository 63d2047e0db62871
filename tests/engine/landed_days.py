"""Hand-made lake partitions for schedule tests: what a backfill lands for one tenant's UTC day
(a raw landing with its horizon, and the day's intervals), without a vendor or Dagster."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa

from agentstate_etl import lake
from agentstate_etl.intervals import INTERVAL_SCHEMA
from agentstate_etl.settings import Settings
from tests.warehouse import query as warehouse_query

VENDOR, TENANT = "cxone", "t1"


def engine_settings(home: Path, **overrides: object) -> Settings:
    values: dict[str, object] = dict(
        home=home,
        dagster_home=home / "dagster",
        report_tz="UTC",
        drift_tolerance_s=2.0,
        lookback_hours=12,
        max_quarantine_rate=0.5,
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def land_day(
    settings: Settings,
    day: date,
    ready: dict[str, tuple[datetime, datetime]],
    vendor: str = VENDOR,
    tenant: str = TENANT,
) -> lake.PartitionKey:
    """One whole UTC day landed: each agent READY over its span (clipped to the day)."""
    start = datetime.combine(day, time(), UTC)
    end = start + timedelta(days=1)
    rows = [
        {
            "vendor": vendor,
            "tenant_id": tenant,
            "agent_id": agent,
            "agent_name": agent,
            "state": "READY",
            "vendor_state": "Available",
            "reason": None,
            "start_ts": max(first, start),
            "end_ts": min(last, end),
            "duration_s": (min(last, end) - max(first, start)).total_seconds(),
            "partition_date": day,
            "is_carry_in": first < start,
            "is_open": False,
        }
        for agent, (first, last) in ready.items()
        if first < end and start < last
    ]
    key = lake.PartitionKey(vendor, tenant, day)
    settings.lake.commit(
        lake.RAW,
        key,
        {lake.RAW: pa.table({"record": pa.array([], pa.string())})},
        {lake.EXTRACTED_AT: end.isoformat()},
    )
    settings.lake.commit(
        lake.INTERVALS, key, {lake.INTERVALS: pa.Table.from_pylist(rows, schema=INTERVAL_SCHEMA)}
    )
    return key


def query(settings: Settings, sql: str) -> pd.DataFrame:
    return warehouse_query(settings.warehouse, sql)


def scheduled_hours(settings: Settings, day: date) -> float:
    found = query(
        settings,
        f"SELECT coalesce(sum(scheduled_s), 0) / 3600 AS h FROM mart_adherence_daily "
        f"WHERE day = DATE '{day.isoformat()}'",
    )
    return float(found["h"].iloc[0])
