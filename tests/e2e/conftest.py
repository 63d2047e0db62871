"""One faulty simulator and one backfill through Dagster, shared by the end-to-end tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from agentstate_etl.canonical import VENDORS
from agentstate_etl.simulator.config import Faults, SimConfig
from agentstate_etl.simulator.server import SimulatorServer
from agentstate_etl.simulator.world import World
from assets.resources import AgentStateSettings, CxEngageApi, CxOneApi, KoreAiApi
from assets.vendor_assets import build_vendor_assets
from assets.warehouse import warehouse

# A week around the US spring-forward (2026-03-08), "now" in the afternoon of the last day,
# so the last partition is still in progress and some agents are logged in.
SIM_START = date(2026, 3, 4)
SIM_NOW = datetime(2026, 3, 10, 15, 30, 12, 345000, tzinfo=UTC)
DAYS = [date(2026, 3, 6) + timedelta(days=i) for i in range(5)]
DST_ZONE = "America/New_York"


@dataclass
class Backfill:
    home: Path
    world: World
    env: dict[str, str]
    instance: dg.DagsterInstance

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    def query(self, sql: str, path: Path | None = None) -> pd.DataFrame:
        with duckdb.connect(str(path or self.warehouse), read_only=True) as con:
            return con.sql(sql).to_arrow_table().to_pandas()


def vendor_resources(env: dict[str, str], home: Path, **settings: object) -> dict[str, object]:
    return {
        "agentstate": AgentStateSettings(home=str(home), now=SIM_NOW.isoformat(), **settings),
        "cxengage_api": CxEngageApi(
            base_url=env["CXENGAGE_BASE_URL"],
            tenant_id=env["CXENGAGE_TENANT_ID"],
            username=env["CXENGAGE_USERNAME"],
            password=env["CXENGAGE_PASSWORD"],
        ),
        "cxone_api": CxOneApi(
            base_url=env["CXONE_BASE_URL"],
            token_url=env["CXONE_TOKEN_URL"],
            client_id=env["CXONE_CLIENT_ID"],
            client_secret=env["CXONE_CLIENT_SECRET"],
        ),
        "koreai_api": KoreAiApi(
            base_url=env["KOREAI_BASE_URL"],
            account_id=env["KOREAI_ACCOUNT_ID"],
            client_id=env["KOREAI_CLIENT_ID"],
            client_secret=env["KOREAI_CLIENT_SECRET"],
            timezone=env["KOREAI_TIMEZONE"],
        ),
    }


def range_tags(days: list[date]) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": days[0].isoformat(),
        "dagster/asset_partition_range_end": days[-1].isoformat(),
    }


def build_warehouse_run(
    backfill: Backfill, home: Path | None = None, **settings: object
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [warehouse],
        resources=vendor_resources(backfill.env, home or backfill.home, **settings),
        instance=backfill.instance,
        tags=range_tags(DAYS),
        raise_on_error=False,
    )


def faulty_simulator_config(agents: int = 12) -> SimConfig:
    """The simulated week with every fault on (the deployment tests use it too)."""
    return SimConfig(
        seed=20260308,
        agents=agents,
        start=SIM_START,
        now=SIM_NOW,
        koreai_timezone=DST_ZONE,
        faults=Faults.all(retry_after_s=0),
    )


@pytest.fixture(scope="session")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(faulty_simulator_config()) as server:
        yield server


@pytest.fixture(scope="session")
def backfill(
    simulator: SimulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backfill]:
    """Every vendor over DAYS: one ranged (single-run) backfill per vendor, then the marts."""
    home = tmp_path_factory.mktemp("agentstate")
    instance = dg.DagsterInstance.ephemeral()
    env = simulator.env()
    resources = vendor_resources(env, home)
    for vendor in VENDORS:
        result = dg.materialize(
            build_vendor_assets(vendor),
            resources=resources,
            instance=instance,
            tags=range_tags(DAYS),
        )
        assert result.success
    done = Backfill(home=home, world=simulator.world, env=env, instance=instance)
    assert build_warehouse_run(done).success
    yield done
    # its artifact storage is a temporary directory: removed now, not by a finalizer that
    # warns (ResourceWarning) whenever garbage collection happens to reach it
    instance.dispose()


@pytest.fixture(scope="session")
def dst_warehouse(backfill: Backfill, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same lake, marts built in a DST zone."""
    home = tmp_path_factory.mktemp("agentstate-dst")
    shutil.copytree(backfill.home / "lake", home / "lake")
    assert build_warehouse_run(backfill, home, report_tz=DST_ZONE).success
    return home / "warehouse.duckdb"


@pytest.fixture
def warehouse_home(backfill: Backfill, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$AGENTSTATE_HOME holding a copy of the session's warehouse, free to change."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    home = tmp_path / "data"
    home.mkdir()
    shutil.copy(backfill.warehouse, home / "warehouse.duckdb")
    monkeypatch.setenv("AGENTSTATE_HOME", str(home))
    return home
