"""Reading the warehouse: read-only connections, results through Arrow into pandas."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd


def query(warehouse: Path, sql: str) -> pd.DataFrame:
    """Run `sql` on a read-only connection (an analyst's open connection never blocks it)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).to_arrow_table().to_pandas()


def query_file(warehouse: Path, path: Path) -> pd.DataFrame:
    return query(warehouse, path.read_text())
