"""Build the DuckDB warehouse from the Parquet lake: the `.sql` files of `sql/`, in name order.

The warehouse is built into a new file beside the old one and renamed over it, so an analyst
holding the previous file open never makes a build fail, and a failed build leaves the
previous warehouse untouched.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from agentstate_etl import lake, schedules
from agentstate_etl.intervals import INTERVAL_SCHEMA
from agentstate_etl.settings import (
    Settings,
    check_adherence_threshold,
    check_interval_minutes,
    parse_zone,
)

SQL_DIR = Path(__file__).with_name("sql")
MART_TABLES = (
    "agent_state_intervals",
    "mart_state_totals_daily",
    "mart_not_ready_reasons_daily",
    "mart_acw_daily",
    "mart_reconciliation",
    "mart_state_totals_interval",
    "mart_kpis_daily",
    "mart_adherence_daily",
    "mart_adherence_exceptions",
)

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


@dataclass(frozen=True)
class WarehouseBuild:
    path: Path
    row_counts: dict[str, int]
    partitions: int
    reconciliation_status: dict[str, int] = field(default_factory=dict)


WAREHOUSE_MEMORY_LIMIT = "256MB"


def sql_files() -> list[Path]:
    return sorted(SQL_DIR.glob("*.sql"))


def _files_or_empty(files: list[Path], schema: pa.Schema, scratch: Path) -> list[str]:
    """DuckDB cannot read an empty file list, so an empty dataset reads one empty file."""
    if files:
        return [str(f) for f in files]
    empty = scratch / f"empty-{uuid.uuid4().hex}.parquet"
    pq.write_table(schema.empty_table(), empty)
    return [str(empty)]


def build_warehouse(settings: Settings) -> WarehouseBuild:
    """Rebuild every table of SPEC §6 from the lake and swap the new file in atomically."""
    zone = settings.report_tz
    parse_zone(zone, "AGENTSTATE_REPORT_TZ")
    target = settings.warehouse
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_name(f".{target.name}.{uuid.uuid4().hex}.building")
    scratch = target.parent / ".scratch"
    scratch.mkdir(exist_ok=True)
    interval_files = lake.dataset_files(settings.lake, lake.INTERVALS)
    inputs = schedules.warehouse_inputs(settings)  # schedule_segments, activity_mapping
    try:
        with duckdb.connect(str(building)) as con:
            con.execute(f"SET TimeZone = '{zone}'")  # validated IANA name above
            # memory stays bounded whatever the size of the lake: DuckDB spills beyond this
            con.execute(f"SET memory_limit = '{WAREHOUSE_MEMORY_LIMIT}'")
            # tables are loaded in parallel, in any order; the marts keep their ORDER BY
            con.execute("SET preserve_insertion_order = false")
            con.execute(
                "SET VARIABLE interval_files = ?",
                [_files_or_empty(interval_files, INTERVAL_SCHEMA, scratch)],
            )
            con.execute(
                "SET VARIABLE summary_files = ?",
                [
                    _files_or_empty(
                        lake.dataset_files(settings.lake, lake.SUMMARY), SUMMARY_SCHEMA, scratch
                    )
                ],
            )
            con.execute(
                "SET VARIABLE summary_request_files = ?",
                [
                    _files_or_empty(
                        lake.dataset_files(settings.lake, lake.SUMMARY_REQUESTS),
                        SUMMARY_REQUEST_SCHEMA,
                        scratch,
                    )
                ],
            )
            con.execute("SET VARIABLE drift_tolerance_s = ?", [settings.drift_tolerance_s])
            con.execute(
                "SET VARIABLE interval_minutes = ?",
                [check_interval_minutes(settings.interval_minutes)],
            )
            con.execute(
                "SET VARIABLE adherence_threshold_s = ?",
                [check_adherence_threshold(settings.adherence_threshold_s)],
            )
            for name, table in inputs.items():
                con.register(f"{name}_input", table)
                con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_input")
                con.unregister(f"{name}_input")
            for path in sql_files():
                con.execute(path.read_text())
            counts = {
                table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
                for table in MART_TABLES
            }
            statuses = dict(
                con.execute(
                    "SELECT status, count(*) FROM mart_reconciliation GROUP BY status"
                ).fetchall()
            )
        os.replace(building, target)
    finally:
        building.unlink(missing_ok=True)
        for leftover in scratch.glob("empty-*.parquet"):
            leftover.unlink(missing_ok=True)
    return WarehouseBuild(
        path=target,
        row_counts=counts,
        partitions=len(interval_files),
        reconciliation_status=statuses,
    )
