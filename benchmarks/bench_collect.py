"""Continuous collection (docs/collection.md), measured as users run it.

    .venv/bin/python benchmarks/bench_collect.py            # every section, full size
    .venv/bin/python benchmarks/bench_collect.py --quick    # small sizes: a smoke run
    .venv/bin/python benchmarks/bench_collect.py --only cost

Sections:
- `truth`: a day collected by 288 five-minute polls of each vendor (every fault on, late events
  included) against the simulator's truth and a one-shot backfill of the finished day.
- `cost`: a 1,500-agent CxEngage tenant polled every five minutes through a day: the 2nd and the
  280th poll run as `agentstate collect --once` in a new process (start-up, Dagster instance,
  marts included: the `poll` row, fastest of that poll and two re-runs at the same clock), the
  polls between in the engine alone (`poll-no-cli-no-dagster`: the median seconds of each
  eighth of the day); requests and seconds of each.
- `tenants`: 20 CxEngage tenants x 100 agents in one `agentstate collect --once` process: the
  first poll (all the vendor keeps: three days) and the next one, five minutes later.

The simulator runs in this process on an injected clock (the polls' `AGENTSTATE_NOW`), so its
pages cost the measured `agentstate` process nothing; a poll's requests are read from its log.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pandas as pd

from agentstate_etl import collect, lake, pipeline
from agentstate_etl.canonical import VENDORS
from agentstate_etl.settings import Settings
from agentstate_etl.simulator import truth
from agentstate_etl.simulator.config import Faults, SimConfig
from agentstate_etl.simulator.server import SimulatorServer
from agentstate_etl.tenants import environment_tenant

DAY = date(2026, 3, 9)
DAY_START = datetime.combine(DAY, clock_time(), UTC)
POLL = timedelta(minutes=5)
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def engine_settings(home: Path, now: datetime) -> Settings:
    return Settings(
        home=home,
        dagster_home=home / "dagster",
        report_tz="UTC",
        drift_tolerance_s=2.0,
        lookback_hours=12,
        max_quarantine_rate=0.2,
        now_override=now,
    )


KEYS = ["partition_date", "agent_id", "start_ts", "end_ts", "state"]
COLUMNS = [*KEYS, "vendor_state", "reason", "duration_s", "is_carry_in", "is_open"]


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows as plain values (ms timestamps, dates, rounded seconds), sorted by the key."""
    out = frame[COLUMNS].copy()
    for column in ("start_ts", "end_ts"):
        stamps = pd.to_datetime(out[column], utc=True).astype("datetime64[ms, UTC]")
        out[column] = stamps.astype("int64")
    out["partition_date"] = pd.to_datetime(out["partition_date"]).dt.date
    out["duration_s"] = out["duration_s"].astype(float).round(3)
    for column in ("agent_id", "state", "vendor_state", "reason"):
        text = out[column].astype(object)
        out[column] = text.where(text.notna(), None)
    for column in ("is_carry_in", "is_open"):
        out[column] = out[column].astype(bool)
    return out.sort_values(KEYS).reset_index(drop=True)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    try:
        pd.testing.assert_frame_equal(_comparable(a), _comparable(b), check_dtype=False)
    except AssertionError:
        return False
    return True


def _intervals(settings: Settings, vendor: str, tenant: str, days: list[date]) -> pd.DataFrame:
    frames = [
        settings.lake.read(lake.INTERVALS, lake.PartitionKey(vendor, tenant, d)).to_pandas()
        for d in days
    ]
    return pd.concat(frames, ignore_index=True)


def section_truth(agents: int, workdir: Path) -> list[str]:
    final = DAY_START + timedelta(days=1, minutes=30, seconds=7)
    lines = []
    for vendor in VENDORS:
        clock = Clock(DAY_START + timedelta(minutes=2))
        config = SimConfig(
            seed=20260308,
            agents=agents,
            start=DAY - timedelta(days=3),
            now=final,
            faults=Faults.all(retry_after_s=0),
            cxengage_retention=timedelta(days=10),
            clock=clock,
        )
        with SimulatorServer(config) as server:
            env = server.env()
            tenant = environment_tenant(vendor, env).resolve(env)
            home = workdir / f"truth-{vendor}"
            pipeline.land_raw(tenant, DAY - timedelta(days=1), engine_settings(home, clock.now))
            polls, began = 0, time.perf_counter()
            while clock.now < final:
                clock.now = min(clock.now + POLL, final)
                collect.poll_tenant(tenant, engine_settings(home, clock.now))
                polls += 1
            seconds = time.perf_counter() - began
            once = engine_settings(workdir / f"once-{vendor}", final)
            pipeline.land_intervals(pipeline.land_raw(tenant, DAY, once).key, once)
            days = [DAY, DAY + timedelta(days=1)]
            collected = _intervals(engine_settings(home, final), vendor, tenant.tenant_id, days)
            expected = pd.concat(
                [
                    truth.expected_intervals(
                        server.world, vendor, d, lookback_hours=12, as_of=final
                    )
                    for d in days
                ],
                ignore_index=True,
            )
            same_truth = _same(collected, expected)
            one_shot = _intervals(once, vendor, tenant.tenant_id, [DAY])
            same_backfill = _same(collected[collected["partition_date"] == DAY], one_shot)
        lines.append(
            f"| truth {vendor}: {polls} polls, {agents} agents, every fault | "
            f"{len(collected)} intervals | equal to truth: {same_truth}; to a one-shot "
            f"backfill: {same_backfill} | {seconds:.1f} s (engine, polls only) |"
        )
    return lines


