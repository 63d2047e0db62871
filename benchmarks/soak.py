"""Soak: concurrent `agentstate backfill` processes, a faulty vendor and two analysts, one home.

    .venv/bin/python benchmarks/soak.py                      # 20 runs, 6 at a time, 40 agents
    .venv/bin/python benchmarks/soak.py --runs 8 --agents 10  # a smaller one

One simulator process with every fault (`agentstate simulate --faults all`) serves a fixed
week. `--runs` backfills of random vendors (cxengage, cxone, koreai or all) and random day
ranges of that week run as separate processes, at most `--parallel` at a time, all against
ONE AGENTSTATE_HOME and ONE DAGSTER_HOME, with AGENTSTATE_NOW fixed after the week so every
run sees the same vendor data. Meanwhile two analysts take turns holding warehouse.duckdb
open and querying it: one read-only, one read-write who keeps a table of their own in it
(DuckDB lets one process hold a file read-write, or any number read-only, not both at once).

Checked, each a violation when broken (exit status 1):
- every run exits 0, or non-zero with a message naming the failed partition, within
  `--run-timeout-s`, and the whole soak ends within `--deadline-s`;
- the final warehouse equals a clean sequential run (the whole week backfilled once in a fresh
  home, against a fresh simulator with the same seed), row for row, for every table of
  `agentstate_etl.marts.MART_TABLES`;
- the read-write analyst's table is still there with every row they wrote; no analyst query
  failed; an analyst never waited longer than `--analyst-wait-s` for the file.

Seeded (`--seed`: the plan and the simulator), bounded in runs and time, loopback only. Each
run's output is kept under benchmarks/out/soak-<time>/ for reading afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from agentstate_etl.marts.tables import MART_TABLES
from agentstate_etl.simulator.server import SimulatorProcess, vendor_env

HERE = Path(__file__).parent
VENDOR_CHOICES = ("cxengage", "cxone", "koreai", "all")
ALL_VENDORS = ("cxengage", "cxone", "koreai")
WEEK_START = date(2026, 3, 2)  # Monday; the US spring-forward (2026-03-08) is its last day
WEEK_DAYS = 7
NOW = datetime(2026, 3, 9, 6, 0, tzinfo=UTC)  # after the week: every partition is over
NAMED_PARTITION = re.compile(r"partition \d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Run:
    number: int
    vendor: str
    start: date
    end: date  # exclusive, as the CLI takes it

    def args(self) -> list[str]:
        return [
            "backfill",
            "--vendor",
            self.vendor,
            "--start",
            str(self.start),
            "--end",
            str(self.end),
        ]

    def covers(self) -> set[tuple[str, date]]:
        vendors = ALL_VENDORS if self.vendor == "all" else (self.vendor,)
        days = [self.start + timedelta(days=i) for i in range((self.end - self.start).days)]
        return {(v, d) for v in vendors for d in days}


@dataclass
class Outcome:
    run: Run
    code: int | None  # None: killed at its timeout, or never started before the deadline
    seconds: float
    log: Path
    problem: str = ""  # why this run is a violation, empty when it is not


def plan(rng: random.Random, runs: int) -> list[Run]:
    """`runs` random backfills that together cover every vendor and day of the week (drawn
    again, from the same generator, until they do: deterministic for a seed)."""
    wanted = Run(0, "all", WEEK_START, WEEK_START + timedelta(days=WEEK_DAYS)).covers()
    for _ in range(1000):
        drawn = []
        for number in range(1, runs + 1):
            first = rng.randrange(WEEK_DAYS)
            length = rng.randint(1, WEEK_DAYS - first)
            start = WEEK_START + timedelta(days=first)
            drawn.append(
                Run(number, rng.choice(VENDOR_CHOICES), start, start + timedelta(days=length))
            )
        if set().union(*(r.covers() for r in drawn)) == wanted:
            return drawn
    raise SystemExit(f"{runs} random runs never covered the week; ask for more runs")


def agentstate() -> list[str]:
    script = Path(sys.executable).with_name("agentstate")
    return [str(script)] if script.exists() else [sys.executable, "-m", "agentstate_etl.cli"]


def environment(home: Path, base_url: str, args: argparse.Namespace) -> dict[str, str]:
    """The runs' environment: nothing inherited that could point elsewhere."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AGENTSTATE_", "DAGSTER_", "CXENGAGE_", "CXONE_", "KOREAI_", "AWS_"))
    }
    env.update(vendor_env(base_url, args.koreai_timezone))
    env.update(
        AGENTSTATE_HOME=str(home),
        DAGSTER_HOME=str(home / "dagster"),
        AGENTSTATE_NOW=NOW.isoformat(),
        AGENTSTATE_START_DATE=str(WEEK_START - timedelta(days=7)),
        AGENTSTATE_REPORT_TZ=args.report_tz,
    )
    return env


