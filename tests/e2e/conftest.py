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

from agentstate_etl.settings import DEFAULT_START_DATE
from agentstate_etl.simulator.config import Faults, SimConfig
from agentstate_etl.simulator.server import SimulatorServer
from agentstate_etl.simulator.world import World
from agentstate_etl.tenants import Tenant, environment_tenants
from assets.partitions import daily_partitions
from assets.resources import AgentStateSettings, resource_key, tenant_resource
from assets.vendor_assets import build_tenant_assets
from assets.warehouse import warehouse, warehouse_checks

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


PARTITIONS = daily_partitions(DEFAULT_START_DATE)


def vendor_resources(
    env: dict[str, str], home: Path, tenants: list[Tenant] | None = None, **settings: object
) -> dict[str, object]:
    """The settings resource and one resource per tenant (default: the tenants the §3
    variables in `env` define), with the values found in `env`."""
    return {
        "agentstate": AgentStateSettings(home=str(home), now=SIM_NOW.isoformat(), **settings),
        **{
            resource_key(t): tenant_resource(t, env)
            for t in (environment_tenants(env) if tenants is None else tenants)
        },
    }


def tenant_assets(tenant: Tenant) -> list[dg.AssetsDefinition]:
    return build_tenant_assets(tenant, PARTITIONS)


def range_tags(days: list[date]) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": days[0].isoformat(),
        "dagster/asset_partition_range_end": days[-1].isoformat(),
    }


def build_warehouse_run(
    backfill: Backfill,
    home: Path | None = None,
    tenants: list[Tenant] | None = None,
    **settings: object,
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [warehouse, *warehouse_checks],
        resources=vendor_resources(backfill.env, home or backfill.home, tenants, **settings),
        instance=backfill.instance,
        raise_on_error=False,
    )


@pytest.fixture(scope="session")
def simulator() -> Iterator[SimulatorServer]:
    config = SimConfig(
        seed=20260308,
        agents=12,
        start=SIM_START,
        now=SIM_NOW,
        koreai_timezone=DST_ZONE,
        faults=Faults.all(retry_after_s=0),
        tenants=2,  # tenant 1 is what the single-tenant tests see; tenant 2 its neighbour
    )
    with SimulatorServer(config) as server:
        yield server


@pytest.fixture(scope="session")
def backfill(simulator: SimulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Backfill:
    """Every vendor over DAYS: one ranged (single-run) backfill per vendor, then the marts."""
    home = tmp_path_factory.mktemp("agentstate")
    instance = dg.DagsterInstance.ephemeral()
    env = simulator.env()
    resources = vendor_resources(env, home)
    for tenant in environment_tenants(env):
        result = dg.materialize(
            tenant_assets(tenant),
            resources=resources,
            instance=instance,
            tags=range_tags(DAYS),
        )
        assert result.success
    done = Backfill(home=home, world=simulator.world, env=env, instance=instance)
    assert build_warehouse_run(done).success
    return done


@pytest.fixture(scope="session")
def dst_warehouse(backfill: Backfill, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same lake, marts built in a DST zone."""
    home = tmp_path_factory.mktemp("agentstate-dst")
    shutil.copytree(backfill.home / "lake", home / "lake")
    assert build_warehouse_run(backfill, home, report_tz=DST_ZONE).success
    return home / "warehouse.duckdb"
