"""Canonical events → state occurrences owned by one UTC-day partition (SPEC §5, docs/DESIGN.md).

Set work for DuckDB: each vendor's landed records become canonical events through
`sql/events_<vendor>.sql` (the state mapping joined in as a table), and `sql/intervals.sql`
sorts, drops repeated records, finds each occurrence's end (the data's own end, capped by the
agent's next event) and clips to the partition and the horizon, for all agents at once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from agentstate_etl.canonical import INTERVAL_COLUMNS
from agentstate_etl.mapping import state_mapping

SQL_DIR = Path(__file__).with_name("sql")

INTERVAL_SCHEMA = pa.schema(
    [
        ("vendor", pa.string()),
        ("tenant_id", pa.string()),
        ("agent_id", pa.string()),
        ("agent_name", pa.string()),
        ("state", pa.string()),
        ("vendor_state", pa.string()),
        ("reason", pa.string()),
        ("start_ts", pa.timestamp("ms", tz="UTC")),
        ("end_ts", pa.timestamp("ms", tz="UTC")),
        ("duration_s", pa.float64()),
        ("partition_date", pa.date32()),
        ("is_carry_in", pa.bool_()),
        ("is_open", pa.bool_()),
    ]
)
assert tuple(INTERVAL_SCHEMA.names) == INTERVAL_COLUMNS


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def fetch_window(day: date, lookback_hours: float) -> tuple[datetime, datetime]:
    """What a partition fetches: its own day plus the lookback for carried-in states."""
    start, end = day_bounds(day)
    return start - timedelta(hours=lookback_hours), end


def horizon_for(day: date, extracted_at: datetime) -> datetime:
    """Where open occurrences stop: the partition's end, or the extraction time if earlier."""
    return min(day_bounds(day)[1], extracted_at)


def _connect() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def _epoch_ms(moment: datetime) -> int:
    return int(pd.Timestamp(moment).value // 1_000_000)


def interval_table(
    con: duckdb.DuckDBPyConnection, events: str, day: date, horizon: datetime
) -> pa.Table:
    """Occurrences of partition `day` from the relation named `events` (canonical event columns).

    The set work happens in DuckDB (`sql/intervals.sql`); see that file for the rules.
    """
    day_start, day_end = day_bounds(day)
    params = {
        "d0": _epoch_ms(day_start),
        "d1": _epoch_ms(day_end),
        "bound": _epoch_ms(min(day_end, horizon)),
        "day": day.isoformat(),
    }
    sql = (SQL_DIR / "intervals.sql").read_text().replace("FROM events", f"FROM {events}")
    table = con.sql(sql, params=params).to_arrow_table()
    return table.cast(INTERVAL_SCHEMA)


def build_intervals(events: pd.DataFrame, day: date, horizon: datetime) -> pd.DataFrame:
    """`interval_table` over a frame of canonical events (EVENT_COLUMNS), as a frame."""
    with _connect() as con:
        con.register("events_frame", events)
        return interval_table(con, "events_frame", day, horizon).to_pandas()


def vendor_intervals(
    vendor: str, raw_file: Path, tenant_id: str, day: date, horizon: datetime
) -> pa.Table:
    """A landed raw Parquet file → the partition's occurrences, via `sql/events_<vendor>.sql`.

    DuckDB reads only the columns it needs; `seq` is the record's row in the file (the API's
    order), which orders events with equal timestamps.
    """
    with _connect() as con:
        con.register("state_mapping", state_mapping(vendor).frame())
        events_sql = (SQL_DIR / f"events_{vendor}.sql").read_text()
        params = {"tenant_id": tenant_id, "raw_file": str(raw_file)}
        con.sql(events_sql, params=params).create_view("vendor_events")
        return interval_table(con, "vendor_events", day, horizon)


def find_overlaps(intervals: pd.DataFrame) -> pd.DataFrame:
    """Rows that start before the previous occurrence of the same agent ended (should be none)."""
    ordered = intervals.sort_values(["vendor", "tenant_id", "agent_id", "start_ts", "end_ts"])
    same_agent = (
        ordered["vendor"].eq(ordered["vendor"].shift())
        & ordered["tenant_id"].eq(ordered["tenant_id"].shift())
        & ordered["agent_id"].eq(ordered["agent_id"].shift())
    )
    previous_end = ordered["end_ts"].shift()
    return ordered[same_agent & (ordered["start_ts"] < previous_end)]
