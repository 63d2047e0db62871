"""Many tenants in one command against one command per tenant: the same warehouse, and the time.

    .venv/bin/python benchmarks/bench_tenants.py                       # 20 tenants x 100 agents, 2 days
    .venv/bin/python benchmarks/bench_tenants.py --tenants 3 --agents 5 --days 1   # a smoke run

One simulator process serves N tenants of one vendor (each its own data and credentials, no
faults). Then, each as a fresh `agentstate backfill` process with its own AGENTSTATE_HOME and
DAGSTER_HOME:

- together: one command over a tenants file listing the N tenants;
- separately: N commands, tenant k configured by the docs/configuration.md variables alone (no tenants file).

The warehouse of the one command must equal the union of the N warehouses, table by table
(rows sorted by their key); the times are wall clock of the commands, Python start-up and
imports included, as an operator would see them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd

from agentstate_etl.simulator.server import SimulatorProcess, vendor_env, write_tenants_file
from agentstate_etl.vendors.registry import VENDOR_SPECS
from agentstate_etl.warehouse.location import WarehouseLocation
from agentstate_etl.warehouse.session import open_session

TABLES = {
    "agent_state_intervals": "vendor, tenant_id, agent_id, partition_date, start_ts, state",
    "mart_state_totals_daily": "vendor, tenant_id, agent_id, day",
    "mart_not_ready_reasons_daily": "vendor, tenant_id, agent_id, day, reason",
    "mart_acw_daily": "vendor, tenant_id, agent_id, day",
    "mart_reconciliation": "vendor, tenant_id, agent_id, day, state",
}
# variables of the caller that would change what a backfill does
CLEARED = {
    "AGENTSTATE_TENANTS",
    "AGENTSTATE_LAKE_URL",
    "AGENTSTATE_STATE_MAPPING",
    *(v.env for spec in VENDOR_SPECS.values() for v in spec.settings.variables().values()),
}


def backfill(home: Path, env: dict[str, str], vendor: str, first: date, days: int) -> float:
    """One `agentstate backfill` process; its wall-clock seconds."""
    environ = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environ.update(env, AGENTSTATE_HOME=str(home), DAGSTER_HOME=str(home / "dagster"))
    command = [
        sys.executable,
        "-m",
        "agentstate_etl.cli",
        *("backfill", "--vendor", vendor, "--start", first.isoformat()),
        *("--end", (first + timedelta(days=days)).isoformat()),
    ]
    began = time.perf_counter()
    done = subprocess.run(command, env=environ, capture_output=True, text=True, cwd=home.parent)
    seconds = time.perf_counter() - began
    if done.returncode:
        raise SystemExit(
            f"backfill in {home} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    return seconds


def tables(home: Path) -> dict[str, pd.DataFrame]:
    """The tables of the warehouse a backfill in `home` built (its default DuckLake)."""
    location = WarehouseLocation.from_values("", "", home)
    with closing(open_session(location, read_only=True)) as con:
        return {
            t: con.sql(f"SELECT * FROM {t} ORDER BY {o}").to_arrow_table().to_pandas()
            for t, o in TABLES.items()
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--agents", type=int, default=100, help="agents per tenant")
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--vendor", default="cxengage", choices=["cxengage", "cxone", "koreai"])
    args = parser.parse_args()

    first = date(2026, 3, 2)
    now = datetime.combine(first + timedelta(days=args.days), datetime.min.time(), UTC)
    now += timedelta(minutes=1)
    common = {"AGENTSTATE_NOW": now.isoformat(), "AGENTSTATE_START_DATE": "2026-01-01"}
    sim_args = [
        *("--tenants", str(args.tenants), "--agents", str(args.agents)),
        *("--start", (first - timedelta(days=1)).isoformat(), "--now", now.isoformat()),
        *("--seed", "7", "--vendors", args.vendor),
    ]
    print(
        f"simulator: {args.tenants} {args.vendor} tenants x {args.agents} agents, "
        f"{args.days} day(s) from {first} ...",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as scratch, SimulatorProcess(sim_args) as sim:
        root = Path(scratch)
        tenants_env = write_tenants_file(
            root / "tenants.toml", sim.base_url, args.tenants, vendors=(args.vendor,)
        )
        together_s = backfill(
            root / "together", {**common, **tenants_env}, args.vendor, first, args.days
        )
        print(f"  one command, {args.tenants} tenants: {together_s:8.1f} s", flush=True)
        together = tables(root / "together")

        separate: dict[str, list[pd.DataFrame]] = {t: [] for t in TABLES}
        separate_s = 0.0
        for tenant in range(1, args.tenants + 1):
            env = {**common, **vendor_env(sim.base_url, tenant=tenant)}
            home = root / f"tenant-{tenant}"
            separate_s += backfill(home, env, args.vendor, first, args.days)
            for table, frame in tables(home).items():
                separate[table].append(frame)
        print(f"  {args.tenants} single-tenant commands:  {separate_s:8.1f} s", flush=True)

        equal = True
        for table, order in TABLES.items():
            keys = [c.strip() for c in order.split(",")]
            mine = together[table].sort_values(keys).reset_index(drop=True)
            theirs = pd.concat(separate[table]).sort_values(keys).reset_index(drop=True)
            try:
                pd.testing.assert_frame_equal(mine, theirs)
                same = "equal"
            except AssertionError as difference:
                equal, same = False, f"DIFFERENT: {str(difference)[:300]}"
            tenants = mine["tenant_id"].nunique() if len(mine) else 0
            print(f"  {table:<30} {len(mine):>10,} rows, {tenants:>3} tenants: {same}")
        rows = len(together["agent_state_intervals"])
        print(
            f"\n{args.tenants} tenants x {args.agents} agents x {args.days} day(s) of {args.vendor}: "
            f"one command {together_s:.1f} s, {args.tenants} separate commands {separate_s:.1f} s "
            f"({separate_s / together_s:.1f}x), {rows:,} intervals, warehouses "
            f"{'EQUAL' if equal else 'DIFFERENT'}"
        )
        if not equal:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
