"""Per-vendor daily assets, built by one factory: raw records → state intervals (→ CXone summary).

Each asset loops over the days of its run, so a ranged backfill is one run
(`BackfillPolicy.single_run()`); every day is landed on its own and atomically, and the run
fails at the end naming each day that failed and why.
"""

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import dagster as dg
import pandas as pd

from agentstate_etl import lake, pipeline
from agentstate_etl.errors import AgentStateError
from agentstate_etl.vendors.registry import vendor_spec
from assets.partitions import daily_partitions, partition_days

T = TypeVar("T")

VENDOR_TITLES = {"cxengage": "CxEngage", "cxone": "NICE CXone", "koreai": "Kore.ai SmartAssist"}


class PartitionsFailed(AgentStateError):
    """Some days of a run failed; the message names each one and its cause."""


def run_days(
    context: dg.AssetExecutionContext, what: str, step: Callable[[date], T], workers: int = 1
) -> list[T]:
    """Run `step` for each day of the run, keep going past failures, then fail naming them.

    One log line for the days that landed (each log line is a row in Dagster's event log, and
    the per-day figures are in the materialization metadata), one per day that failed.
    """
    done: list[T] = []
    landed: list[date] = []
    failures: dict[date, str] = {}
    for day, outcome in pipeline.each_day(step, partition_days(context), workers):
        if isinstance(outcome, Exception):
            failures[day] = f"{type(outcome).__name__}: {outcome}"
            context.log.error(f"{what} {day} failed: {outcome}")
        else:
            done.append(outcome)
            landed.append(day)
    if landed:
        context.log.info(f"{what}: {len(landed)} day(s) landed, {landed[0]} .. {landed[-1]}")
    if failures:
        lines = "\n".join(f"  partition {day}: {why}" for day, why in sorted(failures.items()))
        raise PartitionsFailed(f"{what}: {len(failures)} partition(s) failed\n{lines}")
    return done


def _table(rows: list[dict[str, Any]]) -> dg.MetadataValue:
    return dg.MetadataValue.md(pd.DataFrame(rows).to_markdown(index=False))


