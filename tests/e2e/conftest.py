"""One faulty simulator and one backfill through Dagster, shared by the end-to-end tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from agentstate_etl.settings import DEFAULT_START_DATE
from agentstate_etl.simulator.config import Faults, SimConfig
from agentstate_etl.simulator.schedule import write_schedule_files
from agentstate_etl.simulator.server import SimulatorServer
from agentstate_etl.simulator.truth import SPEC_ACTIVITY_RULES
from agentstate_etl.simulator.world import World
from agentstate_etl.tenants import Tenant, environment_tenants
from agentstate_etl.warehouse.location import WarehouseLocation
from assets.partitions import daily_partitions
from assets.resources import AgentStateSettings, resource_key, tenant_resource
from assets.schedule_files import schedule_files
from assets.vendor_assets import build_tenant_assets
from assets.warehouse import build_warehouse_asset
from tests.warehouse import copy_warehouse, query, warehouse_of

# A week around the US spring-forward (2026-03-08), "now" in the afternoon of the last day,
# so the last partition is still in progress and some agents are logged in.
SIM_START = date(2026, 3, 4)
SIM_NOW = datetime(2026, 3, 10, 15, 30, 12, 345000, tzinfo=UTC)
DAYS = [date(2026, 3, 6) + timedelta(days=i) for i in range(5)]
RETENTION = timedelta(days=10)
DST_ZONE = "America/New_York"
SCHEDULE_ZONE = "UTC"  # the schedule files are split by UTC day; every build reads them all


@dataclass
class Backfill:
    home: Path
    world: World
    env: dict[str, str]
    instance: dg.DagsterInstance

    @property
    def warehouse(self) -> WarehouseLocation:
        return warehouse_of(self.home)

    def query(self, sql: str, warehouse: WarehouseLocation | None = None) -> pd.DataFrame:
        return query(warehouse or self.warehouse, sql)


PARTITIONS = daily_partitions(DEFAULT_START_DATE)
WAREHOUSE_ASSET = build_warehouse_asset(PARTITIONS, [])


def vendor_resources(
    env: dict[str, str], home: Path, tenants: list[Tenant] | None = None, **settings: object
) -> dict[str, object]:
    """The settings resource and one resource per tenant (default: the tenants the per-vendor
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
        [WAREHOUSE_ASSET],
        resources=vendor_resources(backfill.env, home or backfill.home, tenants, **settings),
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
        tenants=2,  # tenant 1 is what the single-tenant tests see; tenant 2 its neighbour
        # the simulated week reaches back further than CxEngage's documented three days: these
        # tenants keep ten (a tenant's retention is configurable, and their settings say so)
        cxengage_retention=RETENTION,
    )


@pytest.fixture(scope="session")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(faulty_simulator_config()) as server:
        yield server


def land_schedule_files(
    world: World, env: dict[str, str], home: Path, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    """The simulator's schedule files for DAYS into the home's inbox, landed through Dagster."""
    write_schedule_files(world, home / "inbox" / "schedules", SCHEDULE_ZONE, DAYS)
    return dg.materialize(
        [schedule_files], resources=vendor_resources(env, home), instance=instance
    )


@pytest.fixture(scope="session")
def backfill(
    simulator: SimulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backfill]:
    """Every vendor over DAYS: one ranged (single-run) backfill per vendor, the simulator's
    schedule files, then the marts."""
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
    assert land_schedule_files(simulator.world, env, home, instance).success
    done = Backfill(home=home, world=simulator.world, env=env, instance=instance)
    assert build_warehouse_run(done).success
    yield done
    # its artifact storage is a temporary directory: removed now, not by a finalizer that
    # warns (ResourceWarning) whenever garbage collection happens to reach it
    instance.dispose()


@pytest.fixture(scope="session")
def dst_warehouse(
    backfill: Backfill, tmp_path_factory: pytest.TempPathFactory
) -> WarehouseLocation:
    """The same lake, marts built in a DST zone."""
    home = tmp_path_factory.mktemp("agentstate-dst")
    shutil.copytree(backfill.home / "lake", home / "lake")
    assert build_warehouse_run(backfill, home, report_tz=DST_ZONE).success
    return warehouse_of(home)


@pytest.fixture
def warehouse_home(backfill: Backfill, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$AGENTSTATE_HOME holding a copy of the session's warehouse, free to change."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    home = tmp_path / "data"
    copy_warehouse(backfill.home, home)
    monkeypatch.setenv("AGENTSTATE_HOME", str(home))
    return home


# Kore.ai's and CXone's own codes for the scheduled not-ready activities, on top of the shipped mapping's (docs/warehouse.md, adherence)
# rules: what a deployment adds to its AGENTSTATE_ACTIVITY_MAPPING file
VENDOR_CODE_RULES = (
    ("Break", "NOT_READY", "PAID_BREAK"),
    ("Break", "NOT_READY", "BRK"),
    ("Lunch", "NOT_READY", "LUNCH"),
    ("Meeting", "NOT_READY", "MTG"),
    ("Training", "NOT_READY", "TRN"),
)


@dataclass(frozen=True)
class Analytics:
    """One build of the marts over the session's lake: its zone, grain, threshold, mapping."""

    name: str
    report_tz: str
    interval_minutes: int
    threshold_s: float
    rules: tuple[tuple[str, str, str], ...]
    warehouse: WarehouseLocation
    settings: dict[str, object]  # of the AgentStateSettings resource that built it


ANALYTICS_VARIANTS = {
    # name: (report zone, interval minutes, adherence threshold, extra activity rules)
    "utc-15": ("UTC", 15, 0.0, ()),
    "dst-15": (DST_ZONE, 15, 0.0, ()),
    "utc-30": ("UTC", 30, 120.0, VENDOR_CODE_RULES),
    "dst-30": (DST_ZONE, 30, 300.0, ()),
}


@pytest.fixture(scope="session", params=list(ANALYTICS_VARIANTS))
def analytics(
    request: pytest.FixtureRequest,
    backfill: Backfill,
    dst_warehouse: WarehouseLocation,
    tmp_path_factory: pytest.TempPathFactory,
) -> Analytics:
    """The session backfill's marts in UTC and across the DST change, 15- and 30-minute
    intervals; the 15-minute builds are the session's own warehouses, the others read the
    same lake (linked, not copied)."""
    name: str = request.param
    zone, minutes, threshold, extra = ANALYTICS_VARIANTS[name]
    rules = (*SPEC_ACTIVITY_RULES, *extra)
    home = tmp_path_factory.mktemp(f"agentstate-{name}")
    settings: dict[str, object] = dict(
        report_tz=zone, interval_minutes=minutes, adherence_threshold_s=threshold
    )
    if extra:
        mapping = home / "activity_mapping.csv"
        mapping.write_text(
            "activity,state,reason\n" + "".join(f"{a},{s},{r}\n" for a, s, r in rules)
        )
        settings["activity_mapping"] = str(mapping)
    if name == "utc-15":
        return Analytics(name, zone, minutes, threshold, rules, backfill.warehouse, settings)
    if name == "dst-15":
        return Analytics(name, zone, minutes, threshold, rules, dst_warehouse, settings)
    (home / "lake").symlink_to(backfill.home / "lake", target_is_directory=True)
    assert build_warehouse_run(backfill, home, **settings).success
    return Analytics(name, zone, minutes, threshold, rules, warehouse_of(home), settings)
