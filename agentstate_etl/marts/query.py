"""Reading the warehouse as the product does (checks, demo, report, export).

`read_only` opens warehouse.duckdb read-only; when an analyst holds it open read-write (DuckDB
then locks other processes out), it opens the same views in memory instead, so the product's
reads never fail on someone else's session.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from agentstate_etl.errors import WarehouseError
from agentstate_etl.marts import catalog, view_tables


def _open(warehouse: Path) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(warehouse), read_only=True)
    except (duckdb.IOException, duckdb.ConnectionException):
        current = warehouse.parent / "marts" / "current"  # beside it, as MartStore keeps it
        return catalog.connect(current, view_tables())


@contextmanager
def read_only(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection that shows timestamps in UTC and never blocks on an analyst's session.

    A warehouse that was never built is an error saying what to run, not DuckDB's file error.
    """
    if not warehouse.is_file():
        raise WarehouseError(
            f"no warehouse at {warehouse}: run `agentstate backfill` first "
            "(or `agentstate demo` to try it on simulated data)"
        )
    with _open(warehouse) as con:
        con.execute("SET TimeZone = 'UTC'")
        yield con


def table_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The warehouse's tables and views, by name (not the catalog's own bookkeeping view)."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_name <> 'agentstate_catalog' ORDER BY table_name"
    ).fetchall()
    return [name for (name,) in rows]


def frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> pd.DataFrame:
    return con.sql(sql, params=params).to_arrow_table().to_pandas()


def query(warehouse: Path, sql: str) -> pd.DataFrame:
    with read_only(warehouse) as con:
        return frame(con, sql)


def query_file(warehouse: Path, path: Path) -> pd.DataFrame:
    return query(warehouse, path.read_text())
