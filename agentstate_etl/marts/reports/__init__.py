"""Read-only queries that present the warehouse to a person (CLI output)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from agentstate_etl.marts.query import query_file
from agentstate_etl.settings import Settings

REPORTS_DIR = Path(__file__).parent


def run_report(settings: Settings, name: str) -> pd.DataFrame:
    return query_file(settings, REPORTS_DIR / f"{name}.sql")
