"""`agentstate backfill` asks CxEngage only what its document allows (docs/vendors.md, CxEngage): windows of at
most 10 minutes, nothing older than the retention, nothing newer than now less the delay; a
day the vendor no longer keeps is kept from the lake, or fails at once naming the retention."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import dagster as dg
import pytest
from typer.testing import CliRunner

from agentstate_etl import pipeline
from agentstate_etl.cli import app
from agentstate_etl.settings import Settings
from agentstate_etl.simulator.config import Faults, SimConfig
from agentstate_etl.simulator.server import SimulatorServer
from agentstate_etl.simulator.world import to_ms
from agentstate_etl.tenants import environment_tenant
from agentstate_etl.vendors.cxengage import CAPABILITIES
from assets.vendor_assets import RAW_RECORDS, asset_key
from tests.e2e.conftest import SIM_NOW, SIM_START, tenant_assets, vendor_resources

RTA_SUFFIX = "/wfm/rta"


@pytest.fixture(scope="module")
def strict() -> Iterator[SimulatorServer]:
    """The simulator as documented: 3 days kept, 10-minute windows, 15 s late."""
    config = SimConfig(seed=5, agents=6, start=SIM_START, now=SIM_NOW, faults=Faults.none())
    with SimulatorServer(config) as server:
        yield server


@pytest.fixture
def home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, strict: SimulatorServer
) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGENTSTATE_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.setenv("AGENTSTATE_START_DATE", "2026-03-01")
    monkeypatch.setenv("AGENTSTATE_NOW", SIM_NOW.isoformat())
    for name, value in strict.env().items():
        monkeypatch.setenv(name, value)
    strict.simulator.request_log.clear()
    yield tmp_path


def backfill(start: str, end: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["backfill", "--vendor", "cxengage", "--start", start, "--end", end]
    )
    return result.exit_code, result.output


def rta_windows(server: SimulatorServer) -> list[tuple[datetime, datetime]]:
    return [
        (datetime.fromisoformat(q["start"]), datetime.fromisoformat(q["end"]))
        for path, q in server.simulator.request_log
        if path.endswith(RTA_SUFFIX)
    ]


def test_a_backfill_asks_only_what_the_document_allows(home: Path, strict: SimulatorServer) -> None:
    code, output = backfill("2026-03-08", "2026-03-11")
    assert code == 0, output
    windows = rta_windows(strict)
    assert windows, "no RTA request was logged: the test would prove nothing"
    oldest = SIM_NOW - timedelta(days=3)
    settled = CAPABILITIES.settled_until(SIM_NOW)
    assert max(end - start for start, end in windows) <= timedelta(minutes=10)
    assert min(start for start, _ in windows) >= oldest
    assert max(end for _, end in windows) <= settled
    # 2026-03-08's lookback reaches back to 03-07 12:00: cut at the retention, not asked for
    assert min(start for start, _ in windows) < datetime.fromisoformat("2026-03-08T00:00:00Z")


def test_a_day_beyond_the_retention_fails_at_once_naming_it(
    home: Path, strict: SimulatorServer
) -> None:
    code, output = backfill("2026-03-06", "2026-03-07")
    assert code != 0
    assert "2026-03-06" in output and "3 days" in output and "CXENGAGE_RETENTION_DAYS" in output
    assert rta_windows(strict) == [], "a day beyond the retention must not be asked for"


def test_a_day_beyond_the_retention_that_the_lake_holds_is_kept(
    home: Path, strict: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = backfill("2026-03-08", "2026-03-09")
    assert code == 0, output
    strict.simulator.request_log.clear()
    # two days later, 2026-03-08 is beyond the vendor's retention but in the lake
    monkeypatch.setenv("AGENTSTATE_NOW", (SIM_NOW + timedelta(days=2)).isoformat())
    code, output = backfill("2026-03-08", "2026-03-09")
    assert code == 0, output
    assert "2026-03-08 raw_records: kept from the lake, beyond the vendor's retention" in output
    assert rta_windows(strict) == []


def test_a_successor_the_vendor_never_served_is_a_warned_gap_of_its_day(tmp_path: Path) -> None:
    """Every 40th interval of each agent is never served though its predecessor names it: the
    day's materialization counts exactly the gaps that ended within the day before the horizon,
    and the chains_complete check warns with a sample."""
    every = 40
    config = SimConfig(
        seed=5,
        agents=6,
        start=SIM_START,
        now=SIM_NOW,
        faults=Faults.none(),
        cxengage_lost_every=every,
    )
    day = date(2026, 3, 9)
    day_start = datetime.combine(day, time(), UTC)
    until = min(day_start + timedelta(days=1), CAPABILITIES.settled_until(SIM_NOW))
    with SimulatorServer(config) as server:
        data = server.world.data("cxengage")
        expected = sum(
            1
            for timeline in data.timelines
            for seq, following in enumerate(timeline.starts[1:])
            if seq % every == every - 2 and to_ms(day_start) <= following < to_ms(until)
        )
        assert expected, "no lost interval on the day: the test would prove nothing"
        env = server.env()
        tenant = environment_tenant("cxengage", env)
        result = dg.materialize(
            tenant_assets(tenant),
            resources=vendor_resources(env, tmp_path, [tenant]),
            partition_key=day.isoformat(),
        )
    assert result.success
    raw = asset_key(tenant, RAW_RECORDS)
    (materialization,) = result.asset_materializations_for_node(
        "__".join(raw.path)  # the op's name
    )
    assert materialization.metadata["chain_gaps"].value == expected
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    chains = checks["chains_complete"]
    assert not chains.passed and chains.severity == dg.AssetCheckSeverity.WARN
    assert chains.metadata["chain_gaps"].value == expected
    assert chains.metadata["sample"].value, "a failing check shows what failed"


def test_the_command_fails_a_day_beyond_the_retention_at_once(
    tmp_path: Path, strict: SimulatorServer
) -> None:
    """A real `agentstate backfill` process: a day the vendor no longer keeps and the lake
    lacks exits non-zero naming the day, the retention and its variable, having asked the
    vendor nothing (the timeout is a guard against a hang, not a measurement)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AGENTSTATE_", "DAGSTER_", "CXENGAGE_", "CXONE_", "KOREAI_"))
    }
    env.update(
        strict.env(),
        AGENTSTATE_HOME=str(tmp_path / "data"),
        DAGSTER_HOME=str(tmp_path / "dagster"),
        AGENTSTATE_START_DATE="2026-03-01",
        AGENTSTATE_NOW=SIM_NOW.isoformat(),
    )
    strict.simulator.request_log.clear()
    done = subprocess.run(
        [sys.executable, "-m", "agentstate_etl.cli", "backfill", "--vendor", "cxengage"]
        + ["--start", "2026-03-06", "--end", "2026-03-07"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "2026-03-06" in output and "3 days" in output, output
    assert "CXENGAGE_RETENTION_DAYS" in output and "Traceback" not in output, output
    assert rta_windows(strict) == [], "a day beyond the retention must not be asked for"


def test_a_lookback_cut_by_the_retention_says_where_the_fetch_began(
    home: Path, strict: SimulatorServer
) -> None:
    """2026-03-08's lookback reaches back to 03-07 12:00, before the vendor's retention: its
    fetch begins where the retention does, and its metadata says so; 03-09's does not."""
    env = strict.env()
    tenant = environment_tenant("cxengage", env).resolve(env)
    settings = Settings.from_env()
    cut = pipeline.land_raw(tenant, date(2026, 3, 8), settings)
    oldest = SIM_NOW - timedelta(days=3) + CAPABILITIES.clock_allowance
    assert cut.cross_check["lookback_cut_at_retention"] == oldest.isoformat()
    whole = pipeline.land_raw(tenant, date(2026, 3, 9), settings)
    assert "lookback_cut_at_retention" not in whole.cross_check
