"""Reading the warehouse as the product does: the marts' views on an in-memory connection.

An analyst's session on warehouse.duckdb (even read-write) never blocks these reads, because
they do not open that file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from agentstate_etl.marts import connect
from agentstate_etl.settings import Settings


def query(settings: Settings, sql: str) -> pd.DataFrame:
    with connect(settings) as con:
        return con.sql(sql).to_arrow_table().to_pandas()


def query_file(settings: Settings, path: Path) -> pd.DataFrame:
    return query(settings, path.read_text())
