"""`agentstate rebuild` without the analytics marts: the warehouse as it was before them.

The peer of `agentstate rebuild` in the benchmark's rebuild rows (`bench_pipeline.py`), so that
what the interval, KPI, adherence and real-time adherence marts add to a rebuild is measured as
users run it. It leaves out the SQL files from 55_report_days on, the tables they publish into
the DuckLake, the `rta_now` view over one of them, their checks, and the schedule segments only
they read; everything else is the command itself.
"""

from __future__ import annotations

ANALYTICS_SQL_FROM = "55_"
ANALYTICS_TABLES = (
    "mart_state_totals_interval",
    "mart_kpis_daily",
    "mart_adherence_daily",
    "mart_adherence_exceptions",
    "rta_snapshots",
)
ANALYTICS_VIEWS = ("rta_now",)
ANALYTICS_CHECKS = ("intervals_add_up_to_day", "unknown_activities")


def leave_out_analytics() -> None:
    from agentstate_etl import schedules
    from agentstate_etl.marts import compute, publish, tables, update

    every_file, every_view, inputs = (
        compute.sql_files,
        tables.view_files,
        schedules.warehouse_inputs,
    )
    compute.sql_files = lambda: [f for f in every_file() if f.name < ANALYTICS_SQL_FROM]
    publish.view_files = lambda: [f for f in every_view() if f.stem not in ANALYTICS_VIEWS]
    for table in ANALYTICS_TABLES:  # one dict, which publish and update share
        del tables.PUBLISHED[table]
    update.CHECKS = tuple(c for c in update.CHECKS if c not in ANALYTICS_CHECKS)
    schedules.warehouse_inputs = lambda settings, days=None: inputs(settings, [])


if __name__ == "__main__":
    leave_out_analytics()
    from agentstate_etl.cli import app

    app(["rebuild"])