def build_vendor_assets(vendor: str) -> list[dg.AssetsDefinition]:
    """The daily assets of one vendor; CXone also gets its summary-report asset."""
    raw_name, intervals_name = f"{vendor}_raw_records", f"{vendor}_state_intervals"
    title = VENDOR_TITLES[vendor]
    common: dict[str, Any] = {
        "group_name": vendor,
        "partitions_def": daily_partitions,
        "backfill_policy": dg.BackfillPolicy.single_run(),
    }

    @dg.asset(
        name=raw_name,
        description=f"{title} records of each UTC day plus the lookback window, validated with "
        "Pandera; valid rows in lake/raw, rejected rows with their reason in lake/quarantine.",
        kinds={"parquet", "pandera"},
        required_resource_keys={"agentstate", f"{vendor}_api"},
        check_specs=[
            dg.AssetCheckSpec(
                "quarantine_rate",
                asset=raw_name,
                blocking=True,
                description="Quarantined share within AGENTSTATE_MAX_QUARANTINE_RATE",
            ),
            dg.AssetCheckSpec(
                "records_valid",
                asset=raw_name,
                description="Warns when any record was quarantined (Pandera)",
            ),
        ],
        **common,
    )
    def raw_records(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        settings = context.resources.agentstate.settings()
        config = getattr(context.resources, f"{vendor}_api").config()
        landings = run_days(
            context, raw_name, lambda day: pipeline.land_raw(vendor, day, settings, config)
        )
        fetched = sum(x.fetched for x in landings)
        quarantined = sum(x.quarantined for x in landings)
        rate = quarantined / fetched if fetched else 0.0
        reasons: dict[str, int] = {}
        stats: dict[str, int] = {}
        for landing in landings:
            for k, v in landing.quarantine_reasons.items():
                reasons[k] = reasons.get(k, 0) + v
            for k, v in landing.fetch_stats.items():
                stats[k] = stats.get(k, 0) + v
        per_day = [
            {
                "day": str(x.day),
                "fetched": x.fetched,
                "valid": x.valid,
                "quarantined": x.quarantined,
                "retries": x.fetch_stats.get("retries", 0),
            }
            for x in landings
        ]
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": sum(x.valid for x in landings),
                "fetched": fetched,
                "quarantined": quarantined,
                "quarantine_reasons": reasons,
                "fetch": stats,
                "per_day": _table(per_day),
                "lake_path": dg.MetadataValue.path(
                    settings.lake.location(f"{lake.RAW}/vendor={vendor}")
                ),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="quarantine_rate",
                    passed=rate <= settings.max_quarantine_rate,
                    metadata={"rate": rate, "max_rate": settings.max_quarantine_rate},
                ),
                dg.AssetCheckResult(
                    check_name="records_valid",
                    passed=quarantined == 0,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={"quarantined": quarantined, "reasons": reasons},
                ),
            ],
        )

    @dg.asset(
        name=intervals_name,
        description=f"Canonical {title} state occurrences owned by each UTC day (SPEC §5), "
        "split at midnight, with carried-in and open flags.",
        kinds={"parquet", "pandas"},
        deps=[raw_name],
        required_resource_keys={"agentstate", f"{vendor}_api"},
        check_specs=[
            dg.AssetCheckSpec(
                "no_overlaps",
                asset=intervals_name,
                blocking=True,
                description="Per agent, occurrences never overlap",
            ),
            dg.AssetCheckSpec(
                "unknown_states",
                asset=intervals_name,
                description="Warns on vendor states the mapping does not know",
            ),
        ],
        **common,
    )
    def state_intervals(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        settings = context.resources.agentstate.settings()
        tenant = vendor_spec(vendor).tenant_id(getattr(context.resources, f"{vendor}_api").config())
        landings = run_days(
            context,
            intervals_name,
            lambda day: pipeline.land_intervals(lake.PartitionKey(vendor, tenant, day), settings),
            workers=pipeline.INTERVAL_WORKERS,
        )
        overlaps = pd.concat([x.overlaps for x in landings], ignore_index=True)
        unknown: dict[str, int] = {}
        seconds: dict[str, float] = {}
        for landing in landings:
            for k, v in landing.unknown_vendor_states.items():
                unknown[k] = unknown.get(k, 0) + v
            for k, s in landing.seconds_by_state.items():
                seconds[k] = round(seconds.get(k, 0.0) + s, 3)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": sum(x.rows for x in landings),
                "agents": max(x.agents for x in landings),
                "seconds_by_state": seconds,
                "carry_in_rows": sum(x.carry_in_rows for x in landings),
                "open_rows": sum(x.open_rows for x in landings),
                "preview": dg.MetadataValue.md(landings[-1].preview.to_markdown(index=False)),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="no_overlaps",
                    passed=overlaps.empty,
                    metadata={
                        "overlapping_rows": len(overlaps),
                        "sample": dg.MetadataValue.md(overlaps.head(10).to_markdown()),
                    },
                ),
                dg.AssetCheckResult(
                    check_name="unknown_states",
                    passed=not unknown,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={"unknown_vendor_states": unknown},
                ),
            ],
        )

    assets = [raw_records, state_intervals]
    if vendor == "cxone":
        assets.append(_cxone_summary_asset(intervals_name, common))
    return assets


def _cxone_summary_asset(intervals_name: str, common: dict[str, Any]) -> dg.AssetsDefinition:
    name = "cxone_status_summary"

    @dg.asset(
        name=name,
        description="CXone's own agent-status summary report for every agent seen in the "
        "partition, for its UTC day — the other side of reconciliation.",
        kinds={"parquet"},
        deps=[intervals_name],
        required_resource_keys={"agentstate", "cxone_api"},
        check_specs=[
            dg.AssetCheckSpec(
                "every_agent_summarized",
                asset=name,
                description="Warns when the report has nothing for an agent",
            ),
        ],
        **common,
    )
    def cxone_status_summary(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        settings = context.resources.agentstate.settings()
        config = context.resources.cxone_api.config()
        landings = run_days(
            context, name, lambda day: pipeline.land_cxone_summary(day, settings, config)
        )
        without = sum(x.agents_without_summary for x in landings)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": sum(x.intervals for x in landings),
                "agents_asked": sum(x.agents_asked for x in landings),
                "agents_without_summary": without,
                "quarantined": sum(x.quarantined for x in landings),
                "lake_path": dg.MetadataValue.path(
                    settings.lake.location(f"{lake.SUMMARY}/vendor=cxone")
                ),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="every_agent_summarized",
                    passed=without == 0,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={"agents_without_summary": without},
                )
            ],
        )

    return cxone_status_summary
