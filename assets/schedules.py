"""Jobs and schedules: yesterday once it has settled, today refreshed through the day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from agentstate_etl.canonical import VENDORS

WAREHOUSE = dg.AssetSelection.assets("warehouse")
vendor_jobs = {
    vendor: dg.define_asset_job(
        f"{vendor}_daily",
        selection=dg.AssetSelection.groups(vendor) | WAREHOUSE,
        description=f"Every daily asset of {vendor} for one day or a range (single run), then "
        "the warehouse for those days.",
    )
    for vendor in VENDORS
}
all_vendors_job = dg.define_asset_job(
    "all_vendors_daily",
    selection=dg.AssetSelection.groups(*VENDORS) | WAREHOUSE,
    description="Every vendor's daily assets, then the warehouse for those days.",
)
warehouse_job = dg.define_asset_job(
    "warehouse_build",
    selection=WAREHOUSE,
    description="The marts for the days of the run, from the lake (no vendor calls).",
)


def _partition(day_offset: int, scheduled_at: datetime) -> str:
    return (scheduled_at.astimezone(UTC).date() + timedelta(days=day_offset)).isoformat()


@dg.schedule(
    cron_schedule="30 2 * * *",
    execution_timezone="UTC",
    job=all_vendors_job,
    description="Yesterday's UTC day at 02:30, once late events have settled.",
)
def settled_daily(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    key = _partition(-1, context.scheduled_execution_time)
    return dg.RunRequest(run_key=f"settled-{key}", partition_key=key)


@dg.schedule(
    cron_schedule="15 * * * *",
    execution_timezone="UTC",
    job=all_vendors_job,
    description="Refresh today's partition every hour (open states end at the extraction time).",
)
def intraday_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    key = _partition(0, context.scheduled_execution_time)
    stamp = context.scheduled_execution_time.strftime("%H%M")
    return dg.RunRequest(run_key=f"intraday-{key}-{stamp}", partition_key=key)


schedules = [settled_daily, intraday_refresh]
jobs = [*vendor_jobs.values(), all_vendors_job, warehouse_job]