def _collect_once(env: dict[str, str], now: datetime, vendor: str = "cxengage") -> float:
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "agentstate_etl.cli", "collect", "--once", "--vendor", vendor],
        env={**env, "AGENTSTATE_NOW": now.isoformat()},
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - began


def _base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTSTATE_", "DAGSTER_"))}
    env.update(
        AGENTSTATE_HOME=str(home),
        DAGSTER_HOME=str(home / "dagster"),
        AGENTSTATE_START_DATE="2026-03-01",
        AGENTSTATE_TENANTS="",
    )
    return env


def section_cost(agents: int, polls: int, workdir: Path) -> list[str]:
    clock = Clock(DAY_START + timedelta(minutes=2))
    config = SimConfig(
        seed=11,
        agents=agents,
        start=DAY - timedelta(days=2),
        now=DAY_START + timedelta(days=1),
        faults=Faults.none(),
        clock=clock,
    )
    home = workdir / "cost"
    with SimulatorServer(config) as server:
        env = {**_base_env(home), **server.env()}
        tenant = environment_tenant("cxengage", env).resolve(env)
        pipeline.land_raw(tenant, DAY - timedelta(days=1), engine_settings(home, clock.now))
        measured: dict[int, tuple[int, float]] = {}
        cli_runs: dict[int, list[float]] = {}
        for number in range(1, polls + 1):
            clock.now = DAY_START + number * POLL
            before = len(server.simulator.request_log)
            if number in (2, polls):
                seconds = _collect_once(env, clock.now)
                asked = len(server.simulator.request_log) - before
                # a shared machine's slow spell can double one run: the same poll twice more
                # (same clock: the same reads, the day's raw and marts rebuilt again), fastest kept
                again = [_collect_once(env, clock.now) for _ in range(2)]
                cli_runs[number] = [seconds, *again]
                measured[number] = (asked, min(cli_runs[number]))
                continue
            began = time.perf_counter()
            collect.poll_tenant(tenant, engine_settings(home, clock.now))
            seconds = time.perf_counter() - began
            measured[number] = (len(server.simulator.request_log) - before, seconds)
    (r2, s2), (rn, sn) = measured[2], measured[polls]

    def runs(number: int) -> str:
        return ", ".join(f"{t:.2f}" for t in cli_runs[number])

    lines = [
        f"| `poll`: the 2nd poll (5 minutes of new data) of a {agents}-agent CxEngage tenant, "
        f"`agentstate collect --once` (new process, marts included), fastest of 3 (runs "
        f"{runs(2)} s; the first with a fresh DAGSTER_HOME) | {r2} requests | {s2:.2f} s | |",
        f"| `poll`, poll {polls} (at {DAY_START + polls * POLL:%H:%M}), same (runs {runs(polls)} "
        f"s) | {rn} requests | {sn:.2f} s | {sn / s2:.2f}x the 2nd |",
    ]
    # the curve: the engine's polls (no process start, no Dagster) through the day, the median
    # of each eighth of the day (one poll's seconds on a shared machine are noise)
    engine = [n for n in range(3, polls) if n in measured]
    step = max(len(engine) // 8, 1)
    blocks = [engine[i : i + step] for i in range(0, len(engine), step)]
    medians = [(b[0], b[-1], statistics.median(measured[n][1] for n in b)) for b in blocks]
    lines.append(
        "| `poll-no-cli-no-dagster` curve: the engine's polls (`collect.poll_tenant`), median "
        f"seconds of each stretch of the day | {measured[engine[0]][0]} requests at "
        f"#{engine[0]}, {measured[engine[-1]][0]} at #{engine[-1]} | "
        + ", ".join(f"#{a}-{b} {m:.2f} s" for a, b, m in medians)
        + f" | {medians[-1][2] / medians[0][2]:.2f}x the last stretch vs the first |"
    )
    return lines


def section_tenants(tenants: int, agents: int, workdir: Path) -> list[str]:
    clock = Clock(DAY_START + timedelta(hours=10))
    config = SimConfig(
        seed=5,
        agents=agents,
        start=DAY - timedelta(days=4),
        now=DAY_START + timedelta(days=1),
        faults=Faults.none(),
        tenants=tenants,
        clock=clock,
    )
    home = workdir / "tenants"
    with SimulatorServer(config) as server:
        env = {
            **_base_env(home),
            **server.tenants_env(workdir / "tenants.toml", vendors=("cxengage",)),
        }
        first = _collect_once(env, clock.now)
        clock.now += POLL
        second = _collect_once(env, clock.now)
    return [
        f"| {tenants} CxEngage tenants x {agents} agents, one `collect --once`, first poll "
        f"(three days kept) | | {first:.1f} s | |",
        f"| same, the next poll five minutes later | | {second:.1f} s | |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=["truth", "cost", "tenants"])
    args = parser.parse_args()
    quick = args.quick
    rows = ["| row | size | result | time |", "|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="agentstate-bench-collect-") as tmp:
        workdir = Path(tmp)
        if args.only in (None, "truth"):
            rows += section_truth(4 if quick else 8, workdir)
        if args.only in (None, "cost"):
            rows += section_cost(100 if quick else 1500, 20 if quick else 280, workdir)
        if args.only in (None, "tenants"):
            rows += section_tenants(3 if quick else 20, 20 if quick else 100, workdir)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
