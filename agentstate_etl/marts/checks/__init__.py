"""Table rules over the built warehouse, one `.sql` file each, returning offending rows."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

CHECKS_DIR = Path(__file__).parent


def run_check(warehouse: Path, name: str) -> pd.DataFrame:
    """Offending rows of check `name` (empty when the rule holds), read-only."""
    sql = (CHECKS_DIR / f"{name}.sql").read_text()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).df()

