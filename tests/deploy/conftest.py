"""Servers shared by the deployment tests: S3 (moto), PostgreSQL and a Redis broker."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentstate_etl.simulator.config import Faults, SimConfig
from agentstate_etl.simulator.server import SimulatorServer
from tests.deploy.servers import PostgresServer, S3Server, postgres_server, redis_server, s3_server
from tests.e2e.conftest import DST_ZONE, SIM_NOW, SIM_START

ROOT = Path(__file__).resolve().parents[2]


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
    config = SimConfig(
        seed=20260308,
        agents=8,
        start=SIM_START,
        now=SIM_NOW,
        koreai_timezone=DST_ZONE,
        faults=Faults.all(retry_after_s=0),
    )
    with SimulatorServer(config) as server:
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
