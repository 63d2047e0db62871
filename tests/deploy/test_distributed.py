"""The issue's bar: a multi-vendor, multi-day backfill on the production set-up — instance on
PostgreSQL, lake on S3 (moto), steps on two Celery worker processes (Redis broker) — builds the
same warehouse as the embedded default (local lake, SQLite, in-process), to the millisecond;
and a worker killed with SIGKILL mid-step, then a re-run, changes nothing a reader sees.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from agentstate_etl import lake
from agentstate_etl.marts.tables import MART_TABLES
from agentstate_etl.settings import Settings
from agentstate_etl.simulator.server import SimulatorServer
from agentstate_etl.warehouse.location import WarehouseLocation
from agentstate_etl.warehouse.session import open_session
from assets.runner import execute
from assets.warehouse import WAREHOUSE
from tests.deploy.conftest import ROOT, agentstate_backfill
from tests.deploy.servers import PostgresServer, S3Server, celery_workers
from tests.e2e.conftest import DAYS, SIM_NOW, range_tags
from tests.warehouse import warehouse_of

pytestmark = pytest.mark.deploy

BACKFILL_DAYS = DAYS[:3]
WORKERS = {"steps-a": ["dagster", "warehouse"], "steps-b": ["dagster"]}


def read_marts(warehouse: WarehouseLocation) -> dict[str, pd.DataFrame]:
    """Every mart table, rows in a fixed order."""
    with closing(open_session(warehouse, read_only=True)) as con:
        tables = {}
        for table in MART_TABLES:
            frame = con.sql(f"SELECT * FROM {table}").to_arrow_table().to_pandas()
            tables[table] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        return tables


def assert_same_warehouse(warehouse: WarehouseLocation, expected: dict[str, pd.DataFrame]) -> None:
    actual = read_marts(warehouse)
    for table in MART_TABLES:
        if not table.startswith("mart_adherence"):  # this deployment is given no schedules
            assert len(expected[table]) > 0, f"{table} is empty: the comparison would prove nothing"
        pd.testing.assert_frame_equal(actual[table], expected[table], check_exact=True, obj=table)


@pytest.fixture(scope="module")
def embedded_marts(
    simulator: SimulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, pd.DataFrame]:
    """The embedded default: `agentstate backfill --vendor all`, local lake, SQLite, in-process."""
    home = tmp_path_factory.mktemp("embedded")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "AGENTSTATE_", "DAGSTER_", "CELERY_"))
    }
    env.update(simulator.env())
    env.update(
        AGENTSTATE_HOME=str(home / "data"),
        DAGSTER_HOME=str(home / "dagster"),
        AGENTSTATE_NOW=SIM_NOW.isoformat(),
    )
    agentstate_backfill("all", BACKFILL_DAYS, env, home)
    assert (home / "data" / "lake").is_dir()
    assert list((home / "dagster").rglob("*.db")), "the embedded default's SQLite instance"
    return read_marts(warehouse_of(home / "data"))


def production_warehouse(postgres: PostgresServer, s3_lake_url: str) -> dict[str, str]:
    """The warehouse as production keeps it: catalog in PostgreSQL, data on the lake's store."""
    database = postgres.create_database(f"warehouse_{uuid.uuid4().hex[:12]}")
    return {
        "AGENTSTATE_WAREHOUSE_URL": (
            f"ducklake:postgres:dbname={database} host=127.0.0.1 port={postgres.port} user=postgres"
        ),
        "AGENTSTATE_WAREHOUSE_DATA_PATH": f"{s3_lake_url}/warehouse/",
    }


@dataclass
class Deployment:
    env: dict[str, str]
    home: Path
    postgres: PostgresServer
    s3: S3Server

    @property
    def warehouse(self) -> WarehouseLocation:
        return Settings.from_env().warehouse

    @property
    def lake(self) -> lake.Lake:
        return Settings.from_env().lake

    def run(self, job: str, tags: dict[str, str]) -> dg.JobExecutionResult:
        """The job through the code location's executor (Celery), as the CLI runs it: vendor
        jobs without the warehouse, then the warehouse's run for the same days."""
        from assets.definitions import defs

        with dg.DagsterInstance.get() as instance:
            result = execute(defs(), job, instance, tags, without=WAREHOUSE)
        assert isinstance(result, dg.JobExecutionResult)  # not in-process
        return result

    def runs(self) -> list[tuple[str, str]]:
        database = self.env["DAGSTER_POSTGRES_URL"].rsplit("/", 1)[1]
        with self.postgres.connect(database) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT pipeline_name, status FROM runs ORDER BY create_timestamp")
            return list(cursor.fetchall())

    def celery_hosts(self, run_id: str) -> set[str]:
        """The workers that executed the run's steps (from the event log in PostgreSQL)."""
        with dg.DagsterInstance.get() as instance:
            return {
                str(event.dagster_event.engine_event_data.metadata["Celery worker"].value)
                for event in instance.all_logs(run_id)
                if event.dagster_event is not None
                and event.dagster_event.is_engine_event
                and "Celery worker" in event.dagster_event.engine_event_data.metadata
            }


