"""Soak: concurrent `agentstate backfill` processes, a faulty vendor, schedule files rewritten,
kill -9, and three analysts connected to the DuckLake warehouse all along; one home.

    .venv/bin/python benchmarks/soak.py                      # 20 runs, 6 at a time, 40 agents
    .venv/bin/python benchmarks/soak.py --runs 8 --agents 10 --kill-every-s 20   # a smaller one

One simulator process with every fault (`agentstate simulate --faults all`) serves a fixed
week. `--runs` backfills of random vendors (cxengage, cxone, koreai or all) and random day
ranges of that week run as separate processes, at most `--parallel` at a time, all against
ONE AGENTSTATE_HOME and ONE DAGSTER_HOME, with AGENTSTATE_NOW fixed after the week so every
run sees the same vendor data. Meanwhile:

- the WFM tool rewrites the week's schedule files in the inbox every `--rewrite-every-s`
  (atomically, as an export lands: half of each file, then the whole file, and so on) until
  two thirds of the runs have started, then leaves the whole files;
- every `--kill-every-s` one running backfill, drawn at random, gets SIGKILL; it is run again
  (with the same arguments) at once; a run is killed at most once;
- three analysts stay connected to the warehouse through `agentstate_etl.warehouse.connect`:
  two read-only ones, which record each snapshot they see (its id and, per table and day, the
  rows and a sum, read in one transaction, every 0.3 s), and a read-write one who adds rows to
  a notes table every `--analyst-write-every-s` and creates a table of their own every fifth
  time, checking first that every row they wrote is there.

Checked, each a violation when broken (exit status 1):
- every backfill exits 0 within `--run-timeout-s`, except those killed, whose re-run exits 0;
- every state a reader saw is one whole snapshot: what it read equals the same snapshot read
  again by time travel (`AT (VERSION => id)`), and the (vendor, day) keys it held are exactly
  those the commits up to that snapshot wrote (so each commit's days appear together);
- the final warehouse equals a clean sequential run (the whole week backfilled once in a fresh
  home, with the final schedule files, against a fresh simulator with the same seed), row for
  row, for every table of `agentstate_etl.marts.tables.MART_TABLES`;
- the read-write analyst's tables are all there with every row written; no analyst query
  failed (a write the runs' commits overtook is retried and counted, as docs/warehouse.md says);
- no schedule file is pending at the end (the lake holds each file as it is);
- no credential, in any of the spellings the product redacts (raw, URL-, JSON-, HTML-escaped,
  base64 at any alignment), in any file under AGENTSTATE_HOME or DAGSTER_HOME.

Seeded (`--seed`: the plan, the kills and the simulator), bounded in runs and time, loopback
only. Each run's output and the analysts' records are kept under benchmarks/out/soak-<time>/.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from agentstate_etl import lake
from agentstate_etl.marts.tables import MART_TABLES
from agentstate_etl.redaction import spellings
from agentstate_etl.schedules import SOURCE_SHA256, schedule_key
from agentstate_etl.simulator.config import Credentials, Faults, SimConfig
from agentstate_etl.simulator.schedule import schedule_files, write_files
from agentstate_etl.simulator.server import SimulatorProcess, vendor_env
from agentstate_etl.simulator.world import World
from agentstate_etl.warehouse.location import WarehouseLocation
from agentstate_etl.warehouse.session import open_session

HERE = Path(__file__).parent
ROOT = HERE.parent
VENDOR_CHOICES = ("cxengage", "cxone", "koreai", "all")
ALL_VENDORS = ("cxengage", "cxone", "koreai")
WEEK_START = date(2026, 3, 2)  # Monday; the US spring-forward (2026-03-08) is its last day
WEEK_DAYS = 7
WEEK = [WEEK_START + timedelta(days=i) for i in range(WEEK_DAYS)]
NOW = datetime(2026, 3, 9, 6, 0, tzinfo=UTC)  # after the week: every partition is over
RETENTION_DAYS = 10  # the simulated CxEngage tenant keeps the whole week (its settings say so)
FAULTS = "all"  # every fault the simulator has
SECRET_FIELDS = ("cxengage_password", "cxone_client_secret", "koreai_client_secret")


@dataclass(frozen=True)
class Run:
    number: int
    vendor: str
    start: date
    end: date  # exclusive, as the CLI takes it

    def args(self) -> list[str]:
        return [
            *("backfill", "--vendor", self.vendor),
            *("--start", str(self.start), "--end", str(self.end)),
        ]

    def covers(self) -> set[tuple[str, date]]:
        vendors = ALL_VENDORS if self.vendor == "all" else (self.vendor,)
        days = [self.start + timedelta(days=i) for i in range((self.end - self.start).days)]
        return {(v, d) for v in vendors for d in days}


@dataclass
class Attempt:
    run: Run
    code: int | None  # None: stopped at its timeout, or never started before the deadline
    seconds: float
    log: Path
    killed: bool = False  # by the soak's kill -9


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
    return [sys.executable, "-m", "agentstate_etl.cli"]


def environment(home: Path, base_url: str, roster: Path, args: argparse.Namespace) -> dict:
    """The runs' environment: nothing inherited that could point elsewhere."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AGENTSTATE_", "DAGSTER_", "CXENGAGE_", "CXONE_", "KOREAI_", "AWS_"))
    }
    env.update(
        vendor_env(base_url, args.koreai_timezone, 1, RETENTION_DAYS, str(roster)),
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
        AGENTSTATE_HOME=str(home),
        DAGSTER_HOME=str(home / "dagster"),
        AGENTSTATE_NOW=NOW.isoformat(),
        AGENTSTATE_START_DATE=str(WEEK_START - timedelta(days=7)),
        AGENTSTATE_REPORT_TZ=args.report_tz,
    )
    return env


