"""The warehouse's tables: which column says which day owns a row, and the views over them."""

from __future__ import annotations

from pathlib import Path

UTC_DAY, REPORT_DAY = "utc", "report"
# Every published table, the column that says which day owns a row, and which kind of day.
PUBLISHED: dict[str, tuple[str, str]] = {
    "agent_state_intervals": ("partition_date", UTC_DAY),
    "agent_days": ("partition_date", UTC_DAY),
    "mart_state_totals_daily": ("day", REPORT_DAY),
    "mart_not_ready_reasons_daily": ("day", REPORT_DAY),
    "mart_acw_daily": ("day", REPORT_DAY),
    "mart_reconciliation": ("day", UTC_DAY),
    "mart_state_totals_interval": ("day", REPORT_DAY),
    "mart_kpis_daily": ("day", REPORT_DAY),
    "mart_adherence_daily": ("day", REPORT_DAY),
    "mart_adherence_exceptions": ("day", REPORT_DAY),
    "rta_snapshots": ("partition_date", UTC_DAY),
}
# The tables and views of docs/warehouse.md (a contract: names never change).
MART_TABLES = (
    "agent_state_intervals",
    "mart_state_totals_daily",
    "mart_not_ready_reasons_daily",
    "mart_acw_daily",
    "mart_reconciliation",
    "dim_agents",
    "mart_state_totals_interval",
    "mart_kpis_daily",
    "mart_adherence_daily",
    "mart_adherence_exceptions",
    "rta_snapshots",
)
VIEWS_DIR = Path(__file__).with_name("views")


def view_files() -> list[Path]:
    """The views over the published tables (`dim_agents`), one `CREATE OR REPLACE VIEW` each."""
    return sorted(VIEWS_DIR.glob("*.sql"))


def derived_names() -> set[str]:
    """Every name the product owns in the warehouse (an analyst's tables are the others)."""
    return {*PUBLISHED, *MART_TABLES, *(p.stem for p in view_files())}
