"""The warehouse: every mart of docs/warehouse.md, updated for the days a run landed (one writer at a time, on any host).

It is partitioned like the vendor assets: materializing its partitions recomputes the report
days those UTC days touch, for every vendor and tenant landed in the lake, and nothing else.
Vendor jobs include it, so scheduled and UI job runs update the marts in the same run; runs
that materialize vendor assets alone are followed by the `warehouse_follows_vendor_runs`
sensor, which is running by default.
"""

import dagster as dg

from agentstate_etl.canonical import VENDORS
from agentstate_etl.marts.affected import landed_partitions
from agentstate_etl.marts.checks import CHECKS, CheckOutcome
from agentstate_etl.marts.update import update_warehouse
from assets.executors import WAREHOUSE_OP_TAGS
from assets.partitions import partition_days
from assets.resources import AgentStateSettings

WAREHOUSE = dg.AssetKey("warehouse")
VENDORS_TAG = "agentstate/vendors"  # a run may limit the warehouse to the vendors it landed
SCHEDULE_FILES = dg.AssetKey("schedule_files")
CHECK_DESCRIPTIONS = {
    "overlapping_intervals": "No agent is in two states at once (the days this run published)",
    "acw_matches_totals": "mart_acw_daily.acw_s, summed on its own, equals the totals mart's acw_s",
    "intervals_add_up_to_day": "The intervals of each agent-day in mart_state_totals_interval add "
    "up to its row of mart_state_totals_daily, state by state",
    "unknown_activities": "Warns on agent-days with scheduled time in activities the activity "
    "mapping does not know (never in adherence); extend AGENTSTATE_ACTIVITY_MAPPING",
    "reconciliation_flags": "Warns on reconciliation rows that drift past "
    "AGENTSTATE_DRIFT_TOLERANCE_S or miss a side (true count; sample worst first)",
}
SETTINGS_CHECK = "settings_unchanged"
CHECK_SEVERITY = {
    "overlapping_intervals": dg.AssetCheckSeverity.ERROR,
    "acw_matches_totals": dg.AssetCheckSeverity.ERROR,
    "intervals_add_up_to_day": dg.AssetCheckSeverity.ERROR,
    "reconciliation_flags": dg.AssetCheckSeverity.WARN,
    "unknown_activities": dg.AssetCheckSeverity.WARN,
}
# Any vendor partition that lands (from any run) brings its warehouse partition up to date;
# unlike `eager()`, it neither waits for every vendor's partition nor only the latest day.
# Landed schedule files update the days they schedule themselves (see schedule_files).
FOLLOWS_VENDOR_RUNS = (
    dg.AutomationCondition.any_deps_updated()
    .ignore(dg.AssetSelection.assets(SCHEDULE_FILES))
    .since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
)


def _check_result(name: str, outcome: CheckOutcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=name,
        passed=outcome.offending == 0,
        severity=CHECK_SEVERITY[name],
        metadata={
            "offending_rows": outcome.offending,
            "sample": dg.MetadataValue.md(
                outcome.sample.to_markdown(index=False) if outcome.offending else "(none)"
            ),
        },
    )


def build_warehouse_asset(
    partitions: dg.PartitionsDefinition, upstream: list[dg.AssetKey]
) -> dg.AssetsDefinition:
    """The warehouse, partitioned like the vendor assets, downstream of every tenant's."""

    @dg.asset(
        name=WAREHOUSE.path[-1],
        description="agent_state_intervals and every mart, in the DuckLake of "
        "AGENTSTATE_WAREHOUSE_URL; a run recomputes only the report days its partitions touch "
        "and commits them all in one snapshot.",
        kinds={"duckdb", "ducklake", "parquet"},
        deps=[*upstream, SCHEDULE_FILES],
        group_name="warehouse",
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        automation_condition=FOLLOWS_VENDOR_RUNS,
        op_tags=WAREHOUSE_OP_TAGS,  # one writer: its steps go to the warehouse host's queue
        check_specs=[
            *(
                dg.AssetCheckSpec(name, asset=WAREHOUSE, description=CHECK_DESCRIPTIONS[name])
                for name in CHECKS
            ),
            dg.AssetCheckSpec(
                SETTINGS_CHECK,
                asset=WAREHOUSE,
                description="Warns when the settings the marts depend on (report zone, "
                "interval grain, threshold, tolerance, mapping files) changed since the "
                "warehouse was built: every day is then recomputed, so no mart mixes the two",
            ),
        ],
    )
    def warehouse(
        context: dg.AssetExecutionContext, agentstate: AgentStateSettings
    ) -> dg.MaterializeResult:
        settings = agentstate.settings()
        vendors = context.run.tags.get(VENDORS_TAG, ",".join(VENDORS)).split(",")
        build = update_warehouse(
            settings, landed_partitions(settings.lake, partition_days(context), vendors)
        )
        for warning in build.warnings:
            context.log.warning(warning)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": build.rows_published["agent_state_intervals"],
                "rows_published": dict(build.rows_published),
                "reconciliation_status": dict(build.reconciliation_status),
                "partitions_read": build.partitions,
                "report_days": [str(d) for d in build.report_days],
                "warehouse": str(build.location),
                "rebuilt": build.rebuilt,
            },
            check_results=[
                *(_check_result(name, build.checks[name]) for name in CHECKS),
                dg.AssetCheckResult(
                    check_name=SETTINGS_CHECK,
                    passed=not build.settings_changed,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={
                        "settings_changed": len(build.settings_changed),
                        "summary": "; ".join(build.settings_changed) or "(unchanged)",
                    },
                ),
            ],
        )

    return warehouse


warehouse_sensor = dg.AutomationConditionSensorDefinition(
    "warehouse_follows_vendor_runs",
    target=dg.AssetSelection.assets(WAREHOUSE),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Brings the warehouse's partitions up to date after vendor partitions land "
    "from any run (UI, backfill, schedule).",
)
