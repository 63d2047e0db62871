"""The DuckDB warehouse: every mart of SPEC §6, rebuilt from the whole lake after vendor runs."""

import dagster as dg

from agentstate_etl.canonical import VENDORS
from agentstate_etl.marts import build_warehouse
from agentstate_etl.marts.checks import run_check
from assets.resources import AgentStateSettings

WAREHOUSE_DEPS = [f"{vendor}_state_intervals" for vendor in VENDORS] + [
    "cxone_status_summary",
    "schedule_files",
]


@dg.asset(
    description="agent_state_intervals and the marts (daily totals, not-ready reasons, ACW, "
    "reconciliation, interval totals, KPIs, adherence) in $AGENTSTATE_HOME/warehouse.duckdb, "
    "built into a new file and swapped in.",
    kinds={"duckdb", "sql"},
    deps=WAREHOUSE_DEPS,
    group_name="warehouse",
    automation_condition=dg.AutomationCondition.eager(),
)
def warehouse(agentstate: AgentStateSettings) -> dg.MaterializeResult:
    build = build_warehouse(agentstate.settings())
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": build.row_counts["agent_state_intervals"],
            "row_counts": build.row_counts,
            "reconciliation_status": build.reconciliation_status,
            "partitions": build.partitions,
            "path": dg.MetadataValue.path(str(build.path)),
        }
    )


def _rows_check(
    name: str, description: str, severity: dg.AssetCheckSeverity
) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=warehouse, name=name, description=description)
    def check(agentstate: AgentStateSettings) -> dg.AssetCheckResult:
        offending = run_check(agentstate.settings().warehouse, name)
        return dg.AssetCheckResult(
            passed=offending.empty,
            severity=severity,
            metadata={
                "offending_rows": len(offending),
                "sample": dg.MetadataValue.md(offending.to_markdown(index=False)),
            },
        )

    return check


warehouse_checks = [
    _rows_check(
        "reconciliation_flags",
        "Warns on reconciliation rows that drift past AGENTSTATE_DRIFT_TOLERANCE_S or miss a side",
        dg.AssetCheckSeverity.WARN,
    ),
    _rows_check(
        "overlapping_intervals",
        "No agent is in two states at once",
        dg.AssetCheckSeverity.ERROR,
    ),
    _rows_check(
        "acw_matches_totals",
        "mart_acw_daily.acw_s equals mart_state_totals_daily.acw_s for every agent-day",
        dg.AssetCheckSeverity.ERROR,
    ),
]