def simulator_args(args: argparse.Namespace) -> list[str]:
    return [
        *("--agents", str(args.agents), "--seed", str(args.seed), "--faults", "all"),
        *("--start", str(WEEK_START - timedelta(days=1)), "--now", NOW.isoformat()),
        *("--koreai-timezone", args.koreai_timezone),
    ]


# --- the analysts ---------------------------------------------------------------------------

# One analyst process. Commands on stdin: `hold` (open the file, retrying while another
# process holds a conflicting lock), `release`, `quit`; one JSON line answers each. While
# holding, it queries the marts every 0.2 s. The read-write analyst adds 10 rows to their own
# table at each hold (left in DuckDB's WAL until they release) after checking that every row
# they wrote before is still there.
ANALYST = r"""
import json, select, sys, time
import duckdb

path, role, wait_s = sys.argv[1], sys.argv[2], float(sys.argv[3])
con, expected = None, 0
stats = {"role": role, "holds": 0, "queries": 0, "errors": [], "lock_retries": 0,
         "longest_wait_s": 0.0, "table_rows": None, "expected_rows": 0}

def answer(**extra):
    print(json.dumps({**stats, **extra}), flush=True)

def hold():
    global con, expected
    began = time.monotonic()
    while True:
        try:
            con = duckdb.connect(path, read_only=(role == "read-only"))
            break
        except (duckdb.IOException, duckdb.ConnectionException) as error:
            if time.monotonic() - began > wait_s:
                stats["errors"].append(f"could not open for {wait_s} s: {error}"[:300])
                return
            stats["lock_retries"] += 1
            time.sleep(0.1)
    stats["longest_wait_s"] = max(stats["longest_wait_s"], time.monotonic() - began)
    stats["holds"] += 1
    if role == "read-write":
        found = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'analyst_notes'"
        ).fetchone()[0]
        if not found:
            if expected:
                stats["errors"].append(f"analyst_notes is gone (had {expected} rows)")
            con.execute("CREATE TABLE analyst_notes (n BIGINT, note VARCHAR)")
        rows = con.execute("SELECT count(*) FROM analyst_notes").fetchone()[0]
        if rows != expected:
            stats["errors"].append(f"analyst_notes has {rows} rows, {expected} written")
        con.execute(
            "INSERT INTO analyst_notes SELECT ? + range, 'hold ' || ? FROM range(10)",
            [expected, stats["holds"]],
        )
        expected += 10
        stats["expected_rows"] = expected

def query():
    try:
        con.execute("SELECT count(*), sum(logged_in_s) FROM mart_state_totals_daily").fetchone()
        con.execute("SELECT count(*) FROM agent_state_intervals").fetchone()
        stats["queries"] += 1
    except duckdb.Error as error:
        stats["errors"].append(f"query: {error}"[:300])

while True:
    readable, _, _ = select.select([sys.stdin], [], [], 0.2)
    if not readable:
        if con is not None:
            query()
        continue
    command = sys.stdin.readline().strip()
    if command == "hold":
        hold()
        answer(holding=con is not None)
    elif command == "release":
        if con is not None:
            if role == "read-write":
                stats["table_rows"] = con.execute("SELECT count(*) FROM analyst_notes").fetchone()[0]
            con.close()
            con = None
        answer()
    else:
        answer()
        break
"""


