"""One daily partition per UTC day, from AGENTSTATE_START_DATE through today (for intraday refresh)."""

from __future__ import annotations

from datetime import date

import dagster as dg


def daily_partitions(start_date: date) -> dg.DailyPartitionsDefinition:
    """The partitions of every vendor asset; the start comes from the configuration (not read
    at import, so a changed AGENTSTATE_START_DATE takes effect on the next load)."""
    return dg.DailyPartitionsDefinition(
        start_date=start_date.isoformat(), timezone="UTC", end_offset=1
    )


def partition_days(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[date]:
    """The UTC days of this run: one, or a whole range in a single-run backfill."""
    return [date.fromisoformat(key) for key in context.partition_keys]  # type: ignore[union-attr]
