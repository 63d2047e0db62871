"""One bad day never withholds the good ones (docs/commands.md, backfill): a three-day CxEngage
backfill whose middle day no retry can land publishes the other two days' marts, `report` and
`export` work, and the exit status and output name the middle day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentstate_etl.cli import app
from agentstate_etl.simulator.config import Faults, SimConfig
from agentstate_etl.simulator.server import SimulatorServer
from tests.e2e.conftest import RETENTION, SIM_NOW, SIM_START
from tests.warehouse import query, warehouse_of

DAYS = [date(2026, 3, 6), date(2026, 3, 7), date(2026, 3, 8)]
BAD = DAYS[1]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    bad_start = datetime.combine(BAD, time(), UTC)
    config = SimConfig(
        seed=9,
        agents=3,
        start=SIM_START,
        now=SIM_NOW,
        faults=Faults.none(),
        cxengage_retention=RETENTION,
        # the morning of the middle day: the next day's lookback (from its noon) is served
        cxengage_outage=(bad_start, bad_start + timedelta(hours=6)),
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGENTSTATE_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.setenv("AGENTSTATE_START_DATE", "2026-03-01")
    monkeypatch.setenv("AGENTSTATE_NOW", SIM_NOW.isoformat())
    with SimulatorServer(config) as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        yield tmp_path / "data"


def test_the_good_days_reach_the_marts(home: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["backfill", "--vendor", "cxengage", "--start", str(DAYS[0]), "--end", "2026-03-09"],
    )
    assert result.exit_code == 1, result.output
    assert f"{BAD}" in result.output and "503" in result.output, result.output
    assert "PartitionsFailed" not in result.output and "VendorError" not in result.output
    days = set(query(warehouse_of(home), "SELECT DISTINCT day FROM mart_state_totals_daily")["day"])
    assert days == {DAYS[0], DAYS[2]}
    report = runner.invoke(app, ["report"])
    assert report.exit_code == 0, report.output
    export = runner.invoke(
        app, ["export", "--table", "mart_state_totals_daily", "--format", "csv", "--out", "t.csv"]
    )
    assert export.exit_code == 0, export.output