@pytest.fixture
def deployment(
    simulator: SimulatorServer,
    s3: S3Server,
    postgres: PostgresServer,
    broker: str,
    dagster_home: dict[str, str],
    s3_lake_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Deployment:
    home = tmp_path / "data"
    env = {
        **simulator.env(),
        **s3.env(),
        **dagster_home,
        **production_warehouse(postgres, s3_lake_url),
        "AGENTSTATE_HOME": str(home),
        "AGENTSTATE_LAKE_URL": s3_lake_url,
        "AGENTSTATE_NOW": SIM_NOW.isoformat(),
        "AGENTSTATE_EXECUTOR": "celery",
        "CELERY_BROKER_URL": f"{broker}/0",
        "CELERY_RESULT_BACKEND": f"{broker}/1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # the schema first, as an operator does with `dagster instance migrate`: workers starting
    # together on an empty database race to create the same tables
    with dg.DagsterInstance.get():
        pass
    return Deployment(env=env, home=home, postgres=postgres, s3=s3)


def worker_env(deployment: Deployment, **extra: str) -> dict[str, str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, **deployment.env, "PYTHONPATH": str(ROOT), "PATH": path, **extra}


@pytest.fixture
def workers(deployment: Deployment, tmp_path: Path) -> Iterator[None]:
    with celery_workers(WORKERS, worker_env(deployment), tmp_path, includes=[]):
        yield


def test_celery_backfill_on_postgres_and_s3_equals_the_embedded_default(
    deployment: Deployment, workers: None, embedded_marts: dict[str, pd.DataFrame]
) -> None:
    backfill = deployment.run("all_vendors_daily", range_tags(BACKFILL_DAYS))
    assert backfill.success
    assert len(deployment.celery_hosts(backfill.run_id)) >= 2, "steps ran on both workers"
    warehouse = deployment.run("warehouse_build", range_tags(BACKFILL_DAYS))
    assert warehouse.success
    assert {h.split("@")[0] for h in deployment.celery_hosts(warehouse.run_id)} == {"steps-a"}

    assert_same_warehouse(deployment.warehouse, embedded_marts)
    assert deployment.runs() == [("all_vendors_daily", "SUCCESS"), ("warehouse_build", "SUCCESS")]
    landed = deployment.lake
    assert not landed.is_local
    assert {k.day for k in landed.partitions(lake.INTERVALS)} == set(BACKFILL_DAYS)
    assert not (deployment.home / "lake").exists()


def test_worker_killed_mid_step_then_rerun_leaves_no_partial_partition(
    deployment: Deployment,
    tmp_path: Path,
    simulator: SimulatorServer,
    embedded_marts: dict[str, pd.DataFrame],
) -> None:
    """SIGKILL of the worker process running a step, between the landing's data objects and
    its manifest: no reader sees the partition; Celery puts the step back on the queue
    (deploy/celery.yaml), it runs again, and the warehouse equals a clean run's."""
    tenant = simulator.env()["CXONE_CLIENT_ID"]
    stopped_at = lake.PartitionKey("cxone", tenant, BACKFILL_DAYS[1])
    marker = tmp_path / "stopped.pid"
    env = worker_env(
        deployment,
        AGENTSTATE_TEST_PAUSE_MANIFEST=f"_manifests/{lake.RAW}/{stopped_at.path()}.json",
        AGENTSTATE_TEST_PAUSE_MARKER=str(marker),
    )
    landed = deployment.lake
    bucket, prefix = landed.root.split("/", 1)
    seen_after_kill: dict[str, object] = {}

    def kill_then_look() -> None:
        deadline = time.monotonic() + 120
        while not (marker.exists() and marker.read_text()):
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)
        os.kill(int(marker.read_text()), signal.SIGKILL)
        # what a reader sees now, before the step runs again
        seen_after_kill["objects"] = [
            k
            for k in deployment.s3.keys(bucket, f"{prefix}/{lake.RAW}/{stopped_at.path()}/")
            if k.endswith(".parquet")
        ]
        seen_after_kill["cxone_days"] = [k.day for k in landed.partitions(lake.RAW, "cxone")]
        seen_after_kill["has"] = landed.has(lake.RAW, stopped_at)
        Path(f"{marker}.release").touch()

    with celery_workers(WORKERS, env, tmp_path, includes=["tests.deploy.pause_before_manifest"]):
        killer = threading.Thread(target=kill_then_look, daemon=True)
        killer.start()
        backfill = deployment.run("all_vendors_daily", range_tags(BACKFILL_DAYS))
        killer.join(timeout=10)
        assert seen_after_kill, "no worker reached the chosen manifest"
        assert backfill.success
        assert deployment.run("warehouse_build", range_tags(BACKFILL_DAYS)).success

    # between the kill and the re-run: the day's objects were written, nobody saw them
    written = seen_after_kill["objects"]
    assert written, "the step was killed after writing its data objects"
    assert seen_after_kill["has"] is False
    assert seen_after_kill["cxone_days"] == [BACKFILL_DAYS[0]]
    # the step ran twice in the run: killed once, then again on a worker
    with dg.DagsterInstance.get() as instance:
        starts = [
            e
            for e in instance.all_logs(backfill.run_id, of_type=dg.DagsterEventType.STEP_START)
            if e.step_key == "cxone__default__raw_records"
        ]
    assert len(starts) == 2

    assert_same_warehouse(deployment.warehouse, embedded_marts)
    committed = landed.object(lake.RAW, stopped_at)
    assert all(not k.endswith(committed) for k in written), "the orphans are not what is read"
    assert deployment.runs() == [("all_vendors_daily", "SUCCESS"), ("warehouse_build", "SUCCESS")]


READER = """
import json, pathlib, sys
from agentstate_etl.warehouse import connect
stop, out = pathlib.Path(sys.argv[1]), open(sys.argv[2], "w")
with connect(read_only=True) as con:
    while not stop.exists():
        con.execute("BEGIN")  # one snapshot per look
        snapshot = con.execute("SELECT id FROM ducklake_current_snapshot('warehouse')").fetchone()[0]
        days = {
            table: dict(con.execute(
                f"SELECT vendor, count(DISTINCT {column}) FROM {table} GROUP BY vendor"
            ).fetchall())
            for table, column in (
                ("agent_state_intervals", "partition_date"), ("mart_state_totals_daily", "day")
            )
        }
        con.execute("COMMIT")
        out.write(json.dumps({"snapshot": snapshot, "days": days}) + "\\n")
        out.flush()
"""


def test_two_hosts_backfilling_at_once_share_one_warehouse(
    postgres: PostgresServer,
    s3: S3Server,
    simulator: SimulatorServer,
    s3_lake_url: str,
    tmp_path: Path,
    embedded_marts: dict[str, pd.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three hosts (processes with AGENTSTATE_HOMEs and Dagster instances of their own, no
    shared disk) backfill one vendor each over the same days at once, into one lake on S3 and
    one warehouse (PostgreSQL catalog, data on S3), while an analyst on a fourth reads: every
    backfill exits 0, the reader sees each run's days appear together, and the warehouse
    equals the embedded default's."""
    shared = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "AGENTSTATE_", "DAGSTER_", "CELERY_"))
    }
    shared.update(simulator.env(), **s3.env(), **production_warehouse(postgres, s3_lake_url))
    shared.update(AGENTSTATE_LAKE_URL=s3_lake_url, AGENTSTATE_NOW=SIM_NOW.isoformat())

    def host(name: str) -> dict[str, str]:
        return {
            **shared,
            "AGENTSTATE_HOME": str(tmp_path / name / "data"),
            "DAGSTER_HOME": str(tmp_path / name / "dagster"),
        }

    command = [str(Path(sys.executable).with_name("agentstate"))]
    # the warehouse exists (empty) before the hosts start: each run then commits its own days
    subprocess.run([*command, "rebuild"], env=host("first"), check=True, capture_output=True)
    stop, seen = tmp_path / "stop", tmp_path / "seen.jsonl"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(stop), str(seen)], env=host("analyst")
    )
    end = (BACKFILL_DAYS[-1] + timedelta(days=1)).isoformat()
    backfills = {
        vendor: subprocess.Popen(
            [*command, "backfill", "--vendor", vendor, "--start", BACKFILL_DAYS[0].isoformat()]
            + ["--end", end],
            env=host(vendor),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for vendor in ("cxengage", "cxone", "koreai")
    }
    outputs = {vendor: p.communicate(timeout=300)[0] for vendor, p in backfills.items()}
    stop.touch()
    assert reader.wait(timeout=60) == 0
    for vendor, process in backfills.items():
        assert process.returncode == 0, outputs[vendor]

    looks = [json.loads(line) for line in seen.read_text().splitlines()]
    assert any(look["days"]["agent_state_intervals"] for look in looks), "it read no run's days"
    for look in looks:  # a vendor's run is all of its days or none of them, in both tables
        for table, per_vendor in look["days"].items():
            assert set(per_vendor.values()) <= {len(BACKFILL_DAYS)}, (look["snapshot"], table)
    for name, value in host("analyst").items():
        monkeypatch.setenv(name, value)
    assert_same_warehouse(Settings.from_env().warehouse, embedded_marts)
