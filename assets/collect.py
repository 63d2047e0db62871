"""Continuous collection in Dagster (docs/collection.md): per vendor, a job `collect_<vendor>`
whose one op polls every tenant of the vendor from its high-water mark and then refreshes the
marts of the days the poll touched, and a sensor `collect_<vendor>` (RUNNING by default)
that launches it every AGENTSTATE_COLLECT_EVERY_S, never while the previous poll still runs.

Each poll records what it landed as materializations of the tenant's daily assets and of the
warehouse's partitions (so the asset pages show the days a poll refreshed) and, on its step's
output, one row per tenant: records, window, requests, high-water mark, lag behind now.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import dagster as dg
import pandas as pd

from agentstate_etl.canonical import VENDORS
from agentstate_etl.collect import TenantPoll, poll_tenant
from agentstate_etl.errors import AgentStateError
from agentstate_etl.marts.update import update_warehouse
from agentstate_etl.pipeline import DAY_ERRORS
from agentstate_etl.settings import Settings
from agentstate_etl.tenants import Tenant
from assets.resources import VendorApi, resource_key
from assets.vendor_assets import PROGRESS, RAW_RECORDS, STATE_INTERVALS, asset_key, markdown
from assets.warehouse import WAREHOUSE, WAREHOUSE_OP_TAGS

SOURCE_TAG = "agentstate/source"


def collect_job_name(vendor: str) -> str:
    return f"collect_{vendor}"


def poll_rows(polls: Sequence[TenantPoll]) -> pd.DataFrame:
    """One row per tenant poll, as the run's metadata and the CLI show them."""
    return pd.DataFrame(
        [
            {
                "tenant": p.tenant,
                "records": p.records,
                "quarantined": p.quarantined,
                "from": f"{p.window[0]:%Y-%m-%d %H:%M:%S}",
                "until": f"{p.window[1]:%Y-%m-%d %H:%M:%S}",
                "requests": p.fetch_stats.get("requests", 0),
                "high_water_mark": f"{p.high_water_mark:%Y-%m-%d %H:%M:%S}",
                "lag_s": round(p.lag_s, 1),
                "days": ", ".join(str(k.day) for k in p.partitions),
            }
            for p in polls
        ],
        columns=[
            "tenant",
            "records",
            "quarantined",
            "from",
            "until",
            "requests",
            "high_water_mark",
            "lag_s",
            "days",
        ],
    )


def describe_poll(label: str, poll: TenantPoll) -> str:
    days = ", ".join(str(k.day) for k in poll.partitions) or "none"
    return (
        f"{label}: {poll.records} records from {poll.window[0]:%Y-%m-%d %H:%M:%S} until "
        f"{poll.window[1]:%H:%M:%S}, {poll.fetch_stats.get('requests', 0)} requests; "
        f"collected until {poll.high_water_mark:%Y-%m-%d %H:%M:%S} (lag {poll.lag_s:.0f} s); "
        f"days {days}"
    )


def _materializations(tenant: Tenant, poll: TenantPoll) -> Iterator[dg.AssetMaterialization]:
    for key in poll.partitions:
        for step in (RAW_RECORDS, STATE_INTERVALS):
            yield dg.AssetMaterialization(
                asset_key=asset_key(tenant, step),
                partition=key.day.isoformat(),
                description=f"collected until {poll.high_water_mark:%H:%M:%S}",
                metadata={"collected_until": poll.high_water_mark.isoformat()},
            )


