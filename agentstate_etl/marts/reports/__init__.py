"""Read-only queries that present the warehouse to a person (CLI output)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

REPORTS_DIR = Path(__file__).parent


def run_report(warehouse: Path, name: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute((REPORTS_DIR / f"{name}.sql").read_text()).df()
