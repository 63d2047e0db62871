"""Jobs and schedules: yesterday once it has settled, today refreshed through the day.

Jobs: `{vendor}_{tenant}_daily` per tenant, `{vendor}_daily` per vendor (every tenant of it; a
tenant's steps do not depend on another's, so one failing tenant does not stop the others),
`all_vendors_daily`, and `warehouse_build`. The schedules launch one run per tenant, so a
tenant's failure or slowness never holds up another's run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

import dagster as dg

from agentstate_etl.canonical import VENDORS
from agentstate_etl.tenants import Tenant
from assets.vendor_assets import tenant_asset_keys
from assets.warehouse import WAREHOUSE

VENDOR_TAG = "agentstate/vendor"
TENANT_TAG = "agentstate/tenant"
SOURCE_TAG = "agentstate/source"
WAREHOUSE_JOB = "warehouse_build"
ALL_VENDORS_JOB = "all_vendors_daily"


def vendor_job_name(vendor: str) -> str:
    return f"{vendor}_daily"


def tenant_job_name(tenant: Tenant) -> str:
    return f"{tenant.vendor}_{tenant.slug}_daily"


def tenant_tags(tenant: Tenant, source: str) -> dict[str, str]:
    """The tags every run of one tenant carries: which vendor, which tenant, who launched it."""
    return {VENDOR_TAG: tenant.vendor, TENANT_TAG: tenant.slug, SOURCE_TAG: source}


def build_jobs(tenants: Sequence[Tenant]) -> list[dg.UnresolvedAssetJobDefinition]:
    jobs = [
        dg.define_asset_job(
            tenant_job_name(tenant),
            selection=dg.AssetSelection.assets(*tenant_asset_keys(tenant), WAREHOUSE),
            description=f"Every daily asset of {tenant.label} for one day or a range (single "
            "run), then the warehouse for those days.",
            tags=tenant_tags(tenant, "manual"),
        )
        for tenant in tenants
    ]
    jobs += [
        dg.define_asset_job(
            vendor_job_name(vendor),
            selection=dg.AssetSelection.groups(vendor) | dg.AssetSelection.assets(WAREHOUSE),
            description=f"Every tenant's daily assets of {vendor} (tenants run independently), "
            "then the warehouse for those days.",
            tags={VENDOR_TAG: vendor, TENANT_TAG: "all", SOURCE_TAG: "manual"},
        )
        for vendor in VENDORS
    ]
    jobs.append(
        dg.define_asset_job(
            ALL_VENDORS_JOB,
            selection=dg.AssetSelection.groups(*VENDORS) | dg.AssetSelection.assets(WAREHOUSE),
            description="Every vendor tenant's daily assets, then the warehouse for those days.",
            tags={VENDOR_TAG: "all", TENANT_TAG: "all", SOURCE_TAG: "manual"},
        )
    )
    jobs.append(
        dg.define_asset_job(
            WAREHOUSE_JOB,
            selection=dg.AssetSelection.assets(WAREHOUSE),
            description="The marts for the days of the run, from the lake (no vendor calls).",
        )
    )
    return jobs


def _partition(day_offset: int, scheduled_at: datetime) -> str:
    return (scheduled_at.astimezone(UTC).date() + timedelta(days=day_offset)).isoformat()


def _tenant_schedule(
    tenants: Sequence[Tenant],
    name: str,
    cron: str,
    day_offset: int,
    run_key: Callable[[str, datetime], str],
    description: str,
) -> dg.ScheduleDefinition:
    """A schedule of the day `day_offset` days from its tick, one run request per tenant."""

    @dg.schedule(
        name=name,
        cron_schedule=cron,
        execution_timezone="UTC",
        job_name=ALL_VENDORS_JOB,
        description=f"{description}: one run per tenant.",
    )
    def per_tenant(context: dg.ScheduleEvaluationContext) -> Iterator[dg.RunRequest]:
        at = context.scheduled_execution_time
        day = _partition(day_offset, at)
        for tenant in tenants:
            yield dg.RunRequest(
                run_key=f"{run_key(day, at)}-{tenant.vendor}-{tenant.slug}",
                partition_key=day,
                asset_selection=tenant_asset_keys(tenant),
                tags=tenant_tags(tenant, f"schedule:{name}"),
            )

    return per_tenant


def build_schedules(tenants: Sequence[Tenant]) -> list[dg.ScheduleDefinition]:
    return [
        _tenant_schedule(
            tenants,
            "settled_daily",
            "30 2 * * *",
            -1,
            lambda day, _: f"settled-{day}",
            "Yesterday's UTC day at 02:30, once late events have settled",
        ),
        _tenant_schedule(
            tenants,
            "intraday_refresh",
            "15 * * * *",
            0,
            lambda day, at: f"intraday-{day}-{at:%H%M}",
            "Refresh today's partition every hour (open states end at the extraction time)",
        ),
    ]
