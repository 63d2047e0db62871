"""Many tenants per vendor (docs/tenants.md): each extracted, landed and backfilled on its own."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from typer.testing import CliRunner

from agentstate_etl import lake, pipeline
from agentstate_etl.canonical import VENDORS
from agentstate_etl.cli import app
from agentstate_etl.config import load_config
from agentstate_etl.marts.update import build_warehouse
from agentstate_etl.simulator import truth
from agentstate_etl.simulator.config import Faults, SimConfig
from agentstate_etl.simulator.server import SimulatorServer, credential_variable
from agentstate_etl.tenants import (
    Tenant,
    environment_tenant,
    read_tenants_file,
)
from agentstate_etl.warehouse.location import WarehouseLocation
from tests.e2e.conftest import (
    DAYS,
    RETENTION,
    SIM_NOW,
    SIM_START,
    Backfill,
    build_warehouse_run,
    range_tags,
    tenant_assets,
    vendor_resources,
)
from tests.e2e.test_marts_match_truth import assert_same
from tests.warehouse import query, warehouse_of

TWO_DAYS = DAYS[:2]


@dataclass
class TenantsBackfill:
    backfill: Backfill
    tenants: list[Tenant]


@pytest.fixture(scope="module")
def two_tenants(
    simulator: SimulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TenantsBackfill]:
    """Two tenants of every vendor from a tenants file, all six in one ranged Dagster run."""
    home = tmp_path_factory.mktemp("two-tenants")
    env = simulator.tenants_env(home / "tenants.toml")
    tenants = read_tenants_file(home / "tenants.toml")
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [asset for tenant in tenants for asset in tenant_assets(tenant)],
            resources=vendor_resources(env, home, tenants),
            instance=instance,
            tags=range_tags(TWO_DAYS),
        )
        assert result.success
        done = Backfill(home=home, world=simulator.world, env=env, instance=instance)
        assert build_warehouse_run(done, tenants=tenants).success
        yield TenantsBackfill(done, tenants)


@pytest.mark.parametrize("vendor", VENDORS)
def test_each_tenant_equals_its_own_ground_truth(
    two_tenants: TenantsBackfill, simulator: SimulatorServer, vendor: str
) -> None:
    actual = two_tenants.backfill.query(
        f"SELECT * FROM agent_state_intervals WHERE vendor = '{vendor}'"
    )
    tenant_ids = []
    for world in simulator.worlds.values():
        tenant_id = world.credentials.tenant_id(vendor)
        tenant_ids.append(tenant_id)
        expected = pd.concat(
            [
                truth.expected_intervals(world, vendor, day, lookback_hours=12, as_of=SIM_NOW)
                for day in TWO_DAYS
            ],
            ignore_index=True,
        )
        keys = ["agent_id", "partition_date", "start_ts", "state"]
        assert_same(actual[actual["tenant_id"] == tenant_id], expected, keys)
        totals = two_tenants.backfill.query(
            "SELECT * FROM mart_state_totals_daily "
            f"WHERE vendor = '{vendor}' AND tenant_id = '{tenant_id}'"
        )
        expected_totals = truth.expected_totals(
            world, vendor, TWO_DAYS, report_tz="UTC", lookback_hours=12, as_of=SIM_NOW
        )
        assert_same(totals, expected_totals, ["agent_id", "day"])
    assert sorted(actual["tenant_id"].unique()) == sorted(tenant_ids)
    first, second = (actual[actual["tenant_id"] == t] for t in tenant_ids)
    assert set(first["agent_id"]) != set(second["agent_id"]), "the tenants share their data"


def test_tenant_assets_are_keyed_by_vendor_and_tenant_and_pooled_by_vendor(
    two_tenants: TenantsBackfill,
) -> None:
    keys = {
        key.to_user_string()
        for t in two_tenants.tenants
        for a in tenant_assets(t)
        for key in a.keys
    }
    assert {"cxone/sim_client_2/status_summary", "koreai/acct_sim/state_intervals"} <= keys
    for tenant in two_tenants.tenants:
        for asset in tenant_assets(tenant):
            assert asset.op.pool == tenant.vendor
            assert asset.group_names_by_key[asset.key] == tenant.vendor


# ---- through the CLI ---------------------------------------------------------------------


def configure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, home: Path, server: SimulatorServer
) -> None:
    """The CLI's environment: outputs under `home`, every tenant of `server` in a tenants file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGENTSTATE_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.setenv("AGENTSTATE_START_DATE", SIM_START.isoformat())
    monkeypatch.setenv("AGENTSTATE_NOW", SIM_NOW.isoformat())
    for name, value in server.tenants_env(tmp_path / "tenants.toml").items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def cli_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, simulator: SimulatorServer
) -> Iterator[Path]:
    configure(monkeypatch, tmp_path, tmp_path / "data", simulator)
    yield tmp_path


def backfill(*extra: str, vendor: str = "all") -> tuple[int, str]:
    day = DAYS[0]
    args = ["backfill", "--vendor", vendor, "--start", day.isoformat()]
    result = CliRunner().invoke(
        app, [*args, "--end", (day + timedelta(days=1)).isoformat(), *extra]
    )
    return result.exit_code, result.output