def build_collect_job(vendor: str, tenants: Sequence[Tenant]) -> dg.JobDefinition:
    keys = {resource_key(t) for t in tenants}

    @dg.op(
        name=f"poll_{vendor}",
        required_resource_keys={"agentstate", *keys},
        tags=WAREHOUSE_OP_TAGS,  # it publishes marts: the warehouse host's queue
        # only this tenant (its tenant_id or name); empty: every tenant
        config_schema={"tenant": dg.Field(str, default_value="")},
        description=f"Poll every {vendor} tenant from its high-water mark, land the records "
        "into the day partitions they touch, refresh those days' marts.",
    )
    def poll(context) -> dg.Output:  # noqa: ANN001 - a string annotation Dagster cannot check
        settings: Settings = context.resources.agentstate.settings()
        only = context.op_config["tenant"]
        chosen = [t for t in tenants if not only or t.matches(only)]
        if not chosen:
            raise AgentStateError(f"no {vendor} tenant {only!r}")
        resources: list[VendorApi] = [getattr(context.resources, resource_key(t)) for t in chosen]
        outcomes: list[TenantPoll | Exception] = []
        for resource in resources:  # one tenant's failure, its settings' too, stops no other
            try:
                outcomes.append(poll_tenant(resource.settings(), settings))
            except DAY_ERRORS as exc:
                outcomes.append(exc)
        polls = [o for o in outcomes if isinstance(o, TenantPoll)]
        for tenant, outcome in zip(chosen, outcomes, strict=True):
            if isinstance(outcome, TenantPoll):
                PROGRESS.info(describe_poll(tenant.label, outcome))
                for event in _materializations(tenant, outcome):
                    context.log_event(event)
                if outcome.gap:
                    lost = (
                        f"{tenant.label}: warning: nothing collected between {outcome.gap[0]} "
                        f"and {outcome.gap[1]}: the vendor no longer kept it (its days stay "
                        "incomplete)"
                    )
                    context.log.warning(lost)
                    PROGRESS.info(lost)
        touched = sorted({k for p in polls for k in [*p.partitions, *(i.key for i in p.intervals)]})
        if touched:
            build = update_warehouse(settings, touched)
            for day in sorted({k.day for k in touched}):  # the warehouse's partitions are UTC days
                context.log_event(
                    dg.AssetMaterialization(
                        asset_key=WAREHOUSE,
                        partition=day.isoformat(),
                        description=f"refreshed by {collect_job_name(vendor)}",
                        metadata={"report_days": [str(d) for d in build.report_days]},
                    )
                )
        failures = [
            f"{t.label}: {o}"
            for t, o in zip(chosen, outcomes, strict=True)
            if isinstance(o, Exception)
        ]
        if failures:
            raise AgentStateError("\n".join(failures))
        return dg.Output(
            None,
            metadata={
                "polls": markdown(poll_rows(polls)),
                "max_lag_s": max((p.lag_s for p in polls), default=0.0),
            },
        )

    @dg.job(
        name=collect_job_name(vendor),
        description=f"One poll of every {vendor} tenant, then the marts of the days it touched.",
        tags={"agentstate/vendor": vendor, SOURCE_TAG: "collect"},
    )
    def collect_job() -> None:
        poll()

    return collect_job


def build_collect_jobs(tenants: Sequence[Tenant]) -> list[dg.JobDefinition]:
    return [
        build_collect_job(vendor, of_vendor)
        for vendor in VENDORS
        if (of_vendor := [t for t in tenants if t.vendor == vendor])
    ]


def build_collect_sensors(
    jobs: Sequence[dg.JobDefinition], every_s: float
) -> list[dg.SensorDefinition]:
    """`collect_<vendor>`: a poll every `every_s`, skipped while the previous one runs."""

    def sensor_for(job: dg.JobDefinition) -> dg.SensorDefinition:
        @dg.sensor(
            name=job.name,
            job=job,
            minimum_interval_seconds=max(1, int(every_s)),
            default_status=dg.DefaultSensorStatus.RUNNING,
            description=f"Runs {job.name} every {every_s:g} s (AGENTSTATE_COLLECT_EVERY_S).",
        )
        def collect_sensor(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
            running = context.instance.get_runs(
                dg.RunsFilter(
                    job_name=job.name,
                    statuses=[
                        dg.DagsterRunStatus.QUEUED,
                        dg.DagsterRunStatus.NOT_STARTED,
                        dg.DagsterRunStatus.STARTING,
                        dg.DagsterRunStatus.STARTED,
                    ],
                ),
                limit=1,
            )
            if running:
                return dg.SkipReason(f"the previous poll (run {running[0].run_id[:8]}) still runs")
            return dg.RunRequest(tags={SOURCE_TAG: f"sensor:{job.name}"})

        return collect_sensor

    return [sensor_for(job) for job in jobs]
