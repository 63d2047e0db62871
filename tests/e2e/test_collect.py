"""Continuous collection (docs/collection.md) against a simulator whose clock moves: a day
collected by five-minute polls, every fault on, equals a one-shot backfill of the finished
day and the simulator's truth; polls ask only for the time elapsed since the previous one;
two collectors of one tenant, or one stopped between two days' landings, lose and double
nothing."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from agentstate_etl import collect, lake, pipeline
from agentstate_etl.canonical import VENDORS
from agentstate_etl.settings import Settings
from agentstate_etl.simulator import truth
from agentstate_etl.simulator.config import SimConfig
from agentstate_etl.simulator.server import SimulatorServer
from agentstate_etl.tenants import environment_tenant
from agentstate_etl.vendors.cxengage import CAPABILITIES
from tests.e2e.conftest import faulty_simulator_config
from tests.e2e.test_marts_match_truth import assert_same

DAY = date(2026, 3, 9)
DAY_START = datetime.combine(DAY, time(), UTC)
FINAL_NOW = DAY_START + timedelta(days=1, minutes=30, seconds=7)
# CxEngage, whose document asks for frequent polls, every five minutes (288 polls a day); the
# per-agent and JWT vendors every 20 (their requests cost more; benchmarks/bench_collect.py
# polls all three every five minutes)
POLL = {
    "cxengage": timedelta(minutes=5),
    "cxone": timedelta(minutes=20),
    "koreai": timedelta(minutes=20),
}
KEYS = ["partition_date", "agent_id", "start_ts", "end_ts", "state"]


@dataclass
class Clock:
    """The simulator's moving now, set by the test (no sleeps)."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


def engine_settings(home: Path, now: datetime) -> Settings:
    return Settings(
        home=home,
        dagster_home=home / "dagster",
        report_tz="UTC",
        drift_tolerance_s=2.0,
        lookback_hours=12,
        max_quarantine_rate=0.2,
        now_override=now,
    )


def intervals(settings: Settings, vendor: str, tenant: str, days: list[date]) -> pd.DataFrame:
    return pd.concat(
        [
            settings.lake.read(lake.INTERVALS, lake.PartitionKey(vendor, tenant, d)).to_pandas()
            for d in days
        ],
        ignore_index=True,
    )


@pytest.fixture
def moving(request: pytest.FixtureRequest) -> SimulatorServer:
    clock = Clock(DAY_START)
    config = replace(faulty_simulator_config(agents=4), now=FINAL_NOW, clock=clock, tenants=1)
    server = SimulatorServer(config).start()
    request.addfinalizer(server.stop)
    return server


def _tenant(server: SimulatorServer, vendor: str):  # noqa: ANN202 - a resolved VendorSettings
    env = server.env()
    return environment_tenant(vendor, env).resolve(env)


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_day_collected_by_polls_equals_a_backfill_and_the_truth(
    vendor: str, moving: SimulatorServer, tmp_path: Path
) -> None:
    clock: Clock = moving.config.clock  # type: ignore[assignment]
    tenant = _tenant(moving, vendor)
    home = tmp_path / "collected"
    # the day before was backfilled once it had ended: collection starts from its end
    clock.now = DAY_START + timedelta(minutes=2)
    pipeline.land_raw(tenant, DAY - timedelta(days=1), engine_settings(home, clock.now))
    requests: list[int] = []
    while clock.now < FINAL_NOW:
        clock.now = min(clock.now + POLL[vendor], FINAL_NOW)
        before = len(moving.simulator.request_log)
        poll = collect.poll_tenant(tenant, engine_settings(home, clock.now))
        requests.append(len(moving.simulator.request_log) - before)
        assert poll.high_water_mark <= clock.now
    collected = engine_settings(home, FINAL_NOW)
    assert collect.high_water_mark(collected.lake, vendor, tenant.tenant_id) == min(
        tenant.limits.settled_until(FINAL_NOW), DAY_START + timedelta(days=2)
    )

    once = engine_settings(tmp_path / "once", FINAL_NOW)  # the finished day, backfilled
    pipeline.land_intervals(pipeline.land_raw(tenant, DAY, once).key, once)
    days = [DAY, DAY + timedelta(days=1)]
    expected = pd.concat(
        [
            truth.expected_intervals(moving.world, vendor, d, lookback_hours=12, as_of=FINAL_NOW)
            for d in days
        ],
        ignore_index=True,
    )
    actual = intervals(collected, vendor, tenant.tenant_id, days)
    assert_same(actual, expected, KEYS)
    assert_same(
        intervals(collected, vendor, tenant.tenant_id, [DAY]),
        intervals(once, vendor, tenant.tenant_id, [DAY]),
        KEYS,
    )
    if vendor == "cxengage":  # a poll asks for what elapsed since the last: the same windows
        assert max(requests[1:]) <= min(requests[1:]) + 2, requests


def test_collect_once_from_the_command_line_lands_and_refreshes_the_marts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`agentstate collect --once`: a tenant never landed starts where the vendor's retention
    begins; the next poll asks only for what elapsed; each run is a `collect_<vendor>` run
    whose marts include today so far."""
    from typer.testing import CliRunner

    from agentstate_etl.cli import app

    clock = Clock(DAY_START + timedelta(hours=10))
    config = SimConfig(seed=3, agents=3, start=DAY - timedelta(days=4), now=FINAL_NOW, clock=clock)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGENTSTATE_TENANTS", raising=False)
    monkeypatch.setenv("AGENTSTATE_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.setenv("AGENTSTATE_START_DATE", "2026-03-01")
    with SimulatorServer(config) as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        outputs = []
        for _ in range(2):
            monkeypatch.setenv("AGENTSTATE_NOW", clock.now.isoformat())
            result = CliRunner().invoke(app, ["collect", "--vendor", "cxengage", "--once"])
            assert result.exit_code == 0, result.output
            outputs.append(result.output)
            clock.now += POLL["cxengage"]
        now = CliRunner().invoke(app, ["now"])
    settled = CAPABILITIES.settled_until(clock.now - POLL["cxengage"])
    assert "collected until" in outputs[1] and f"{settled:%Y-%m-%d %H:%M:%S}" in outputs[1]
    first_days = DAY - timedelta(days=3), DAY  # three days kept: from 3 days before now
    assert f"days {first_days[0]}" in outputs[0] and str(first_days[1]) in outputs[0]
    assert f"days {DAY}" in outputs[1] and "2 requests" in outputs[1], outputs[1]
    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as con:
        (until,) = con.execute(
            "SELECT max(end_ts) FROM agent_state_intervals WHERE partition_date = ?", [DAY]
        ).fetchall()[0]
        complete = dict(
            con.execute(
                "SELECT day, bool_and(is_complete) FROM mart_state_totals_daily GROUP BY day"
            ).fetchall()
        )
    assert until is not None and until.astimezone(UTC) == settled
    # the first day began mid-day (all the vendor kept), today is still being collected
    assert complete == {
        DAY - timedelta(days=3): False,
        DAY - timedelta(days=2): True,
        DAY - timedelta(days=1): True,
        DAY: False,
    }
    assert now.exit_code == 0, now.output
    assert "Agents logged in or scheduled:" in now.output and f"{settled:%Y-%m-%d %H:%M:%S}" in now.output
