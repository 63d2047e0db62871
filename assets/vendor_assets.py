"""Per-tenant daily assets, built by one factory: raw records → state intervals (→ summary).

Every tenant of every vendor gets its own assets, keyed `[vendor, tenant_slug, step]` and
grouped by vendor, so an operator sees and re-runs one tenant's day without touching the
others. Each asset loops over the days of its run, so a ranged backfill is one run
(`BackfillPolicy.single_run()`); every day is landed on its own and atomically, reported as its
own materialization with its own figures, and the run fails at the end naming each tenant day
that failed and why. Every vendor asset sits in the vendor's concurrency pool (`pool=vendor`),
so parallel tenants never exceed what the instance allows a vendor.
"""

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any, TypeVar

import dagster as dg
import pandas as pd

from agentstate_etl import lake, pipeline
from agentstate_etl.errors import AgentStateError, QuarantineRateExceeded
from agentstate_etl.settings import VendorSettings
from agentstate_etl.tenants import Tenant
from agentstate_etl.vendors.registry import vendor_spec
from assets.partitions import partition_days
from assets.resources import VendorApi, resource_key

T = TypeVar("T")
# One line per day a step finishes, for a person watching a long backfill (the CLI prints it;
# in Dagster's own logs the per-day figures are on each day's materialization).
PROGRESS = logging.getLogger("agentstate.progress")

RAW_RECORDS = "raw_records"
STATE_INTERVALS = "state_intervals"
STATUS_SUMMARY = "status_summary"


class PartitionsFailed(AgentStateError):
    """Some days of a run failed; the message names each tenant day and its cause."""

    def __init__(self, message: str, failures: dict[date, Exception] | None = None) -> None:
        super().__init__(message)
        self.failures = failures or {}


def asset_key(tenant: Tenant, step: str) -> dg.AssetKey:
    return dg.AssetKey([tenant.vendor, tenant.slug, step])


def tenant_steps(tenant: Tenant) -> list[str]:
    """The tenant's assets in order; a vendor with a summary report gets that one too."""
    steps = [RAW_RECORDS, STATE_INTERVALS]
    return [*steps, STATUS_SUMMARY] if vendor_spec(tenant.vendor).has_summary else steps


def tenant_asset_keys(tenant: Tenant) -> list[dg.AssetKey]:
    return [asset_key(tenant, step) for step in tenant_steps(tenant)]


def run_days(
    context: dg.AssetExecutionContext,
    tenant: VendorSettings,
    what: str,
    outcomes: Iterable[tuple[date, T | Exception]],
) -> list[T]:
    """Take each day's outcome (`pipeline.each_day`), keep going past failures, then fail
    naming them.

    One log line for the days that landed (each log line is a row in Dagster's event log, and
    the per-day figures are in each day's materialization), one per day that failed.
    """
    label = f"{tenant.vendor}/{tenant.tenant_id}"
    done: list[T] = []
    landed: list[date] = []
    failures: dict[date, Exception] = {}
    started = time.monotonic()
    for day, outcome in outcomes:
        if isinstance(outcome, Exception):
            failures[day] = outcome
            context.log.error(f"{label} {day} {what} failed: {outcome}")
            PROGRESS.info("%s %s %s: FAILED", label, day, what)
        else:
            done.append(outcome)
            landed.append(day)
            PROGRESS.info("%s %s %s: %s", label, day, what, _pace(outcome, started))
        started = time.monotonic()
    if landed:
        context.log.info(
            f"{label} {what}: {len(landed)} day(s) landed, {landed[0]} .. {landed[-1]}"
        )
    if failures:
        # the product's own errors say what happened; others keep their kind
        lines = "\n".join(
            f"  {label} {day}: "
            + (
                str(error)
                if isinstance(error, AgentStateError)
                else f"{type(error).__name__}: {error}"
            )
            for day, error in sorted(failures.items())
        )
        raise PartitionsFailed(
            f"{label} {what}: {len(failures)} partition(s) failed\n{lines}", failures
        )
    return done


def _pace(outcome: object, started: float) -> str:
    """What a day's step did, for the progress lines: records fetched and their rate."""
    seconds = max(time.monotonic() - started, 1e-3)
    if note := getattr(outcome, "note", ""):
        return str(note)
    fetched = getattr(outcome, "fetched", None)
    if fetched is None:
        return f"done in {seconds:.1f} s"
    return f"{fetched:,} records in {seconds:.1f} s ({fetched / seconds:,.0f} records/s)"


def report_day(context: dg.AssetExecutionContext, day: date, metadata: Mapping[str, Any]) -> None:
    """The figures of one day, on that partition's own materialization (a ranged run reports
    each day separately, not the range's totals on every day)."""
    context.add_asset_metadata(dict(metadata), partition_key=day.isoformat())


def markdown(frame: pd.DataFrame) -> dg.MetadataValue:
    return dg.MetadataValue.md(frame.to_markdown(index=False))


