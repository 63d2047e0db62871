"""Table rules over the warehouse, one `.sql` file each, returning offending rows.

A run evaluates them on the days it computed, before publishing (`CheckOutcome`: a true count
and a sample); `run_check` evaluates one over the whole published warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from agentstate_etl.marts.query import query_file
from agentstate_etl.warehouse.location import WarehouseLocation

CHECKS_DIR = Path(__file__).parent
CHECKS = (
    "overlapping_intervals",
    "acw_matches_totals",
    "intervals_add_up_to_day",
    "reconciliation_flags",
    "unknown_activities",
)
CHECK_SAMPLE_ROWS = 20


def check_sql(name: str) -> str:
    return (CHECKS_DIR / f"{name}.sql").read_text()


@dataclass
class CheckOutcome:
    """A table rule over the published days: the true count of offending rows and a sample."""

    offending: int = 0
    sample: pd.DataFrame = field(default_factory=pd.DataFrame)

    def add(self, rows: pd.DataFrame) -> None:
        self.offending += len(rows)
        if len(self.sample) < CHECK_SAMPLE_ROWS and not rows.empty:
            self.sample = pd.concat([self.sample, rows], ignore_index=True).head(CHECK_SAMPLE_ROWS)


def run_check(warehouse: WarehouseLocation, name: str) -> pd.DataFrame:
    """Offending rows of check `name` (empty when the rule holds), read-only."""
    return query_file(warehouse, CHECKS_DIR / f"{name}.sql")
