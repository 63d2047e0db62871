"""The warehouse (docs/warehouse.md), updated incrementally: only the days a run touched are recomputed.

An update reads, per vendor, the lake partitions of every tenant that the touched days need
(`days.plan_days`), runs the `.sql` files of `sql/` in name order on an in-memory DuckDB
whose session zone is the report zone, and publishes each table's rows for the days it owns
as Parquet files of a new mart generation (`store.MartStore`); `warehouse.duckdb` holds views
over the current generation (`catalog`). A full rebuild is the same computation over every
partition in the lake, in slices of `CHUNK_DAYS`, so it gives the identical warehouse.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from agentstate_etl import lake, schedules
from agentstate_etl.canonical import VENDORS
from agentstate_etl.intervals import INTERVAL_SCHEMA
from agentstate_etl.lake import Lake, PartitionKey
from agentstate_etl.marts import catalog
from agentstate_etl.marts.days import DayPlan, plan_days, utc_days_of
from agentstate_etl.marts.store import SCHEMA_FILE, MartStore
from agentstate_etl.reasons import reason_groups
from agentstate_etl.settings import (
    Settings,
    check_adherence_threshold,
    check_interval_minutes,
    parse_zone,
)

SQL_DIR = Path(__file__).with_name("sql")
CHECKS_DIR = Path(__file__).with_name("checks")
UTC_DAY, REPORT_DAY = "utc", "report"
# Every published table, the column that says which day owns a row, and which kind of day.
PUBLISHED: dict[str, tuple[str, str]] = {
    "agent_state_intervals": ("partition_date", UTC_DAY),
    "agent_days": ("partition_date", UTC_DAY),
    "mart_state_totals_daily": ("day", REPORT_DAY),
    "mart_not_ready_reasons_daily": ("day", REPORT_DAY),
    "mart_acw_daily": ("day", REPORT_DAY),
    "mart_reconciliation": ("day", UTC_DAY),
    "mart_state_totals_interval": ("day", REPORT_DAY),
    "mart_kpis_daily": ("day", REPORT_DAY),
    "mart_adherence_daily": ("day", REPORT_DAY),
    "mart_adherence_exceptions": ("day", REPORT_DAY),
    "rta_snapshots": ("partition_date", UTC_DAY),
}
MART_TABLES = (
    "agent_state_intervals",
    "mart_state_totals_daily",
    "mart_not_ready_reasons_daily",
    "mart_acw_daily",
    "mart_reconciliation",
    "dim_agents",
    "mart_state_totals_interval",
    "mart_kpis_daily",
    "mart_adherence_daily",
    "mart_adherence_exceptions",
    "rta_snapshots",
)
CHECKS = (
    "overlapping_intervals",
    "acw_matches_totals",
    "intervals_add_up_to_day",
    "reconciliation_flags",
    "unknown_activities",
)
CHUNK_DAYS = 7  # UTC days per slice of a rebuild: memory stays bounded by a week of data
WAREHOUSE_MEMORY_LIMIT = "256MB"
CHECK_SAMPLE_ROWS = 20

SUMMARY_SCHEMA = pa.schema(
    [
        ("vendor", pa.string()),
        ("tenant_id", pa.string()),
        ("agent_id", pa.string()),
        ("partition_date", pa.date32()),
        ("state", pa.string()),
        ("vendor_state", pa.string()),
        ("reason", pa.string()),
        ("start_ts", pa.timestamp("ms", tz="UTC")),
        ("end_ts", pa.timestamp("ms", tz="UTC")),
        ("summary_s", pa.float64()),
    ]
)
SUMMARY_REQUEST_SCHEMA = pa.schema(
    [
        ("vendor", pa.string()),
        ("tenant_id", pa.string()),
        ("agent_id", pa.string()),
        ("partition_date", pa.date32()),
        ("intervals", pa.int64()),
    ]
)
AGENT_SITES_SCHEMA = pa.schema(
    [
        ("vendor", pa.string()),
        ("tenant_id", pa.string()),
        ("agent_id", pa.string()),
        ("partition_date", pa.date32()),
        ("site_id", pa.string()),
    ]
)
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


@dataclass
class CheckOutcome:
    """A table rule over the published days: the true count of offending rows and a sample."""

    offending: int = 0
    sample: pd.DataFrame = field(default_factory=pd.DataFrame)

    def add(self, rows: pd.DataFrame) -> None:
        self.offending += len(rows)
        if len(self.sample) < CHECK_SAMPLE_ROWS and not rows.empty:
            self.sample = pd.concat([self.sample, rows], ignore_index=True).head(CHECK_SAMPLE_ROWS)


@dataclass
class WarehouseBuild:
    path: Path
    partitions: int
    report_days: list[date] = field(default_factory=list)
    rows_published: Counter[str] = field(default_factory=Counter)
    reconciliation_status: Counter[str] = field(default_factory=Counter)
    checks: dict[str, CheckOutcome] = field(
        default_factory=lambda: {c: CheckOutcome() for c in CHECKS}
    )
    warnings: list[str] = field(default_factory=list)


def sql_files() -> list[Path]:
    return sorted(SQL_DIR.glob("*.sql"))


def mart_store(settings: Settings) -> MartStore:
    return MartStore(settings.home / "marts")


def view_tables() -> list[str]:
    return list(PUBLISHED)


def _tenants(lk: Lake, vendor: str) -> list[str]:
    return lk.tenants(lake.INTERVALS, vendor) if vendor else []


def _load(
    con: duckdb.DuckDBPyConnection, lk: Lake, name: str, objects: list[str], schema: pa.Schema
) -> None:
    """A table from committed lake objects: DuckDB reads local files itself, S3 through Arrow."""
    if objects and lk.is_local:
        con.execute("SET VARIABLE lake_files = ?", [[lk.location(o) for o in objects]])
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet(getvariable('lake_files'))")
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


def _compute_slice(
    settings: Settings, spill: Path, vendor: str, tenants: list[str], plan: DayPlan
) -> duckdb.DuckDBPyConnection:
    """Every mart of docs/warehouse.md over the partitions the slice reads (more days than it owns)."""
    lk = settings.lake
    con = duckdb.connect(config={"temp_directory": str(spill)})
    con.execute(f"SET TimeZone = '{settings.report_tz}'")  # validated IANA name
    con.execute(f"SET memory_limit = '{WAREHOUSE_MEMORY_LIMIT}'")  # DuckDB spills beyond this
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
    con.register("report_day_landed", _completeness(lk, vendor, tenants, plan, settings.report_tz))
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
    # a report day's adherence also counts the previous day's segments that run past midnight
    # into it; a day more on each side covers a WFM tool that names files in its own zone
    schedule_days = {
        day + timedelta(days=offset) for day in plan.report_days for offset in range(-2, 2)
    }
    for name, table in schedules.warehouse_inputs(settings, sorted(schedule_days)).items():
        con.register(f"{name}_input", table)
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_input")
        con.unregister(f"{name}_input")
    # a schedule file covers every vendor; this slice publishes its own vendor's days only
    con.execute("DELETE FROM schedule_segments WHERE vendor IS DISTINCT FROM ?", [vendor])
    con.execute("SET VARIABLE utc_days = ?", [list(plan.utc_days)])
    con.execute("SET VARIABLE report_days = ?", [list(plan.report_days)])
    for path in sql_files():
        con.execute(path.read_text())
    return con


def _publish(
    con: duckdb.DuckDBPyConnection, generation_dir: Path, staging: Path, table: str
) -> int:
    """Keep the rows of the days this slice owns and write them per (vendor, day)."""
    column, kind = PUBLISHED[table]
    days = "utc_days" if kind == UTC_DAY else "report_days"
    # the neighbours' rows go (a DELETE: copying the kept rows instead cost 0.2 s a week)
    con.execute(
        f"DELETE FROM {table} WHERE list_contains(getvariable('{days}'), {column}) IS NOT TRUE"
    )
    rows = int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
    schema_file = generation_dir / table / SCHEMA_FILE
    if not schema_file.exists():
        schema_file.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY (SELECT * FROM {table} LIMIT 0) TO '{schema_file}' (FORMAT parquet)")
    if rows:
        staging.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"COPY {table} TO '{staging / table}' (FORMAT parquet, COMPRESSION zstd, "
            f"PARTITION_BY (vendor, {column}), WRITE_PARTITION_COLUMNS true)"
        )
    return rows


def update_warehouse(
    settings: Settings, partitions: Iterable[PartitionKey] | None = None
) -> WarehouseBuild:
    """Recompute the days `partitions` touch (every partition in the lake when None)."""
    zone = parse_zone(settings.report_tz, "AGENTSTATE_REPORT_TZ")
    lk = settings.lake
    rebuild = partitions is None
    touched = sorted(set(lk.partitions(lake.INTERVALS) if partitions is None else partitions))
    days_by_vendor: dict[str, set[date]] = defaultdict(set)
    for key in touched:
        days_by_vendor[key.vendor].add(key.day)
    slices = [
        (vendor, plan)
        for vendor, days in sorted(days_by_vendor.items())
        for plan in plan_days(days, zone, CHUNK_DAYS)
    ]
    store = mart_store(settings)
    build = WarehouseBuild(path=settings.warehouse, partitions=len(touched))
    with store.writer(PUBLISHED, rebuild) as generation, store.spill_dir() as spill:
        # with nothing to compute, one empty slice still writes every table's schema file
        for number, (vendor, plan) in enumerate(slices or [("", DayPlan((), (), ()))]):
            con = _compute_slice(settings, spill, vendor, _tenants(lk, vendor), plan)
            try:
                staging = generation.path / f".staging-{number}"
                for table, (_, kind) in PUBLISHED.items():
                    build.rows_published[table] += _publish(con, generation.path, staging, table)
                    owned = plan.utc_days if kind == UTC_DAY else plan.report_days
                    generation.replace(table, [(vendor, day) for day in owned])
                    generation.adopt(table, staging / table)
                build.reconciliation_status.update(
                    dict(
                        con.execute(
                            "SELECT status, count(*) FROM mart_reconciliation GROUP BY status"
                        ).fetchall()
                    )
                )
                for check in CHECKS:
                    sql = (CHECKS_DIR / f"{check}.sql").read_text()
                    build.checks[check].add(con.sql(sql).to_arrow_table().to_pandas())
            finally:
                con.close()
            build.report_days.extend(plan.report_days)
    message = catalog.ensure_warehouse_file(settings.warehouse, store.current, view_tables())
    if message:
        build.warnings.append(message)
    return build


def landed_partitions(
    lk: Lake, days: Iterable[date], vendors: Iterable[str] = VENDORS
) -> list[PartitionKey]:
    """Every vendor tenant's partition of these UTC days that has intervals in the lake."""
    return [
        key
        for vendor in vendors
        for tenant in lk.tenants(lake.INTERVALS, vendor)
        for day in days
        if lk.has(lake.INTERVALS, key := PartitionKey(vendor, tenant, day))
    ]


def update_schedule_days(settings: Settings, schedule_days: Iterable[date]) -> WarehouseBuild:
    """The marts of report days whose schedule changed (and the next day, which its segments
    may run into), for every vendor: the partitions of the UTC days they overlap."""
    zone = parse_zone(settings.report_tz, "AGENTSTATE_REPORT_TZ")
    utc_days = {
        utc_day
        for day in schedule_days
        for report_day in (day, day + timedelta(days=1))
        for utc_day in utc_days_of(report_day, zone)
    }
    return update_warehouse(settings, landed_partitions(settings.lake, sorted(utc_days)))


def build_warehouse(settings: Settings) -> WarehouseBuild:
    """A full rebuild from the lake (no vendor calls); equals the incrementally kept warehouse."""
    return update_warehouse(settings, None)