def build_tenant_assets(
    tenant: Tenant, partitions_def: dg.PartitionsDefinition
) -> list[dg.AssetsDefinition]:
    """The daily assets of one vendor tenant."""
    vendor, spec = tenant.vendor, vendor_spec(tenant.vendor)
    api = resource_key(tenant)
    raw_key, intervals_key = asset_key(tenant, RAW_RECORDS), asset_key(tenant, STATE_INTERVALS)
    who = f"{spec.title} tenant {tenant.declared_id or tenant.slug}"
    common: dict[str, Any] = {
        "key_prefix": [vendor, tenant.slug],
        "group_name": vendor,
        "partitions_def": partitions_def,
        "backfill_policy": dg.BackfillPolicy.single_run(),
        "pool": vendor,
        "required_resource_keys": {"agentstate", api},
        "tags": {"agentstate/vendor": vendor, "agentstate/tenant": tenant.slug},
    }

    def tenant_settings(context: dg.AssetExecutionContext) -> VendorSettings:
        resource: VendorApi = getattr(context.resources, api)
        return resource.settings()

    @dg.asset(
        name=RAW_RECORDS,
        description=f"{who}: records of each UTC day plus the lookback window, validated with "
        "Pandera; valid rows in lake/raw, rejected rows with their reason in lake/quarantine.",
        kinds={"parquet", "pandera"},
        check_specs=[
            dg.AssetCheckSpec(
                "quarantine_rate",
                asset=raw_key,
                blocking=True,
                description="Quarantined share within AGENTSTATE_MAX_QUARANTINE_RATE",
            ),
            dg.AssetCheckSpec(
                "records_valid",
                asset=raw_key,
                description="Warns when any record was quarantined (Pandera)",
            ),
            *(
                [
                    dg.AssetCheckSpec(
                        "roster_has_a_file",
                        asset=raw_key,
                        description="Warns when a day already over was fetched without a "
                        "roster file: the vendor's snapshot names only the agents logged in now, "
                        "so agents of that day who are not, and were never landed, are missed",
                    )
                ]
                if spec.roster is not None
                else []
            ),
            *(
                dg.AssetCheckSpec(flag.name, asset=raw_key, description=flag.description)
                for flag in spec.day_flags
            ),
            *(
                [
                    dg.AssetCheckSpec(
                        "chains_complete",
                        asset=raw_key,
                        description="Warns when an interval of the day names a successor "
                        f"({spec.chains.successor}) the vendor never served: a gap in its data",
                    )
                ]
                if spec.chains is not None
                else []
            ),
        ],
        **common,
    )
    def raw_records(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        settings = context.resources.agentstate.settings()
        source = tenant_settings(context)
        days = partition_days(context)
        try:
            landings = run_days(
                context, source, RAW_RECORDS, pipeline.land_raw_days(source, days, settings)
            )
        except PartitionsFailed as failed:
            over = {
                str(day): round(error.rate, 4)
                for day, error in sorted(failed.failures.items())
                if isinstance(error, QuarantineRateExceeded)
            }
            if over:  # the blocking check fails, naming the days, before the asset does
                context.log_event(
                    dg.AssetCheckEvaluation(
                        asset_key=raw_key,
                        check_name="quarantine_rate",
                        passed=False,
                        metadata={
                            "days_over": len(over),
                            "rates": over,
                            "max_rate": settings.max_quarantine_rate,
                        },
                    )
                )
            raise
        reasons: Counter[str] = Counter()
        for x in landings:
            reasons += Counter(x.quarantine_reasons)
            report_day(
                context,
                x.day,
                {
                    "dagster/row_count": x.valid,
                    "tenant_id": x.key.tenant,
                    "fetched": x.fetched,
                    "quarantined": x.quarantined,
                    "quarantine_rate": x.quarantine_rate,
                    "quarantine_reasons": x.quarantine_reasons,
                    "fetch": x.fetch_stats,
                    **({"note": x.note} if x.note else {}),
                    **{k: v for k, v in x.cross_check.items() if v is not None},
                    **(x.chain_gaps.metadata() if x.chain_gaps is not None else {}),
                    "extracted_at": x.extracted_at.isoformat(),
                    "lake_path": dg.MetadataValue.path(
                        settings.lake.location(f"{lake.RAW}/{x.key.path()}")
                    ),
                },
            )
        fetched = sum(x.fetched for x in landings)
        quarantined = sum(x.quarantined for x in landings)
        gaps = [(x.day, x.chain_gaps) for x in landings if x.chain_gaps is not None]
        chain_checks = (
            [
                dg.AssetCheckResult(
                    check_name="chains_complete",
                    passed=not any(g.count for _, g in gaps),
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={
                        "chain_gaps": sum(g.count for _, g in gaps),
                        "days_with_gaps": [str(day) for day, g in gaps if g.count],
                        "sample": [s for _, g in gaps for s in g.sample][:5],
                    },
                )
            ]
            if spec.chains is not None
            else []
        )
        today = settings.now().date()
        without_file = [
            str(x.day)
            for x in landings
            if x.day < today
            and "agents_queried" in x.fetch_stats
            and not x.fetch_stats.get("roster_from_file")
        ]
        roster_checks = (
            [
                dg.AssetCheckResult(
                    check_name="roster_has_a_file",
                    passed=not without_file,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={
                        "days_without_roster_file": len(without_file),
                        "days": without_file[:10],
                        "fix": "give the tenant a roster file (docs/vendors.md) and re-run",
                    },
                )
            ]
            if spec.roster is not None
            else []
        )
        flag_checks = []
        for flag in spec.day_flags:
            flagged = [str(x.day) for x in landings if x.cross_check.get(flag.flag)]
            flag_checks.append(
                dg.AssetCheckResult(
                    check_name=flag.name,
                    passed=not flagged,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={"days_flagged": len(flagged), "days": flagged[:10], "fix": flag.fix},
                )
            )
        rate = quarantined / fetched if fetched else 0.0
        return dg.MaterializeResult(
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
                    metadata={"quarantined": quarantined, "reasons": dict(reasons)},
                ),
                *chain_checks,
                *roster_checks,
                *flag_checks,
            ],
        )

    @dg.asset(
        name=STATE_INTERVALS,
        description=f"{who}: canonical state occurrences owned by each UTC day (docs/DESIGN.md, occurrence semantics), "
        "split at midnight, with carried-in and open flags.",
        kinds={"parquet", "pandas"},
        deps=[raw_key],
        check_specs=[
            dg.AssetCheckSpec(
                "no_overlaps",
                asset=intervals_key,
                blocking=True,
                description="Per agent, occurrences never overlap",
            ),
            dg.AssetCheckSpec(
                "unknown_states",
                asset=intervals_key,
                description="Warns on vendor states the mapping does not know",
            ),
        ],
        **common,
    )
    def state_intervals(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        settings = context.resources.agentstate.settings()
        source = tenant_settings(context)
        landings = run_days(
            context,
            source,
            STATE_INTERVALS,
            pipeline.each_day(
                lambda day: pipeline.land_intervals(
                    lake.PartitionKey(vendor, source.tenant_id, day),
                    settings,
                    source.reason_names,
                ),
                partition_days(context),
                workers=pipeline.INTERVAL_WORKERS,
            ),
        )
        unknown: Counter[str] = Counter()
        for x in landings:
            unknown += Counter(x.unknown_vendor_states)
            report_day(
                context,
                x.key.day,
                {
                    "dagster/row_count": x.rows,
                    "tenant_id": x.key.tenant,
                    "agents": x.agents,
                    "seconds_by_state": x.seconds_by_state,
                    "carry_in_rows": x.carry_in_rows,
                    "open_rows": x.open_rows,
                    "unknown_vendor_states": x.unknown_vendor_states,
                    "preview": markdown(x.preview),
                },
            )
        overlaps = pd.concat([x.overlaps for x in landings], ignore_index=True)
        return dg.MaterializeResult(
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
                    metadata={"unknown_vendor_states": dict(unknown)},
                ),
            ],
        )

    assets = [raw_records, state_intervals]
    if spec.has_summary:
        assets.append(_summary_asset(tenant, who, intervals_key, common, tenant_settings))
    return assets


