"""Servers shared by the deployment tests: S3 (moto), PostgreSQL and a Redis broker."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from agentstate_etl.simulator.server import SimulatorServer
from tests.deploy.servers import PostgresServer, S3Server, postgres_server, redis_server, s3_server
from tests.e2e.conftest import faulty_simulator_config

ROOT = Path(__file__).resolve().parents[2]


def agentstate_backfill(vendor: str, days: list[date], env: dict[str, str], cwd: Path) -> None:
    """`agentstate backfill` over `days` in a process of its own, as an operator runs it."""
    end = days[-1] + timedelta(days=1)
    done = subprocess.run(
        [str(Path(sys.executable).with_name("agentstate")), "backfill", "--vendor", vendor]
        + ["--start", days[0].isoformat(), "--end", end.isoformat()],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with s3_server(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="session")
def simulator() -> Iterator[SimulatorServer]:
    """The faulty simulator of the end-to-end tests; worker processes reach it on loopback."""
    with SimulatorServer(faulty_simulator_config(agents=8)) as server:
        yield server


@pytest.fixture
def dagster_home(postgres: PostgresServer, tmp_path: Path) -> dict[str, str]:
    """A DAGSTER_HOME holding deploy/dagster.yaml, on a database of its own."""
    home = tmp_path / "dagster"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    database = postgres.create_database(f"dagster_{uuid.uuid4().hex[:12]}")
    return {"DAGSTER_HOME": str(home), "DAGSTER_POSTGRES_URL": postgres.url(database)}


@pytest.fixture
def s3_lake_url(s3: S3Server) -> str:
    return f"s3://{s3.create_bucket(f'lake-{uuid.uuid4().hex[:12]}')}/agentstate"