def landed_tenants(home: Path) -> set[str]:
    return {
        f"{k.vendor}/{k.tenant}"
        for k in lake.Lake.from_url(home / "data" / "lake").partitions(lake.INTERVALS)
    }


def test_a_tenant_with_wrong_credentials_fails_alone_and_is_named(
    cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(credential_variable("cxengage", 2, "password"), "not-the-password")
    code, output = backfill(vendor="cxengage")
    assert code == 1
    assert f"cxengage/tenant-sim-2 {DAYS[0]}: " in output and "401" in output
    assert "not-the-password" not in output
    assert landed_tenants(cli_home) == {"cxengage/tenant-sim"}
    assert (cli_home / "data" / "warehouse.sqlite").exists()
    runs = dg.DagsterInstance.from_config(str(cli_home / "dagster")).get_runs()
    by_tenant = {r.tags.get("agentstate/tenant"): r for r in runs}
    assert len(runs) == 3  # one run per tenant, then the warehouse
    assert not by_tenant["tenant_sim_2"].is_success
    assert by_tenant["tenant_sim"].is_success
    assert by_tenant["tenant_sim"].tags["agentstate/vendor"] == "cxengage"
    assert by_tenant["tenant_sim"].tags["agentstate/tenant_id"] == "tenant-sim"
    for run in runs:
        assert run.tags["agentstate/source"] == "cli-backfill"


def test_in_one_run_a_failing_tenant_does_not_stop_the_others(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    """The vendor job runs every tenant's steps independently (as the UI launches it)."""
    env = simulator.tenants_env(tmp_path / "tenants.toml", vendors=("cxengage",))
    env[credential_variable("cxengage", 2, "password")] = "not-the-password"
    tenants = read_tenants_file(tmp_path / "tenants.toml")
    result = dg.materialize(
        [asset for tenant in tenants for asset in tenant_assets(tenant)],
        resources=vendor_resources(env, tmp_path, tenants),
        partition_key=DAYS[0].isoformat(),
        raise_on_error=False,
    )
    assert not result.success
    done = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert done == {"cxengage/tenant_sim/raw_records", "cxengage/tenant_sim/state_intervals"}


def test_tenant_option_runs_only_that_tenant(cli_home: Path) -> None:
    code, output = backfill("--tenant", "sim-client-2", vendor="cxone")
    assert code == 0, output
    assert landed_tenants(cli_home) == {"cxone/sim-client-2"}


def test_an_unknown_tenant_is_refused_listing_the_tenants(cli_home: Path) -> None:
    code, output = backfill("--tenant", "tenant-b", vendor="cxengage")
    assert code == 1
    assert "no tenant 'tenant-b'" in output
    assert "cxengage/tenant-sim (name tenant_sim)" in output
    assert "cxengage/tenant-sim-2 (name tenant_sim_2)" in output
    assert not (cli_home / "dagster").exists() or not list((cli_home / "dagster").rglob("*.db"))


# ---- one command for many tenants equals one run per tenant -------------------------------


@pytest.fixture(scope="module")
def three_tenants() -> Iterator[SimulatorServer]:
    config = SimConfig(
        seed=31,
        agents=5,
        start=SIM_START,
        now=SIM_NOW,
        tenants=3,
        faults=Faults.none(),
        cxengage_retention=RETENTION,
    )
    with SimulatorServer(config) as server:
        yield server


TABLES = {
    "agent_state_intervals": "vendor, tenant_id, agent_id, partition_date, start_ts, state",
    "mart_state_totals_daily": "vendor, tenant_id, agent_id, day",
    "mart_reconciliation": "vendor, tenant_id, agent_id, day, state",
}


def tables(warehouse: WarehouseLocation) -> dict[str, pd.DataFrame]:
    return {
        table: query(warehouse, f"SELECT * FROM {table} ORDER BY {order}")
        for table, order in TABLES.items()
    }


def test_one_command_for_three_tenants_equals_three_single_tenant_runs(
    three_tenants: SimulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The small version of benchmarks/bench_tenants.py: one backfill over a tenants file, and
    each tenant alone configured by the per-vendor variables (docs/configuration.md) (through the engine, to keep it quick)."""
    configure(monkeypatch, tmp_path, tmp_path / "all", three_tenants)
    code, output = backfill(vendor="cxone")  # the vendor with a summary report
    assert code == 0, output
    together = tables(warehouse_of(tmp_path / "all"))

    separate: dict[str, list[pd.DataFrame]] = {table: [] for table in TABLES}
    settings = load_config().settings
    for number in three_tenants.worlds:
        environ = three_tenants.env(number)
        alone = environment_tenant("cxone", environ)
        home = dataclasses.replace(settings, home=tmp_path / f"tenant-{number}")
        pipeline.run_partition(alone.resolve(environ), DAYS[0], home)
        for table, frame in tables(build_warehouse(home).location).items():
            separate[table].append(frame)
    for table, order in TABLES.items():
        keys = [c.strip() for c in order.split(",")]
        expected = pd.concat(separate[table]).sort_values(keys).reset_index(drop=True)
        assert together[table]["tenant_id"].nunique() == 3
        pd.testing.assert_frame_equal(
            together[table].sort_values(keys).reset_index(drop=True), expected
        )