def sim_config(args: argparse.Namespace, faults: str) -> SimConfig:
    return SimConfig(
        seed=args.seed,
        agents=args.agents,
        start=WEEK_START - timedelta(days=1),
        now=NOW,
        koreai_timezone=args.koreai_timezone,
        faults=Faults.parse(faults),
        cxengage_retention=timedelta(days=RETENTION_DAYS),
    )


def simulator_args(args: argparse.Namespace, roster_dir: Path) -> list[str]:
    return [
        *("--agents", str(args.agents), "--seed", str(args.seed), "--faults", args.faults),
        *("--start", str(WEEK_START - timedelta(days=1)), "--now", NOW.isoformat()),
        *("--koreai-timezone", args.koreai_timezone),
        *("--cxengage-retention-days", str(RETENTION_DAYS), "--roster-dir", str(roster_dir)),
    ]


# --- the WFM tool -----------------------------------------------------------------------------


class ScheduleExports:
    """The week's schedule files as the simulated agents were given them (whole), and a
    version with every other row (what a half-finished export holds); written atomically."""

    def __init__(self, args: argparse.Namespace) -> None:
        # the schedule comes from the agents' timelines alone (no junk rows: half a file must
        # stay under the quarantine rate)
        self.frames = schedule_files(World(sim_config(args, "none")), args.report_tz, WEEK)

    def write(self, folder: Path, whole: bool) -> None:
        halves = {day: frame.iloc[::2] for day, frame in self.frames.items()}
        write_files(self.frames if whole else halves, folder)


def rewrite_schedules(
    exports: ScheduleExports, folder: Path, stop: threading.Event, every_s: float
) -> int:
    """Half, whole, half, ... every `every_s` until `stop`; then whole. The rewrites made."""
    rewrites, whole = 0, True
    while not stop.wait(every_s):
        whole = not whole
        exports.write(folder, whole)
        rewrites += 1
    if not whole:
        exports.write(folder, True)
        rewrites += 1
    return rewrites


