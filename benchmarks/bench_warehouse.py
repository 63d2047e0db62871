"""The warehouse as a DuckLake against the Parquet generations behind views it replaced.

    python benchmarks/bench_warehouse.py --home /tmp/wh --generate          # a synthetic lake
    python benchmarks/bench_warehouse.py --home /tmp/wh                     # this checkout
    PYTHONPATH=/tmp/old python benchmarks/bench_warehouse.py --home /tmp/wh # an older one

The lake: `--agents` CxEngage agents over `--days` UTC days, each agent-day a cycle of 30-minute
state occurrences (ready, busy, ACW, not ready with one of five reasons), written straight as
interval landings (no vendor calls). Timed: `build_warehouse` (what `agentstate rebuild` does,
imports loaded first), best of `--repeat`; then the analyst's query (not-ready time by reason
per agent over every day) on a read session as the product opens it, best of `--repeat`.
Whichever code is on the path is measured, so the same lake serves both.
"""

from __future__ import annotations

import argparse
import shutil
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

ANALYST_QUERY = """
SELECT vendor, tenant_id, agent_id, reason,
       round(sum(not_ready_s) / 3600, 2) AS not_ready_h, sum(episodes) AS episodes
FROM mart_not_ready_reasons_daily
GROUP BY ALL
ORDER BY not_ready_h DESC
"""
STATES = [("READY", None), ("BUSY", None), ("ACW", None)] + [
    ("NOT_READY", r) for r in ("Lunch", "Break", "Meeting", "Training", "Coaching")
]


def settings(home: Path):  # noqa: ANN201 - the Settings of whichever version is on the path
    from agentstate_etl.settings import Settings

    return Settings(
        home=home,
        dagster_home=home / "dagster",
        report_tz="UTC",
        drift_tolerance_s=2.0,
        lookback_hours=12,
        max_quarantine_rate=0.01,
    )


def generate(home: Path, agents: int, days: int) -> int:
    from agentstate_etl import lake
    from agentstate_etl.intervals import INTERVAL_SCHEMA

    lk = lake.Lake.from_url(home / "lake")
    first = date(2026, 1, 1)
    slots = 48  # 30-minute occurrences a day
    agent_ids = np.repeat(np.array([f"agent-{n:05d}" for n in range(agents)]), slots)
    offsets = np.tile(np.arange(slots, dtype="int64") * 1_800_000, agents)
    rows = 0
    for number in range(days):
        day = first + timedelta(days=number)
        start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
        picks = (
            np.arange(agents * slots) * 7 + number * 3 + np.repeat(np.arange(agents), slots)
        ) % len(STATES)
        table = pa.table(
            {
                "vendor": pa.array(["cxengage"] * len(picks)),
                "tenant_id": pa.array(["bench"] * len(picks)),
                "agent_id": pa.array(agent_ids),
                "agent_name": pa.array(agent_ids),
                "state": pa.array([STATES[p][0] for p in picks]),
                "vendor_state": pa.array([STATES[p][0].lower() for p in picks]),
                "reason": pa.array([STATES[p][1] for p in picks], pa.string()),
                "start_ts": pa.array(start + offsets, pa.timestamp("ms", tz="UTC")),
                "end_ts": pa.array(start + offsets + 1_800_000, pa.timestamp("ms", tz="UTC")),
                "duration_s": pa.array(np.full(len(picks), 1800.0)),
                "partition_date": pa.array([day] * len(picks), pa.date32()),
                "is_carry_in": pa.array(np.zeros(len(picks), bool)),
                "is_open": pa.array(np.zeros(len(picks), bool)),
            },
            schema=INTERVAL_SCHEMA,
        )
        lk.commit(
            lake.INTERVALS, lake.PartitionKey("cxengage", "bench", day), {lake.INTERVALS: table}
        )
        rows += table.num_rows
    return rows


def measure(home: Path, repeat: int) -> None:
    try:  # this checkout
        from agentstate_etl.marts.query import read_only
        from agentstate_etl.marts.update import build_warehouse

        where = settings(home).warehouse
        version = "ducklake"
    except ImportError:  # before DuckLake
        from agentstate_etl.marts import build_warehouse
        from agentstate_etl.marts.query import read_only

        where = settings(home).warehouse
        version = "parquet-views"
    builds = []
    for _ in range(repeat):
        began = time.perf_counter()
        build = build_warehouse(settings(home))
        builds.append(time.perf_counter() - began)
    print(
        f"{version}: rebuild of {build.partitions} partitions, "
        f"{build.rows_published['agent_state_intervals']:,} intervals: best {min(builds):.2f} s "
        f"of {[round(b, 2) for b in builds]}"
    )
    queries = []
    with read_only(where) as con:
        for _ in range(repeat + 2):
            began = time.perf_counter()
            rows = con.sql(ANALYST_QUERY).fetchall()
            queries.append(time.perf_counter() - began)
    print(
        f"{version}: analyst query ({len(rows):,} rows): best {min(queries) * 1000:.0f} ms of "
        f"{[round(q * 1000) for q in queries]} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--generate", action="store_true")
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.generate:
        shutil.rmtree(args.home, ignore_errors=True)
        print(f"lake: {generate(args.home, args.agents, args.days):,} intervals")
        return
    measure(args.home, args.repeat)


if __name__ == "__main__":
    main()
