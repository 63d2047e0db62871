"""A backfill's consecutive days ask the vendor for each time window once: day n+1's lookback,
read by day n seconds before, is not asked again, and the landed days are the same."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from agentstate_etl import lake, pipeline
from agentstate_etl.settings import Settings
from agentstate_etl.simulator.config import Faults, SimConfig
from agentstate_etl.simulator.server import SimulatorServer
from agentstate_etl.tenants import environment_tenant
from tests.engine.landed_days import engine_settings

DAYS = [date(2026, 3, 3), date(2026, 3, 4)]
NOW = datetime(2026, 3, 5, 0, 1, tzinfo=UTC)


def settings_at(home: Path) -> Settings:
    return engine_settings(home, max_quarantine_rate=0.2, now_override=NOW)


def test_consecutive_days_read_the_shared_lookback_once_and_land_the_same(tmp_path: Path) -> None:
    config = SimConfig(seed=5, agents=6, start=date(2026, 3, 2), now=NOW, faults=Faults.none())
    with SimulatorServer(config) as server:
        env = server.env()
        tenant = environment_tenant("cxengage", env).resolve(env)
        run = settings_at(tmp_path / "run")
        together = dict(pipeline.land_raw_days(tenant, DAYS, run))
        alone = settings_at(tmp_path / "alone")
        apart = {day: pipeline.land_raw(tenant, day, alone) for day in DAYS}

    first, second = (together[day] for day in DAYS)
    assert not isinstance(first, Exception) and not isinstance(second, Exception)
    # day 1 asks what it would alone; day 2 leaves out the 12 h day 1 read (72 windows)
    assert first.fetch_stats["requests"] == apart[DAYS[0]].fetch_stats["requests"]
    assert second.fetch_stats["requests"] <= apart[DAYS[1]].fetch_stats["requests"] - 72
    for day in DAYS:
        key = lake.PartitionKey("cxengage", tenant.tenant_id, day)
        ours = run.lake.read(lake.RAW, key).sort_by("eventId")
        theirs = alone.lake.read(lake.RAW, key).sort_by("eventId")
        assert ours.num_rows > 0
        assert ours.equals(theirs)
        assert together[day].fetched == apart[day].fetched
