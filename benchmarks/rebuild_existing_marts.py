"""`agentstate rebuild` without the analytics marts: the warehouse as it was before them.

The peer of `agentstate rebuild` in the benchmark's rebuild rows (`bench_pipeline.py`), so that
what the interval, KPI and adherence marts add to a rebuild is measured as users run it. It
leaves out the SQL files from 55_report_days on, the tables they publish, their checks, and the
schedule segments only they read; everything else is the command itself.
"""

from __future__ import annotations

ANALYTICS_SQL_FROM = "55_"
ANALYTICS_TABLES = (
    "mart_state_totals_interval",
    "mart_kpis_daily",
    "mart_adherence_daily",
    "mart_adherence_exceptions",
)
ANALYTICS_CHECKS = ("intervals_add_up_to_day", "unknown_activities")


def leave_out_analytics() -> None:
    import agentstate_etl.marts as marts
    from agentstate_etl import schedules

    every_file, inputs = marts.sql_files, schedules.warehouse_inputs
    marts.sql_files = lambda: [f for f in every_file() if f.name < ANALYTICS_SQL_FROM]
    for table in ANALYTICS_TABLES:
        del marts.PUBLISHED[table]
    marts.CHECKS = tuple(c for c in marts.CHECKS if c not in ANALYTICS_CHECKS)
    schedules.warehouse_inputs = lambda settings, days=None: inputs(settings, [])


if __name__ == "__main__":
    leave_out_analytics()
    from agentstate_etl.cli import app

    app(["rebuild"])