def _summary_asset(
    tenant: Tenant,
    who: str,
    intervals_key: dg.AssetKey,
    common: dict[str, Any],
    tenant_settings: Callable[[dg.AssetExecutionContext], VendorSettings],
) -> dg.AssetsDefinition:
    key = asset_key(tenant, STATUS_SUMMARY)

    @dg.asset(
        name=STATUS_SUMMARY,
        description=f"{who}: the vendor's own agent-status summary report for every agent seen "
        "in the partition, for its UTC day — the other side of reconciliation.",
        kinds={"parquet"},
        deps=[intervals_key],
        check_specs=[
            dg.AssetCheckSpec(
                "every_agent_summarized",
                asset=key,
                description="Warns when the report has nothing for an agent",
            ),
        ],
        **common,
    )
    def status_summary(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        settings = context.resources.agentstate.settings()
        source = tenant_settings(context)
        landings = run_days(
            context,
            source,
            STATUS_SUMMARY,
            pipeline.each_day(
                lambda day: pipeline.land_summary(source, day, settings), partition_days(context)
            ),
        )
        for x in landings:
            report_day(
                context,
                x.key.day,
                {
                    "dagster/row_count": x.intervals,
                    "tenant_id": x.key.tenant,
                    "agents_asked": x.agents_asked,
                    "agents_without_summary": x.agents_without_summary,
                    "quarantined": x.quarantined,
                    "fetch": x.fetch_stats,
                    "lake_path": dg.MetadataValue.path(
                        settings.lake.location(f"{lake.SUMMARY}/{x.key.path()}")
                    ),
                },
            )
        without = sum(x.agents_without_summary for x in landings)
        return dg.MaterializeResult(
            check_results=[
                dg.AssetCheckResult(
                    check_name="every_agent_summarized",
                    passed=without == 0,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={"agents_without_summary": without},
                )
            ],
        )

    return status_summary
