"""The warehouse and the Dagster instance under real concurrent processes, as users run them:
an analyst's read-write session, three builds at once, a build killed before its commit, two first runs
into a fresh DAGSTER_HOME, a backfill killed with SIGKILL."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import dagster as dg
import pytest

from agentstate_etl import lake
from agentstate_etl.simulator.server import SimulatorServer
from agentstate_etl.warehouse.session import open_session
from tests.e2e.conftest import DAYS, SIM_NOW, Backfill
from tests.warehouse import tables, warehouse_of

POLL_S = 0.05
WAIT_S = 120


def wait_for(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(POLL_S)


@pytest.fixture
def home(backfill: Backfill, tmp_path: Path) -> Path:
    """A private AGENTSTATE_HOME holding a copy of the session's lake, warehouse not built."""
    home = tmp_path / "data"
    shutil.copytree(backfill.home / "lake", home / "lake")
    return home


def environment(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTSTATE_", "DAGSTER_"))}
    env.update(
        AGENTSTATE_HOME=str(home),
        DAGSTER_HOME=str(home / "dagster"),
        AGENTSTATE_START_DATE="2026-03-01",
        AGENTSTATE_NOW=SIM_NOW.isoformat(),
        **extra,
    )
    return env


def agentstate(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentstate_etl.cli", *args],
        env=environment(home, **env),
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )


ANALYST = """
import sys
from agentstate_etl.warehouse import connect
con = connect()  # read-write, as an analyst's notebook opens it
con.execute("CREATE TABLE my_notes AS SELECT range AS n FROM range(1500)")
print(con.execute("SELECT count(*) FROM mart_state_totals_daily").fetchone()[0], flush=True)
sys.stdin.readline()  # the session stays open while runs rebuild the marts
con.execute("INSERT INTO my_notes SELECT 1500 + range FROM range(10)")
con.close()
"""


@pytest.fixture
def analyst(home: Path) -> Iterator[subprocess.Popen[str]]:
    assert agentstate(home, "rebuild").returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-c", ANALYST],
        env=environment(home),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    with process:  # closes its pipes
        assert process.stdout is not None
        assert int(process.stdout.readline()) > 0
        yield process
        if process.poll() is None:
            process.kill()


def test_an_analysts_read_write_session_breaks_nothing_and_keeps_their_table(
    home: Path, analyst: subprocess.Popen[str], backfill: Backfill
) -> None:
    rebuilt = agentstate(home, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    exported = agentstate(home, "export", "--table", "mart_state_totals_daily", "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    assert (home / "exports" / "mart_state_totals_daily.csv").stat().st_size > 0
    shown = agentstate(home, "sql", "-c", "SELECT count(*) AS notes FROM my_notes")
    assert shown.returncode == 0 and "1500" in shown.stdout, shown.stderr
    analyst.communicate("\n", timeout=WAIT_S)
    assert analyst.returncode == 0
    notes = tables(warehouse_of(home), ["my_notes"])["my_notes"]
    assert sorted(notes) == [(n,) for n in range(1510)]
    assert tables(warehouse_of(home)) == tables(backfill.warehouse)


UPDATE = """
import sys
from agentstate_etl import lake
from agentstate_etl.marts.update import update_warehouse
from agentstate_etl.settings import Settings
settings = Settings.from_env()
update_warehouse(settings, settings.lake.partitions(lake.INTERVALS, sys.argv[1]))
"""


def test_concurrent_builds_lose_no_update(home: Path, backfill: Backfill) -> None:
    """Three updates of different vendors at once into a new warehouse: all succeed (the first
    to hold the lock builds it whole) and none loses another's days."""
    for _ in range(2):
        (home / "warehouse.sqlite").unlink(missing_ok=True)
        shutil.rmtree(home / "warehouse", ignore_errors=True)
        processes = [
            subprocess.Popen([sys.executable, "-c", UPDATE, vendor], env=environment(home))
            for vendor in ("cxengage", "cxone", "koreai")
        ]
        assert [p.wait(timeout=WAIT_S) for p in processes] == [0, 0, 0]
        assert tables(warehouse_of(home)) == tables(backfill.warehouse)


KILLED_BEFORE_COMMIT = """
import pathlib, sys, time
from agentstate_etl.marts import publish
from agentstate_etl.marts.update import build_warehouse
from agentstate_etl.settings import Settings

def stop_before_commit(self, con, message):
    pathlib.Path(sys.argv[1]).write_text("every day written, not committed")
    time.sleep(600)

publish.Publication.commit = stop_before_commit
build_warehouse(Settings.from_env())
"""


def current_snapshot(home: Path) -> int:
    with closing(open_session(warehouse_of(home), read_only=True)) as con:
        found = con.execute("SELECT id FROM ducklake_current_snapshot('warehouse')").fetchone()
        return int(found[0])  # type: ignore[index]


def test_a_build_killed_before_its_commit_leaves_the_previous_warehouse(
    home: Path, backfill: Backfill, tmp_path: Path
) -> None:
    assert agentstate(home, "rebuild").returncode == 0
    before, snapshot = tables(warehouse_of(home)), current_snapshot(home)
    marker = tmp_path / "written"
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_BEFORE_COMMIT, str(marker)], env=environment(home)
    )
    wait_for(marker.exists, "the rebuild to write its days")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=WAIT_S)
    assert current_snapshot(home) == snapshot
    assert tables(warehouse_of(home)) == before
    again = agentstate(home, "rebuild")  # the killed writer's lock went with it
    assert again.returncode == 0, again.stderr
    assert current_snapshot(home) > snapshot
    assert tables(warehouse_of(home)) == tables(backfill.warehouse)


