"""One daily partition per UTC day, from AGENTSTATE_START_DATE through today (for intraday refresh)."""

import os
from datetime import date

import dagster as dg

from agentstate_etl.settings import load_env_file, parse_day

load_env_file()
START_DATE = parse_day(
    os.environ.get("AGENTSTATE_START_DATE") or "2026-01-01", "AGENTSTATE_START_DATE"
)

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=START_DATE.isoformat(), timezone="UTC", end_offset=1
)


def partition_days(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[date]:
    """The UTC days of this run: one, or a whole range in a single-run backfill."""
    return [date.fromisoformat(key) for key in context.partition_keys]  # type: ignore[union-attr]