def pending_schedules(home: Path, folder: Path) -> list[str]:
    """Files whose content the lake does not hold as landed."""
    landed = lake.Lake.from_url(home / "lake")
    pending = []
    for path in sorted(folder.glob("*-*-*.*")):
        manifest = landed.manifest(lake.SCHEDULES, schedule_key(date.fromisoformat(path.stem)))
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        if manifest is None or manifest.metadata.get(SOURCE_SHA256) != sha:
            pending.append(path.name)
    return pending


# --- the analysts -----------------------------------------------------------------------------

# A reader's record of one snapshot, read in one transaction: per table and day, rows and a sum.
FINGERPRINT = """
SELECT 'agent_state_intervals', vendor, partition_date::VARCHAR, count(*), round(sum(duration_s), 3)
FROM agent_state_intervals{at} GROUP BY ALL
UNION ALL
SELECT 'mart_state_totals_daily', vendor, day::VARCHAR, count(*), round(sum(logged_in_s), 3)
FROM mart_state_totals_daily{at} GROUP BY ALL
UNION ALL
SELECT 'mart_adherence_daily', vendor, day::VARCHAR, count(*), round(sum(scheduled_s), 3)
FROM mart_adherence_daily{at} GROUP BY ALL
"""

# One analyst process (argv: role, records file, stop file). It waits for the warehouse, then
# connects ONCE and stays connected until the stop file exists; its summary is one JSON line.
ANALYST = r"""
import json, os, sys, time
import duckdb
from agentstate_etl.errors import WarehouseError
from agentstate_etl.warehouse import connect

role, records, stop = sys.argv[1], sys.argv[2], sys.argv[3]
FINGERPRINT, WRITE_EVERY_S = sys.argv[4], float(sys.argv[5])
stats = {"role": role, "queries": 0, "snapshots": 0, "errors": [], "retried_writes": 0,
         "tables": {}, "notes": 0}
while True:
    try:
        con = connect(read_only=(role == "read-only"))
        break
    except WarehouseError:  # the first run has not created it yet
        if os.path.exists(stop):
            print(json.dumps(stats)); sys.exit(0)
        time.sleep(0.2)

def write(statements):
    # a write a run's commit overtook fails at COMMIT ("database is locked"): run it again
    for attempt in range(50):
        try:
            con.execute("BEGIN")
            for sql, params in statements:
                con.execute(sql, params)
            con.execute("COMMIT")
            return
        except duckdb.Error as error:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            if "database is locked" not in str(error) and "conflict" not in str(error).lower():
                raise
            stats["retried_writes"] += 1
            time.sleep(0.1 * (attempt + 1))
    raise RuntimeError("a write never committed in 50 tries")

last, turn = None, 0
with open(records, "w") as out:
    while not os.path.exists(stop):
        try:
            if role == "read-only":
                con.execute("BEGIN")
                snapshot = con.execute(
                    "SELECT id FROM ducklake_current_snapshot('warehouse')").fetchone()[0]
                try:
                    rows = con.execute(FINGERPRINT.format(at="")).fetchall()
                except duckdb.CatalogException:  # before the first run's tables
                    rows = None
                again = con.execute(
                    "SELECT id FROM ducklake_current_snapshot('warehouse')").fetchone()[0]
                con.execute("COMMIT")
                stats["queries"] += 1
                if snapshot != again:
                    stats["errors"].append(f"snapshot {snapshot} became {again} in a transaction")
                if rows is not None and snapshot != last:
                    out.write(json.dumps({"snapshot": snapshot, "rows": rows}, default=str) + "\n")
                    out.flush()
                    stats["snapshots"] += 1
                    last = snapshot
                time.sleep(0.3)
            else:
                marts = con.execute(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_name = 'mart_state_totals_daily'").fetchone()[0]
                turn += 1
                for table, rows in stats["tables"].items():
                    found = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                    if found != rows:
                        stats["errors"].append(f"{table} has {found} rows, {rows} written")
                if turn == 1:
                    write([("CREATE TABLE analyst_notes (n BIGINT, note VARCHAR)", [])])
                    stats["tables"]["analyst_notes"] = 0
                found = con.execute("SELECT count(*) FROM analyst_notes").fetchone()[0]
                if found != stats["notes"]:
                    stats["errors"].append(f"analyst_notes has {found} rows, {stats['notes']} written")
                write([("INSERT INTO analyst_notes SELECT ? + range, 'turn ' || ? FROM range(10)",
                        [stats["notes"], turn])])
                stats["notes"] += 10
                stats["tables"]["analyst_notes"] = stats["notes"]
                if turn % 5 == 0 and marts:
                    table = f"analyst_table_{turn // 5}"
                    write([(f"CREATE TABLE {table} AS SELECT vendor, count(*) AS agent_days "
                            "FROM mart_state_totals_daily GROUP BY vendor", [])])
                    stats["tables"][table] = con.execute(
                        f"SELECT count(*) FROM {table}").fetchone()[0]
                if marts:
                    con.execute(
                        "SELECT count(*), sum(logged_in_s) FROM mart_state_totals_daily").fetchone()
                    stats["queries"] += 1
                time.sleep(WRITE_EVERY_S)
        except Exception as error:
            stats["errors"].append(f"{type(error).__name__}: {error}"[:300])
            time.sleep(0.5)
con.close()
print(json.dumps(stats), flush=True)
"""


