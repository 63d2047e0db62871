"""Continuous collection (docs/collection.md) against a simulator whose clock moves: a day
collected by five-minute polls, every fault on, equals a one-shot backfill of the finished
day and the simulator's truth; polls ask only for the time elapsed since the previous one;
two collectors of one tenant, or one stopped between two days' landings, lose and double
nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

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
from agentstate_etl.warehouse.session import open_session
from tests.e2e.conftest import faulty_simulator_config
from tests.e2e.test_marts_match_truth import assert_same
from tests.warehouse import warehouse_of

DAY = date(2026, 3, 9)
DAY_START = datetime.combine(DAY, time(), UTC)
FINAL_NOW = DAY_START + timedelta(days=1, minutes=30, seconds=7)
# polls through the day (fewer than a five-minute cadence's 288, for the suite's time; the
# benchmark benchmarks/bench_collect.py polls all three every five minutes): CxEngage, whose
# document asks for frequent polls, most often; the per-agent vendor least
POLL = {
    "cxengage": timedelta(minutes=10),
    "cxone": timedelta(minutes=60),
    "koreai": timedelta(minutes=30),
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
    config = replace(faulty_simulator_config(agents=8), now=FINAL_NOW, clock=clock, tenants=1)
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
        asked = moving.simulator.request_log[before:]  # retries of faulted requests repeat one
        requests.append(len({tuple(sorted(query.items())) for _, query in asked}))
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
    if vendor == "cxengage":  # a poll asks for what elapsed since the last: as many windows
        assert max(requests[1:]) <= min(requests[1:]) + 1, requests


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
    with closing(open_session(warehouse_of(tmp_path / "data"), read_only=True)) as con:
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
    assert (
        "Agents logged in or scheduled:" in now.output
        and f"{settled:%Y-%m-%d %H:%M:%S}" in now.output
    )


def _collect_around_midnight(
    server: SimulatorServer, vendor: str, home: Path, poll: Callable[[datetime], None]
) -> Settings:
    """The day backfilled at 22:00, then `poll(now)` every 20 minutes past midnight."""
    clock: Clock = server.config.clock  # type: ignore[assignment]
    tenant = _tenant(server, vendor)
    clock.now = DAY_START + timedelta(hours=22)
    settings = engine_settings(home, clock.now)
    pipeline.land_intervals(pipeline.land_raw(tenant, DAY, settings).key, settings)
    while clock.now < FINAL_NOW:
        clock.now = min(clock.now + timedelta(minutes=20), FINAL_NOW)
        poll(clock.now)
    return engine_settings(home, FINAL_NOW)


def _assert_truth(server: SimulatorServer, vendor: str, settings: Settings) -> None:
    days = [DAY, DAY + timedelta(days=1)]
    expected = pd.concat(
        [
            truth.expected_intervals(server.world, vendor, d, lookback_hours=12, as_of=FINAL_NOW)
            for d in days
        ],
        ignore_index=True,
    )
    tenant_id = _tenant(server, vendor).tenant_id
    assert_same(intervals(settings, vendor, tenant_id, days), expected, KEYS)


def test_two_collectors_of_one_tenant_lose_and_double_nothing(
    moving: SimulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Collector A reads the day at 23:40, collector B polls past midnight and lands both
    days, then A commits: A must not put the day back to its older horizon (B's mark is past
    it, so nothing would ever re-read the day's last twenty minutes). A re-reads instead."""
    tenant = _tenant(moving, "cxengage")
    b_done = threading.Event()
    read = collect._previous

    def previous(*args: object) -> object:
        found = read(*args)  # type: ignore[arg-type]
        if threading.current_thread().name == "A" and not b_done.is_set():
            b_done.wait(60)
        return found

    monkeypatch.setattr(collect, "_previous", previous)
    clock: Clock = moving.config.clock  # type: ignore[assignment]

    def race(now: datetime) -> None:
        if now != DAY_START + timedelta(hours=23, minutes=40):
            collect.poll_tenant(tenant, engine_settings(tmp_path, now))
            return
        a = threading.Thread(
            target=collect.poll_tenant, args=(tenant, engine_settings(tmp_path, now)), name="A"
        )
        a.start()
        clock.now = now + timedelta(minutes=40)
        collect.poll_tenant(tenant, engine_settings(tmp_path, clock.now))  # B, past midnight
        b_done.set()
        a.join()
        clock.now = now

    settings = _collect_around_midnight(moving, "cxengage", tmp_path, race)
    assert b_done.is_set()
    _assert_truth(moving, "cxengage", settings)


@pytest.mark.parametrize("crash_at", [1, 2, 3])
def test_a_collector_stopped_mid_poll_resumes_without_loss(
    crash_at: int, moving: SimulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The poll that crosses midnight dies after its `crash_at`-th commit (the previous day's
    raw landing; both raw landings; the first intervals), as a kill -9 would leave the lake;
    the next poll, a new collector, carries on."""
    tenant = _tenant(moving, "cxengage")
    commits = {"count": 0, "armed": False}
    original = lake.Lake.commit

    def commit(self: lake.Lake, *args: object, **kwargs: object) -> lake.Manifest:
        if commits["armed"]:
            commits["count"] += 1
            if commits["count"] > crash_at:
                commits["armed"] = False
                raise KeyboardInterrupt("killed mid-poll")
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(lake.Lake, "commit", commit)
    crashed: list[datetime] = []

    def poll(now: datetime) -> None:
        settings = engine_settings(tmp_path, now)
        if now > DAY_START + timedelta(days=1, minutes=1) and not crashed:  # crosses midnight
            commits["armed"] = True
            with pytest.raises(KeyboardInterrupt):
                collect.poll_tenant(tenant, settings)
            crashed.append(now)
            return
        collect.poll_tenant(tenant, settings)

    settings = _collect_around_midnight(moving, "cxengage", tmp_path, poll)
    assert crashed and commits["count"] == crash_at + 1
    _assert_truth(moving, "cxengage", settings)