class Analyst:
    """An analyst process driven over its stdin (see ANALYST)."""

    def __init__(self, warehouse: Path, role: str, wait_s: float) -> None:
        self.role = role
        self.process = subprocess.Popen(
            [sys.executable, "-c", ANALYST, str(warehouse), role, str(wait_s)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.stats: dict = {"role": role, "holds": 0, "queries": 0, "errors": []}

    def tell(self, command: str) -> dict:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            self.stats["errors"].append(f"the analyst process died (status {self.process.poll()})")
            return self.stats
        self.stats = json.loads(line)
        return self.stats

    def quit(self) -> dict:
        if self.process.poll() is None:
            self.tell("quit")
            self.process.wait(timeout=30)
        return self.stats


def analysts_take_turns(
    warehouse: Path, done: threading.Event, args: argparse.Namespace
) -> list[Analyst]:
    """Read-only and read-write analysts alternate holding the file until the runs are done."""
    while not warehouse.exists():
        if done.is_set():
            return []
        time.sleep(0.1)  # the first run's warehouse update creates it
    analysts = [
        Analyst(warehouse, "read-only", args.analyst_wait_s),
        Analyst(warehouse, "read-write", args.analyst_wait_s),
    ]
    turn = 0
    while not done.is_set():
        analyst = analysts[turn % 2]
        analyst.tell("hold")
        done.wait(args.analyst_turn_s)
        analyst.tell("release")
        turn += 1
    for analyst in analysts:
        analyst.quit()
    return analysts


# --- the runs and the comparison ------------------------------------------------------------


def run_one(
    run: Run, env: dict[str, str], logs: Path, deadline: float, timeout_s: float
) -> Outcome:
    log = logs / f"run-{run.number:02d}-{run.vendor}-{run.start}-{run.end}.log"
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return Outcome(run, None, 0.0, log, "never started: the soak's deadline had passed")
    began = time.monotonic()
    with log.open("w") as out:
        out.write(f"$ agentstate {' '.join(run.args())}\n")
        out.flush()
        try:
            done = subprocess.run(
                [*agentstate(), *run.args()],
                env=env,
                cwd=env["AGENTSTATE_HOME"],
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=min(timeout_s, remaining),
            )
        except subprocess.TimeoutExpired:
            return Outcome(
                run, None, time.monotonic() - began, log, "killed: still running at its timeout"
            )
    outcome = Outcome(run, done.returncode, time.monotonic() - began, log)
    if done.returncode != 0:
        text = log.read_text()
        if "failed" not in text or not NAMED_PARTITION.search(text):
            outcome.problem = f"exit {done.returncode} without naming a failed partition"
    return outcome


def tables(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            table: sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            for table in MART_TABLES
        }


def analyst_rows(warehouse: Path) -> int | None:
    """Rows of the read-write analyst's own table, None when it is gone."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        try:
            found = con.execute("SELECT count(*) FROM analyst_notes").fetchone()
        except duckdb.CatalogException:
            return None
    return int(found[0]) if found else None


def differences(soak: dict[str, list[tuple]], reference: dict[str, list[tuple]]) -> list[str]:
    found = []
    for table in MART_TABLES:
        extra = Counter(soak[table]) - Counter(reference[table])
        missing = Counter(reference[table]) - Counter(soak[table])
        if extra or missing:
            sample = next(iter(extra or missing))
            found.append(
                f"{table}: {sum(extra.values())} row(s) only in the soak, {sum(missing.values())} "
                f"only in the reference (of {len(reference[table])}); e.g. {sample!r}"[:600]
            )
    return found


def reference_run(scratch: Path, args: argparse.Namespace) -> tuple[Path, float]:
    """The whole week backfilled once, in a fresh home, against a fresh simulator."""
    home = scratch / "reference"
    home.mkdir()
    end = WEEK_START + timedelta(days=WEEK_DAYS)
    command = ["backfill", "--vendor", "all", "--start", str(WEEK_START), "--end", str(end)]
    with SimulatorProcess(simulator_args(args)) as sim:
        began = time.monotonic()
        done = subprocess.run(
            [*agentstate(), *command],
            env=environment(home, sim.base_url, args),
            cwd=home,
            capture_output=True,
            text=True,
            timeout=args.run_timeout_s,
        )
    if done.returncode:
        raise SystemExit(
            f"the reference run failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return home / "warehouse.duckdb", time.monotonic() - began


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=6, help="runs at a time (2 cores: 6)")
    parser.add_argument("--agents", type=int, default=40, help="agents per vendor")
    parser.add_argument("--seed", type=int, default=1, help="the plan's and the simulator's")
    parser.add_argument("--report-tz", default="America/New_York", help="AGENTSTATE_REPORT_TZ")
    parser.add_argument("--koreai-timezone", default="America/New_York")
    parser.add_argument("--run-timeout-s", type=float, default=900)
    parser.add_argument("--deadline-s", type=float, default=2400, help="for all the runs")
    parser.add_argument("--analyst-turn-s", type=float, default=8, help="each hold of the file")
    parser.add_argument("--analyst-wait-s", type=float, default=60, help="longest wait to open")
    parser.add_argument("--out", type=Path, default=None, help="logs [benchmarks/out/soak-<time>]")
    args = parser.parse_args()

    runs = plan(random.Random(args.seed), args.runs)
    logs = args.out or HERE / "out" / f"soak-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    logs.mkdir(parents=True, exist_ok=True)
    summary = Summary()
    print(
        f"soak: {len(runs)} runs of agentstate backfill, {args.parallel} at a time, seed "
        f"{args.seed}, faults all, {args.agents} agents per vendor, week {WEEK_START} + "
        f"{WEEK_DAYS} days, AGENTSTATE_NOW={NOW.isoformat()}, report zone {args.report_tz}; "
        f"logs in {logs}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="agentstate-soak-") as scratch_dir:
        scratch = Path(scratch_dir)
        home = scratch / "shared"
        home.mkdir()
        with SimulatorProcess(simulator_args(args)) as sim:
            env = environment(home, sim.base_url, args)
            done = threading.Event()
            held: list[list[Analyst]] = []
            analyst_thread = threading.Thread(
                target=lambda: held.append(
                    analysts_take_turns(home / "warehouse.duckdb", done, args)
                ),
                name="analysts",
            )
            analyst_thread.start()
            began = time.monotonic()
            deadline = began + args.deadline_s
            try:
                with ThreadPoolExecutor(args.parallel, thread_name_prefix="run") as pool:
                    futures = [
                        pool.submit(run_one, run, env, logs, deadline, args.run_timeout_s)
                        for run in runs
                    ]
                    for future in futures:
                        outcome = future.result()
                        summary.outcomes.append(outcome)
                        print(
                            f"  run {outcome.run.number:2d} {outcome.run.vendor:<8} "
                            f"{outcome.run.start}..{outcome.run.end - timedelta(days=1)}  "
                            f"exit {outcome.code}  {outcome.seconds:6.1f} s"
                            + (f"  VIOLATION: {outcome.problem}" if outcome.problem else ""),
                            flush=True,
                        )
            finally:
                done.set()
                analyst_thread.join(timeout=120)
            wall = time.monotonic() - began
        print("reference: the whole week, --vendor all, one run in a fresh home ...", flush=True)
        reference, reference_s = reference_run(scratch, args)
        soak_tables, reference_tables = tables(home / "warehouse.duckdb"), tables(reference)
        diff = differences(soak_tables, reference_tables)
        analysts = held[0] if held else []
        notes = analyst_rows(home / "warehouse.duckdb")

    for outcome in summary.outcomes:
        if outcome.problem:
            summary.violations.append(
                f"run {outcome.run.number} ({' '.join(outcome.run.args())}): {outcome.problem}; "
                f"see {outcome.log}"
            )
    summary.violations.extend(f"warehouse differs from the reference: {d}" for d in diff)
    if not analysts:
        summary.violations.append("the analysts never held the warehouse (was it ever created?)")
    for analyst in analysts:
        stats = analyst.stats
        summary.violations.extend(f"{analyst.role} analyst: {e}" for e in stats["errors"])
        if analyst.role == "read-write" and notes != stats.get("expected_rows"):
            summary.violations.append(
                f"read-write analyst's table analyst_notes has {notes} rows at the end, "
                f"{stats.get('expected_rows')} written"
            )
    codes = Counter(o.code for o in summary.outcomes)
    named = sum(1 for o in summary.outcomes if o.code not in (0, None) and not o.problem)
    rows = sum(len(rows) for rows in reference_tables.values())
    print(
        f"\nruns: {len(summary.outcomes)}, exit codes {dict(codes)}, failures that named their partition: {named}"
    )
    print(
        f"wall time of the runs: {wall:.1f} s ({args.parallel} at a time); reference run: {reference_s:.1f} s"
    )
    for analyst in analysts:
        s = analyst.stats
        print(
            f"{analyst.role} analyst: {s['holds']} holds, {s['queries']} queries, "
            f"{len(s['errors'])} errors, {s.get('lock_retries', 0)} waits for a lock, longest "
            f"wait {s.get('longest_wait_s', 0):.1f} s"
            + (
                f", analyst_notes {notes} rows of {s.get('expected_rows')}"
                if analyst.role == "read-write"
                else ""
            )
        )
    print(
        "final warehouse vs the clean sequential run: "
        + ("EQUAL" if not diff else "DIFFERENT")
        + f" ({len(MART_TABLES)} tables, {rows:,} reference rows)"
    )
    if summary.violations:
        print("\nVIOLATIONS:\n" + "\n".join(f"- {v}" for v in summary.violations))
        raise SystemExit(1)
    print("no violations")


if __name__ == "__main__":
    main()