INSTANCE = """
from agentstate_etl.settings import Settings
from assets.runner import dagster_instance
print(len(dagster_instance(Settings.from_env()).get_runs()))
"""


def test_first_runs_into_a_fresh_dagster_home_do_not_race(tmp_path: Path) -> None:
    for trial in range(2):
        home = tmp_path / f"trial-{trial}"
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", INSTANCE],
                env=environment(home),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        outcomes = [p.communicate(timeout=WAIT_S) for p in processes]
        assert [p.returncode for p in processes] == [0, 0, 0], outcomes


def start_backfill(
    home: Path, simulator: SimulatorServer, args: list[str]
) -> subprocess.Popen[bytes]:
    """A backfill in its own process, returned once its first run is STARTED."""
    process = subprocess.Popen(
        [sys.executable, "-m", "agentstate_etl.cli", *args],
        env=environment(home, **simulator.env()),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: run_statuses(home) & {"STARTED"}, "the backfill's run to start")
    return process


def run_statuses(home: Path) -> set[str]:
    """The instance's run statuses, read under the lock the CLI creates the instance under
    (opening an instance while another process creates it races on SQLite's schema)."""
    lock = home / "dagster" / ".agentstate-init.lock"
    if not lock.exists():
        return set()
    with open(lock, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
            return {run.status.value for run in instance.get_runs()}


BACKFILL = ["backfill", "--vendor", "cxone", "--start", str(DAYS[0]), "--end", str(DAYS[-1])]


def test_a_backfill_killed_with_sigkill_is_marked_failed_by_the_next_run(
    home: Path, simulator: SimulatorServer
) -> None:
    process = start_backfill(home, simulator, BACKFILL)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=WAIT_S)
    again = agentstate(home, *BACKFILL, **simulator.env())
    assert again.returncode == 0, again.stderr
    statuses = run_statuses(home)
    assert "STARTED" not in statuses and "FAILURE" in statuses
    # and the killed run left nothing a reader would take for data
    landed = lake.Lake.from_url(home / "lake")
    for key in landed.partitions(lake.RAW, "cxone"):
        landed.read(lake.RAW, key)


def test_sigterm_ends_a_backfill_and_its_run(home: Path, simulator: SimulatorServer) -> None:
    process = start_backfill(home, simulator, BACKFILL)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=WAIT_S) == 130  # as Ctrl-C ends it, whatever it was doing
    assert "STARTED" not in run_statuses(home)
