"""Reading the warehouse as the product does (checks, demo, report, export): a read-only
DuckLake session, which no analyst's session, read-only or read-write, can block.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from agentstate_etl.warehouse.location import WarehouseLocation
from agentstate_etl.warehouse.session import ALIAS, open_session


@contextmanager
def read_only(warehouse: WarehouseLocation) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection that shows timestamps in UTC; a warehouse never built is an error saying
    what to run."""
    with closing(open_session(warehouse, read_only=True)) as con:
        yield con


def table_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The warehouse's tables and views, by name."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_catalog = ? AND table_schema = 'main' ORDER BY table_name",
        [ALIAS],
    ).fetchall()
    return [name for (name,) in rows]


def frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> pd.DataFrame:
    return con.sql(sql, params=params).to_arrow_table().to_pandas()


def query(warehouse: WarehouseLocation, sql: str) -> pd.DataFrame:
    with read_only(warehouse) as con:
        return frame(con, sql)


def query_file(warehouse: WarehouseLocation, path: Path) -> pd.DataFrame:
    return query(warehouse, path.read_text())