class Analyst:
    def __init__(
        self, role: str, number: int, env: dict, logs: Path, stop: Path, write_every_s: float
    ) -> None:
        self.role, self.records = role, logs / f"analyst-{number}-{role}.jsonl"
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-c", ANALYST, role, str(self.records), str(stop)),
                *(FINGERPRINT, str(write_every_s)),
            ],
            env=env,
            cwd=env["AGENTSTATE_HOME"],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.stats: dict = {"role": role, "errors": []}

    def finish(self) -> dict:
        out, _ = self.process.communicate(timeout=120)
        lines = out.strip().splitlines()
        if self.process.returncode or not lines:
            self.stats["errors"].append(f"the analyst process ended {self.process.returncode}")
        else:
            self.stats = json.loads(lines[-1])
        return self.stats


def check_readers(location: WarehouseLocation, analysts: list[Analyst]) -> tuple[list[str], int]:
    """Each state a reader recorded against the same snapshot read again, and against the
    days the commits up to it wrote; the problems found, and the states checked."""
    problems, checked = [], 0
    with closing(open_session(location, read_only=True)) as con:
        # the (vendor, day) keys of agent_state_intervals each commit wrote rows for
        written: dict[int, set[tuple[str, str]]] = {}
        last = con.execute("SELECT id FROM ducklake_current_snapshot('warehouse')").fetchone()[0]
        for snapshot, vendor, day in con.execute(
            "SELECT DISTINCT snapshot_id, vendor, partition_date::VARCHAR FROM "
            "ducklake_table_changes('warehouse', 'main', 'agent_state_intervals', 0, ?) "
            "WHERE change_type LIKE 'insert%' OR change_type = 'update_postimage'",
            [last],
        ).fetchall():
            written.setdefault(int(snapshot), set()).add((vendor, day))
        for analyst in analysts:
            if analyst.role != "read-only" or not analyst.records.exists():
                continue
            for line in analyst.records.read_text().splitlines():
                seen = json.loads(line)
                snapshot = int(seen["snapshot"])
                again = con.execute(
                    FINGERPRINT.format(at=f" AT (VERSION => {snapshot})")
                ).fetchall()
                normal = sorted(json.dumps(list(r), default=str) for r in again)
                if normal != sorted(json.dumps(r) for r in seen["rows"]):
                    problems.append(f"reader state at snapshot {snapshot} is not that snapshot")
                keys = {(v, d) for t, v, d, *_ in seen["rows"] if t == "agent_state_intervals"}
                committed = set().union(*(k for s, k in written.items() if s <= snapshot))
                if keys != committed:
                    problems.append(
                        f"reader at snapshot {snapshot} held {len(keys)} (vendor, day) keys, the "
                        f"commits up to it wrote {len(committed)}"
                    )
                checked += 1
    return problems, checked


