"""Read-only queries that present the warehouse to a person (CLI output)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from agentstate_etl.marts.query import query_file
from agentstate_etl.warehouse.location import WarehouseLocation

REPORTS_DIR = Path(__file__).parent


def run_report(warehouse: WarehouseLocation, name: str) -> pd.DataFrame:
    return query_file(warehouse, REPORTS_DIR / f"{name}.sql")
