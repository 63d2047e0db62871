"""Two `agentstate backfill` processes of the same partition, racing for its landing: the one
that commits second finds the other's landing (as fresh as its own) and keeps it instead of
failing; both exit 0 and the warehouse equals a rebuild of the lake they leave.

The race is forced: the first process stops just before its raw manifest
(tests/deploy/pause_before_manifest.py), the second backfills the same day to the end, then the
first goes on and meets the second's landing at its compare-and-swap."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from agentstate_etl import lake
from agentstate_etl.simulator.server import SimulatorServer
from tests.e2e.conftest import DAYS, SIM_NOW
from tests.warehouse import copy_warehouse, tables, warehouse_of

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 180
DAY = DAYS[1]
BACKFILL = ["backfill", "--vendor", "cxengage", "--start", str(DAY), "--end", str(DAYS[2])]
PAUSED_CLI = (
    "import runpy, tests.deploy.pause_before_manifest; "
    "runpy.run_module('agentstate_etl.cli', run_name='__main__')"
)


def environment(home: Path, simulator: SimulatorServer, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTSTATE_", "DAGSTER_"))}
    env.update(
        simulator.env(),
        PYTHONPATH=str(ROOT),
        AGENTSTATE_HOME=str(home),
        DAGSTER_HOME=str(home / "dagster"),
        AGENTSTATE_START_DATE="2026-03-01",
        AGENTSTATE_NOW=SIM_NOW.isoformat(),
        **extra,
    )
    return env


def agentstate(home: Path, simulator: SimulatorServer, *args: str) -> str:
    """`agentstate ARGS` in `home`, to its end; its output (it must exit 0)."""
    done = subprocess.run(
        [sys.executable, "-m", "agentstate_etl.cli", *args],
        env=environment(home, simulator),
        cwd=home,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_backfill_racing_another_of_the_same_day_keeps_its_landing_and_exits_0(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    home, marker = tmp_path / "home", tmp_path / "paused.pid"
    home.mkdir()
    first = subprocess.Popen(
        [sys.executable, "-c", PAUSED_CLI, *BACKFILL],
        env=environment(
            home,
            simulator,
            AGENTSTATE_TEST_PAUSE_MANIFEST=f"/_manifests/{lake.RAW}/vendor=cxengage/",
            AGENTSTATE_TEST_PAUSE_MARKER=str(marker),
            AGENTSTATE_TEST_PAUSE_RESUME="1",
        ),
        cwd=home,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + WAIT_S
        while not (marker.exists() and marker.read_text()):
            assert first.poll() is None, first.communicate()[0]
            assert time.monotonic() < deadline, "the first backfill never reached its manifest"
            time.sleep(0.05)
        # the first has written its raw objects and waits before its manifest: the second
        # lands the same day, builds its intervals and the warehouse meanwhile
        agentstate(home, simulator, *BACKFILL)
        landed = lake.Lake.from_url(home / "lake")
        (key,) = landed.partitions(lake.RAW, "cxengage")
        winner = landed.manifest(lake.RAW, key)
        (marker.parent / f"{marker.name}.resume").touch()
        output = first.communicate(timeout=WAIT_S)[0]
    finally:
        first.kill()
        first.wait()
    assert first.returncode == 0, output  # before: LakeConflictError, exit 1
    assert "LakeConflictError" not in output and "committed by another run" not in output

    # the second's landing stands, and nothing of the first's is left beside it
    assert landed.manifest(lake.RAW, key) == winner
    objects = sorted(
        p.relative_to(home / "lake").as_posix() for p in (home / "lake" / lake.RAW).rglob("*")
    )
    assert [o for o in objects if o.endswith(".parquet")] == [winner.objects[lake.RAW]]
    intervals = landed.manifest(lake.INTERVALS, key)
    assert intervals is not None and intervals.metadata["agentstate.built_from_raw"] == (
        winner.version
    )
    # the warehouse both runs updated equals a rebuild of the lake they left
    rebuilt = tmp_path / "rebuilt"
    copy_warehouse(home, rebuilt)
    (rebuilt / "lake").symlink_to(home / "lake")
    agentstate(rebuilt, simulator, "rebuild")
    assert tables(warehouse_of(rebuilt)) == tables(warehouse_of(home))
