"""Table rules over the built warehouse, one `.sql` file each, returning offending rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from agentstate_etl.marts.query import query_file

CHECKS_DIR = Path(__file__).parent


def run_check(warehouse: Path, name: str) -> pd.DataFrame:
    """Offending rows of check `name` (empty when the rule holds), read-only."""
    return query_file(warehouse, CHECKS_DIR / f"{name}.sql")
