"""One slice of a warehouse update, computed: the `.sql` files of `sql/` run in name order on
an in-memory DuckDB whose session zone is the report zone, over the lake partitions the slice
reads (`days.DayPlan`; more days than it owns, which `publish` keeps to its own).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from agentstate_etl import lake, schedules
from agentstate_etl.intervals import INTERVAL_SCHEMA
from agentstate_etl.lake import Lake, PartitionKey
from agentstate_etl.lake_schemas import AGENT_SITES_SCHEMA, SUMMARY_REQUEST_SCHEMA, SUMMARY_SCHEMA
from agentstate_etl.marts.days import DayPlan, utc_days_of
from agentstate_etl.reasons import reason_groups
from agentstate_etl.settings import (
    Settings,
    check_adherence_threshold,
    check_interval_minutes,
    parse_zone,
)
from agentstate_etl.sql_text import literal

SQL_DIR = Path(__file__).with_name("sql")
MEMORY_LIMIT = "256MB"  # DuckDB spills beyond this
COVERAGE_SCHEMA = pa.schema(
    [
        ("vendor", pa.string()),
        ("tenant_id", pa.string()),
        ("partition_date", pa.date32()),
        ("horizon", pa.timestamp("ms", tz="UTC")),
    ]
)
LANDED_SCHEMA = pa.schema(
    [
        ("vendor", pa.string()),
        ("tenant_id", pa.string()),
        ("day", pa.date32()),
        ("is_complete", pa.bool_()),
    ]
)


def sql_files() -> list[Path]:
    return sorted(SQL_DIR.glob("*.sql"))


def tenants_of(lk: Lake, vendor: str) -> list[str]:
    return lk.tenants(lake.INTERVALS, vendor) if vendor else []


def _load(
    con: duckdb.DuckDBPyConnection, lk: Lake, name: str, objects: list[str], schema: pa.Schema
) -> None:
    """A table from committed lake objects: DuckDB reads local files itself (a view: the SQL
    that reads it once copies nothing first), S3 through Arrow."""
    if objects and lk.is_local:
        files = ", ".join(literal(lk.location(o)) for o in objects)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet([{files}])")
        return
    source = lk.dataset(objects, schema) if objects else schema.empty_table()
    con.register("lake_source", source)
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM lake_source")
    con.unregister("lake_source")


def _completeness(lk: Lake, vendor: str, tenants: list[str], plan: DayPlan, zone: str) -> pa.Table:
    """Per tenant and report day of the slice: is every UTC partition it spans landed whole
    and for good (its intervals built, its raw landing past the day's end)?"""
    zone_info = parse_zone(zone, "AGENTSTATE_REPORT_TZ")
    rows = []

    def complete(key: PartitionKey) -> bool:
        raw = lk.manifest(lake.RAW, key)
        return raw is not None and lk.has(lake.INTERVALS, key) and lake.landing_complete(raw)

    for tenant in tenants:
        for day in plan.report_days:
            landed = all(
                complete(PartitionKey(vendor, tenant, utc_day))
                for utc_day in utc_days_of(day, zone_info)
            )
            rows.append((vendor, tenant, day, landed))
    return pa.Table.from_pylist(
        [dict(zip(LANDED_SCHEMA.names, row, strict=True)) for row in rows], schema=LANDED_SCHEMA
    )


def _coverage(lk: Lake, vendor: str, tenants: list[str], days: Iterable[date]) -> pa.Table:
    """What was extracted, per landed partition: from its day's start to its horizon (the
    raw landing's, capped at the day's end). Adherence counts only this time."""
    rows = []
    for tenant in tenants:
        for day in days:
            key = PartitionKey(vendor, tenant, day)
            raw = lk.manifest(lake.RAW, key)
            if (
                raw is None
                or not lk.has(lake.INTERVALS, key)
                or lake.EXTRACTED_AT not in raw.metadata
            ):
                continue
            horizon = datetime.fromisoformat(raw.metadata[lake.EXTRACTED_AT])
            day_end = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
            rows.append((vendor, tenant, day, min(horizon, day_end)))
    return pa.Table.from_pylist(
        [dict(zip(COVERAGE_SCHEMA.names, row, strict=True)) for row in rows],
        schema=COVERAGE_SCHEMA,
    )


def compute_slice(
    settings: Settings, spill: Path, vendor: str, plan: DayPlan
) -> duckdb.DuckDBPyConnection:
    """Every mart of docs/warehouse.md over the partitions the slice reads, in a new in-memory
    connection the caller closes."""
    lk = settings.lake
    tenants = tenants_of(lk, vendor)
    con = duckdb.connect(config={"temp_directory": str(spill), "memory_limit": MEMORY_LIMIT})
    try:
        con.execute(f"SET TimeZone = {literal(settings.report_tz)}")
        con.execute("SET preserve_insertion_order = false")
        read = [PartitionKey(vendor, t, d) for t in tenants for d in plan.read_days]
        owned = [PartitionKey(vendor, t, d) for t in tenants for d in plan.utc_days]
        _load(con, lk, "lake_intervals", lk.objects(lake.INTERVALS, read), INTERVAL_SCHEMA)
        _load(con, lk, "lake_summary", lk.objects(lake.SUMMARY, owned), SUMMARY_SCHEMA)
        _load(
            con,
            lk,
            "lake_summary_requests",
            lk.objects(lake.SUMMARY_REQUESTS, owned),
            SUMMARY_REQUEST_SCHEMA,
        )
        _load(con, lk, "lake_agent_sites", lk.objects(lake.AGENT_SITES, owned), AGENT_SITES_SCHEMA)
        con.register(
            "report_day_landed", _completeness(lk, vendor, tenants, plan, settings.report_tz)
        )
        con.register("partition_coverage", _coverage(lk, vendor, tenants, plan.read_days))
        con.register("reason_mapping", reason_groups())
        con.execute("SET VARIABLE drift_tolerance_s = ?", [settings.drift_tolerance_s])
        con.execute(
            "SET VARIABLE interval_minutes = ?", [check_interval_minutes(settings.interval_minutes)]
        )
        con.execute(
            "SET VARIABLE adherence_threshold_s = ?",
            [check_adherence_threshold(settings.adherence_threshold_s)],
        )
        # a report day's adherence also counts the previous day's segments that run past
        # midnight into it; a day more on each side covers a WFM tool that names files in its
        # own zone
        schedule_days = {
            day + timedelta(days=offset) for day in plan.report_days for offset in range(-2, 2)
        }
        for name, table in schedules.warehouse_inputs(settings, sorted(schedule_days)).items():
            con.register(f"{name}_input", table)
            con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_input")
            con.unregister(f"{name}_input")
        # a schedule file covers every vendor; this slice publishes its own vendor's days only
        con.execute("DELETE FROM schedule_segments WHERE vendor IS DISTINCT FROM ?", [vendor])
        # typed: an empty list of days has no element type to infer
        con.execute("SET VARIABLE utc_days = ?::DATE[]", [list(plan.utc_days)])
        con.execute("SET VARIABLE report_days = ?::DATE[]", [list(plan.report_days)])
        for path in sql_files():
            con.execute(path.read_text())
    except BaseException:
        con.close()
        raise
    return con
