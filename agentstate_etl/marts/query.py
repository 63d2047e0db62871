"""Reading the warehouse: read-only connections, results through Arrow into pandas."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from agentstate_etl.errors import WarehouseError


@contextmanager
def read_only(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection that shows timestamps in UTC (an analyst's open one never blocks it).

    A warehouse that was never built is an error saying what to run, not DuckDB's file error.
    """
    if not warehouse.is_file():
        raise WarehouseError(
            f"no warehouse at {warehouse}: run `agentstate backfill` first "
            "(or `agentstate demo` to try it on simulated data)"
        )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        yield con


def table_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The warehouse's tables and views, by name."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' ORDER BY table_name"
    ).fetchall()
    return [name for (name,) in rows]


def frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> pd.DataFrame:
    return con.sql(sql, params=params).to_arrow_table().to_pandas()


def query(warehouse: Path, sql: str) -> pd.DataFrame:
    """Run `sql` on a read-only connection."""
    with read_only(warehouse) as con:
        return frame(con, sql)


def query_file(warehouse: Path, path: Path) -> pd.DataFrame:
    return query(warehouse, path.read_text())