# --- the runs, the kills and the comparison ---------------------------------------------------


class Runs:
    """The backfill processes running now, for the killer to draw from."""

    def __init__(self, total: int, last_rewrite: threading.Event) -> None:
        self.lock = threading.Lock()
        self.running: dict[int, Run] = {}  # pid -> its run
        self.killed: set[int] = set()  # pids
        self.hit: set[Run] = set()
        self.started, self.total = 0, total
        self.last_rewrite = last_rewrite  # set once two thirds of the runs have started

    def kill_one(self, rng: random.Random) -> int | None:
        """SIGKILL to a running backfill, drawn at random among the runs not killed before
        (a run is killed at most once, so every run ends)."""
        with self.lock:
            spared = sorted(p for p, run in self.running.items() if run not in self.hit)
            if not spared:
                return None
            pid = rng.choice(spared)
            self.killed.add(pid)
            self.hit.add(self.running[pid])
            os.kill(pid, signal.SIGKILL)
            return pid


def run_until_done(
    run: Run, env: dict, logs: Path, runs: Runs, deadline: float, args: argparse.Namespace
) -> list[Attempt]:
    """The run, and again each time it is killed; every attempt."""
    attempts: list[Attempt] = []
    with runs.lock:
        runs.started += 1
        if runs.started * 3 >= 2 * runs.total:
            runs.last_rewrite.set()
    while True:
        log = logs / f"run-{run.number:02d}-{len(attempts) + 1}-{run.vendor}-{run.start}.log"
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            attempts.append(Attempt(run, None, 0.0, log))
            return attempts
        began = time.monotonic()
        with log.open("w") as out:
            out.write(f"$ agentstate {' '.join(run.args())}\n")
            out.flush()
            with runs.lock:
                process = subprocess.Popen(
                    [*agentstate(), *run.args()],
                    env=env,
                    cwd=env["AGENTSTATE_HOME"],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
                runs.running[process.pid] = run
            try:
                code: int | None = process.wait(timeout=min(args.run_timeout_s, remaining))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                code = None
            with runs.lock:
                del runs.running[process.pid]
                killed = process.pid in runs.killed
        attempts.append(Attempt(run, code, time.monotonic() - began, log, killed))
        if not killed:
            return attempts


def killer(runs: Runs, stop: threading.Event, rng: random.Random, every_s: float) -> list[int]:
    kills = []
    while not stop.wait(every_s):
        pid = runs.kill_one(rng)
        if pid is not None:
            kills.append(pid)
    return kills


def tables(location: WarehouseLocation) -> dict[str, list[tuple]]:
    with closing(open_session(location, read_only=True)) as con:
        return {
            table: sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            for table in MART_TABLES
        }


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


def secrets_in_files(folder: Path) -> list[str]:
    """Files under `folder` holding any credential of the simulated tenant, in any spelling."""
    credentials = Credentials.of_tenant(1)
    values = [getattr(credentials, f) for f in SECRET_FIELDS]
    values.append(f"{credentials.cxengage_username}:{credentials.cxengage_password}")
    forms = {form.encode() for value in values for form in spellings(value)}
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        data = path.read_bytes()
        if any(form in data for form in forms):
            found.append(str(path.relative_to(folder)))
    return found


def reference_run(
    scratch: Path, exports: ScheduleExports, args: argparse.Namespace
) -> tuple[WarehouseLocation, float]:
    """The whole week backfilled once, with the final schedule files, in a fresh home,
    against a fresh simulator."""
    home = scratch / "reference"
    home.mkdir()
    exports.write(home / "inbox" / "schedules", whole=True)
    end = WEEK_START + timedelta(days=WEEK_DAYS)
    command = ["backfill", "--vendor", "all", "--start", str(WEEK_START), "--end", str(end)]
    roster_dir = scratch / "reference-roster"
    with SimulatorProcess(simulator_args(args, roster_dir)) as sim:
        env = environment(home, sim.base_url, roster_dir / "cxone-agents-tenant-1.csv", args)
        began = time.monotonic()
        done = subprocess.run(
            [*agentstate(), *command],
            env=env,
            cwd=home,
            capture_output=True,
            text=True,
            timeout=args.run_timeout_s,
        )
    if done.returncode:
        raise SystemExit(
            f"the reference run failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return WarehouseLocation.from_values("", "", home), time.monotonic() - began


@dataclass
class Summary:
    attempts: list[Attempt] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=6, help="runs at a time (2 cores: 6)")
    parser.add_argument("--agents", type=int, default=40, help="agents per vendor")
    parser.add_argument("--seed", type=int, default=1, help="the plan's, kills' and simulator's")
    parser.add_argument("--report-tz", default="America/New_York", help="AGENTSTATE_REPORT_TZ")
    parser.add_argument("--koreai-timezone", default="America/New_York")
    parser.add_argument(
        "--faults",
        default=FAULTS,
        help="the simulator's faults (`agentstate simulate --faults`)",
    )
    parser.add_argument("--kill-every-s", type=float, default=60, help="one kill -9 each")
    parser.add_argument("--rewrite-every-s", type=float, default=10, help="schedule rewrites")
    parser.add_argument(
        "--analyst-write-every-s", type=float, default=5, help="the read-write analyst's pace"
    )
    parser.add_argument("--run-timeout-s", type=float, default=900)
    parser.add_argument("--deadline-s", type=float, default=3600, help="for all the runs")
    parser.add_argument("--out", type=Path, default=None, help="logs [benchmarks/out/soak-<time>]")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    runs = plan(rng, args.runs)
    logs = args.out or HERE / "out" / f"soak-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    logs.mkdir(parents=True, exist_ok=True)
    summary = Summary()
    print(
        f"soak: {len(runs)} runs of agentstate backfill, {args.parallel} at a time, seed "
        f"{args.seed}, faults {args.faults}, {args.agents} agents per vendor, week {WEEK_START} + "
        f"{WEEK_DAYS} days, AGENTSTATE_NOW={NOW.isoformat()}, report zone {args.report_tz}, "
        f"a kill -9 every {args.kill_every_s:g} s, schedules rewritten every "
        f"{args.rewrite_every_s:g} s; logs in {logs}",
        flush=True,
    )
    exports = ScheduleExports(args)
    with tempfile.TemporaryDirectory(prefix="agentstate-soak-") as scratch_dir:
        scratch = Path(scratch_dir)
        home = scratch / "shared"
        home.mkdir()
        inbox = home / "inbox" / "schedules"
        exports.write(inbox, whole=True)
        location = WarehouseLocation.from_values("", "", home)
        roster_dir = scratch / "roster"
        with SimulatorProcess(simulator_args(args, roster_dir)) as sim:
            env = environment(home, sim.base_url, roster_dir / "cxone-agents-tenant-1.csv", args)
            stop_file = scratch / "analysts.stop"
            analysts = [
                Analyst(role, n, env, logs, stop_file, args.analyst_write_every_s)
                for n, role in enumerate(("read-only", "read-only", "read-write"), start=1)
            ]
            stop_rewrites, stop_kills = threading.Event(), threading.Event()
            active = Runs(len(runs), stop_rewrites)
            rewrites: list[int] = []
            kills: list[list[int]] = []
            threads = [
                threading.Thread(
                    target=lambda: rewrites.append(
                        rewrite_schedules(exports, inbox, stop_rewrites, args.rewrite_every_s)
                    )
                ),
                threading.Thread(
                    target=lambda: kills.append(
                        killer(active, stop_kills, random.Random(args.seed), args.kill_every_s)
                    )
                ),
            ]
            for thread in threads:
                thread.start()
            began = time.monotonic()
            deadline = began + args.deadline_s
            try:
                with ThreadPoolExecutor(args.parallel, thread_name_prefix="run") as pool:
                    futures = [
                        pool.submit(run_until_done, run, env, logs, active, deadline, args)
                        for run in runs
                    ]
                    for future in futures:
                        for attempt in future.result():
                            summary.attempts.append(attempt)
                            print(
                                f"  run {attempt.run.number:2d} {attempt.run.vendor:<8} "
                                f"{attempt.run.start}..{attempt.run.end - timedelta(days=1)}  "
                                f"exit {attempt.code}  {attempt.seconds:6.1f} s"
                                + ("  (killed: run again)" if attempt.killed else ""),
                                flush=True,
                            )
            finally:
                stop_rewrites.set()
                stop_kills.set()
                for thread in threads:
                    thread.join(timeout=120)
                stop_file.touch()
                for analyst in analysts:
                    analyst.finish()
            wall = time.monotonic() - began
        pending = pending_schedules(home, inbox)
        reader_problems, states = check_readers(location, analysts)
        with closing(open_session(location, read_only=True)) as con:
            snapshots = con.execute("SELECT count(*) FROM ducklake_snapshots('warehouse')")
            snapshot_count = int(snapshots.fetchone()[0])  # type: ignore[index]
            notes = {
                table: int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
                for table in analysts[-1].stats.get("tables", {})
            }
        leaked = secrets_in_files(home)
        print("reference: the whole week, --vendor all, one run in a fresh home ...", flush=True)
        reference, reference_s = reference_run(scratch, exports, args)
        soak_tables, reference_tables = tables(location), tables(reference)
        diff = differences(soak_tables, reference_tables)
        leaked += [f"reference/{p}" for p in secrets_in_files(reference.home)]

    for attempt in summary.attempts:
        if attempt.code != 0 and not attempt.killed:
            summary.violations.append(
                f"run {attempt.run.number} ({' '.join(attempt.run.args())}) exited {attempt.code}; "
                f"see {attempt.log}"
            )
    summary.violations.extend(f"warehouse differs from the reference: {d}" for d in diff)
    summary.violations.extend(reader_problems)
    summary.violations.extend(f"schedule file {name} is pending at the end" for name in pending)
    summary.violations.extend(f"a credential is in {path}" for path in leaked)
    for analyst in analysts:
        summary.violations.extend(f"{analyst.role} analyst: {e}" for e in analyst.stats["errors"])
    written = analysts[-1].stats.get("tables", {})
    if not written:
        summary.violations.append("the read-write analyst never wrote a table")
    if notes != written:
        summary.violations.append(f"the analyst's tables at the end {notes}, written {written}")
    if not any(a.stats.get("snapshots") for a in analysts if a.role == "read-only"):
        summary.violations.append("the readers never saw a snapshot")

    killed = [a for a in summary.attempts if a.killed]
    codes = Counter(a.code for a in summary.attempts if not a.killed)
    rows = sum(len(rows) for rows in reference_tables.values())
    print(
        f"\nruns: {len(runs)}, attempts {len(summary.attempts)} ({len(killed)} killed by kill -9 "
        f"and run again), exit codes of the others {dict(codes)}"
    )
    print(
        f"wall time of the runs: {wall:.1f} s ({args.parallel} at a time); reference run: "
        f"{reference_s:.1f} s; schedule rewrites: {sum(rewrites)}; warehouse snapshots: "
        f"{snapshot_count}"
    )
    for analyst in analysts:
        s = analyst.stats
        print(
            f"{s['role']} analyst: {s.get('queries', 0)} queries, {s.get('snapshots', 0)} "
            f"snapshots recorded, {len(s['errors'])} errors, {s.get('retried_writes', 0)} "
            "writes retried"
            + (f", tables {written} (at the end {notes})" if s["role"] == "read-write" else "")
        )
    print(f"reader states checked against time travel and the commits: {states}")
    print(f"schedule files pending at the end: {len(pending)}; files with a credential: {leaked}")
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
