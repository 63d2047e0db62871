"""Schedule files through Dagster: the sensor, the asset's metadata and failures, the CLI."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from agentstate_etl import lake, schedules
from agentstate_etl.marts.update import build_warehouse, update_warehouse
from agentstate_etl.schedules import SCHEDULE_COLUMNS
from agentstate_etl.simulator.schedule import write_schedule_files
from agentstate_etl.simulator.server import SimulatorServer
from assets.resources import AgentStateSettings
from assets.schedule_files import schedule_files, schedule_files_sensor
from tests.e2e.conftest import DAYS
from tests.e2e.test_cli import home, run  # noqa: F401 - the CLI test's fixture
from tests.engine.landed_days import land_day, scheduled_hours
from tests.warehouse import query, warehouse_of

ROWS = [
    ("cxone", "t1", "a1", "Open", "2026-03-08T13:00:00Z", "2026-03-08T17:00:00Z"),
    ("cxone", "t1", "a2", "Open", "2026-03-08T13:00:00Z", "2026-03-08T17:00:00Z"),
]
BAD = ("cxone", "t1", "a3", "Open", "2026-03-08T17:00:00Z", "2026-03-08T13:00:00Z")


def write(folder: Path, name: str, rows: list[tuple]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=list(SCHEDULE_COLUMNS)).to_csv(folder / name, index=False)


def evaluate_sensor(resource: AgentStateSettings) -> dg.SensorResult:
    with dg.build_sensor_context(resources={"agentstate": resource}) as context:
        return schedule_files_sensor(context)  # type: ignore[return-value]


def test_the_sensor_asks_for_a_run_when_a_file_is_new_or_replaced(tmp_path: Path) -> None:
    resource = AgentStateSettings(home=str(tmp_path), max_quarantine_rate=0.5)
    inbox = tmp_path / "inbox" / "schedules"
    assert not evaluate_sensor(resource).run_requests
    write(inbox, "2026-03-08.csv", ROWS)
    (first,) = evaluate_sensor(resource).run_requests or []
    result = dg.materialize([schedule_files], resources={"agentstate": resource})
    assert result.success
    metadata = result.asset_materializations_for_node("schedule_files")[0].metadata
    assert (metadata["rows"].value, metadata["agents"].value, metadata["quarantined"].value) == (
        2,
        2,
        0,
    )
    assert not evaluate_sensor(resource).run_requests  # landed: nothing to do
    write(inbox, "2026-03-08.csv", [*ROWS, BAD])  # a re-export
    (second,) = evaluate_sensor(resource).run_requests or []
    assert second.run_key != first.run_key
    result = dg.materialize([schedule_files], resources={"agentstate": resource})
    metadata = result.asset_materializations_for_node("schedule_files")[0].metadata
    assert metadata["quarantined"].value == 1
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert not checks["segments_valid"].passed and checks["no_overlaps_across_files"].passed


def test_a_file_past_the_quarantine_rate_fails_the_run_naming_it(tmp_path: Path) -> None:
    resource = AgentStateSettings(home=str(tmp_path), max_quarantine_rate=0.01)
    inbox = tmp_path / "inbox" / "schedules"
    write(inbox, "2026-03-08.csv", [*ROWS, BAD])
    write(inbox, "2026-03-09.csv", [])
    result = dg.materialize(
        [schedule_files], resources={"agentstate": resource}, raise_on_error=False
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.to_string()  # type: ignore[union-attr]
    assert "2026-03-08.csv" in message and "AGENTSTATE_MAX_QUARANTINE_RATE" in message
    landed = lake.Lake.from_url(tmp_path / "lake")
    assert not landed.has(lake.SCHEDULES, schedules.schedule_key(date(2026, 3, 8)))
    assert landed.has(lake.SCHEDULES, schedules.schedule_key(date(2026, 3, 9)))  # the good day


def test_backfill_lands_the_schedule_files_and_builds_adherence(
    home: Path,  # noqa: F811
    simulator: SimulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in simulator.env().items():
        monkeypatch.setenv(name, value)
    write_schedule_files(simulator.world, home / "data" / "inbox" / "schedules", "UTC", DAYS[:1])
    code, output = run(
        "backfill", "--vendor", "cxone", "--start", str(DAYS[0]), "--end", str(DAYS[1])
    )
    assert code == 0, output
    assert "schedules: ok" in output
    # the simulator's files carry rows the tool would quarantine: said in one line, counted
    warning = [line for line in output.splitlines() if line.startswith("warning: schedules:")]
    assert warning and "quarantined" in warning[0], output
    runs = dg.DagsterInstance.from_config(str(home / "dagster")).get_runs()
    assert len(runs) == 3 and all(r.is_success for r in runs)  # cxone, schedules, warehouse
    daily = query(
        warehouse_of(home / "data"),
        "SELECT vendor, count(*) AS n FROM mart_adherence_daily GROUP BY vendor",
    ).itertuples(index=False)
    assert dict(daily)["cxone"] > 0


def test_a_file_named_after_no_day_is_set_aside_and_the_rest_land(tmp_path: Path) -> None:
    """`2026-02-30.csv` matches the name pattern but is no day: it is named in a warning and
    left alone; the inbox's other files land (before, its ValueError stopped every backfill)."""
    resource = AgentStateSettings(home=str(tmp_path), max_quarantine_rate=0.5)
    inbox = tmp_path / "inbox" / "schedules"
    write(inbox, "2026-02-30.csv", ROWS)
    write(inbox, "2026-03-08.csv", ROWS)
    assert schedules.misnamed(inbox) == ["2026-02-30.csv"]
    assert [f.path.name for f in schedules.inbox(inbox)] == ["2026-03-08.csv"]
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [schedule_files], resources={"agentstate": resource}, instance=instance
        )
        assert result.success
        logged = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any("2026-02-30.csv: not named after a calendar day" in m for m in logged), logged
    landed = lake.Lake.from_url(tmp_path / "lake")
    assert landed.has(lake.SCHEDULES, schedules.schedule_key(date(2026, 3, 8)))


def test_a_file_rewritten_after_the_scan_lands_whole_under_its_own_checksum(
    tmp_path: Path,
) -> None:
    """The checksum and the rows come from one read: a file replaced between the inbox scan and
    its landing lands as it is then, with that content's checksum, so it is not pending again;
    it never lands half of itself under the whole file's checksum."""
    settings = AgentStateSettings(home=str(tmp_path), max_quarantine_rate=0.5).settings()
    inbox = tmp_path / "inbox" / "schedules"
    write(inbox, "2026-03-08.csv", ROWS[:1])
    (scanned,) = schedules.pending(settings)
    write(inbox, "2026-03-08.csv", ROWS)  # the WFM tool rewrites it meanwhile
    landing = schedules.land_file(scanned, settings)
    assert landing.valid == 2
    assert schedules.pending(settings) == []


def test_a_bad_file_beside_a_good_one_withholds_nothing(tmp_path: Path) -> None:
    """The good file lands and its day's adherence reaches the marts; then the run fails
    naming the bad file (it used to raise before the marts, which stayed empty until rebuild)."""
    resource = AgentStateSettings(home=str(tmp_path), max_quarantine_rate=0.01)
    settings = resource.settings()
    day = date(2026, 3, 8)
    whole_day = (datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC))
    land_day(settings, day, {"a1": whole_day, "a2": whole_day}, vendor="cxone", tenant="t1")
    inbox = tmp_path / "inbox" / "schedules"
    write(inbox, "2026-03-08.csv", ROWS)
    write(inbox, "2026-03-09.csv", [BAD])
    result = dg.materialize(
        [schedule_files], resources={"agentstate": resource}, raise_on_error=False
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.to_string()  # type: ignore[union-attr]
    assert "2026-03-09.csv: ValidationError" in message
    assert "landed, marts updated: 2026-03-08.csv" in message
    assert scheduled_hours(settings, day) == 8.0  # two agents, 13:00-17:00
    assert [f.path.name for f in schedules.pending(settings)] == ["2026-03-09.csv"]


def _segment(agent: str, start: str, end: str, activity: str = "Open") -> tuple:
    return ("cxone", "t1", agent, activity, start, end)


def _hours(settings: object, days: list[date]) -> list[float]:
    return [scheduled_hours(settings, day) for day in days]  # type: ignore[arg-type]


def test_segments_belong_to_the_days_they_cover_whatever_the_file_name(tmp_path: Path) -> None:
    """A file named 2026-03-02.csv with segments on 03-07: 03-07's scheduled time is the same
    whichever day was recomputed last (it was 6 h, 4 h, 6 h), and a re-export without them
    takes them off 03-07."""
    resource = AgentStateSettings(home=str(tmp_path), max_quarantine_rate=0.5)
    settings = resource.settings()
    days = [date(2026, 3, 4) + timedelta(days=n) for n in range(5)]
    always = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC))
    keys = [land_day(settings, day, {"a1": always}, "cxone", "t1") for day in days]
    inbox = tmp_path / "inbox" / "schedules"
    write(inbox, "2026-03-07.csv", [_segment("a1", "2026-03-07T09:00:00Z", "2026-03-07T13:00:00Z")])
    early = [
        _segment("a1", "2026-03-04T09:00:00Z", "2026-03-04T10:00:00Z"),
        _segment("a1", "2026-03-07T14:00:00Z", "2026-03-07T16:00:00Z"),  # five days on
    ]
    write(inbox, "2026-03-02.csv", early)
    assert dg.materialize([schedule_files], resources={"agentstate": resource}).success
    march_7 = date(2026, 3, 7)
    assert scheduled_hours(settings, march_7) == 6.0
    for key in [keys[3], keys[0], keys[3], keys[1]]:  # vendor re-runs of single days
        update_warehouse(settings, [key])
        assert scheduled_hours(settings, march_7) == 6.0, key
    build_warehouse(settings)
    assert _hours(settings, days) == [1.0, 0.0, 0.0, 6.0, 0.0]
    write(inbox, "2026-03-02.csv", early[:1])  # the re-export drops the 03-07 segment
    assert dg.materialize([schedule_files], resources={"agentstate": resource}).success
    assert _hours(settings, days) == [1.0, 0.0, 0.0, 4.0, 0.0]


def test_an_absurdly_long_segment_counts_only_within_each_landed_day(tmp_path: Path) -> None:
    """A segment to the year 2999 (or of 30 days) counts each landed day's part of it, on
    whichever day is recomputed; days never landed count nothing."""
    resource = AgentStateSettings(home=str(tmp_path), max_quarantine_rate=0.5)
    settings = resource.settings()
    days = [date(2026, 3, 4) + timedelta(days=n) for n in range(4)]
    always = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC))
    keys = [land_day(settings, day, {"a1": always, "a2": always}, "cxone", "t1") for day in days]
    write(
        tmp_path / "inbox" / "schedules",
        "2026-03-04.csv",
        [
            _segment("a1", "2026-03-04T12:00:00Z", "2999-01-01T00:00:00Z"),
            _segment("a2", "2026-03-05T18:00:00Z", "2026-04-04T18:00:00Z"),  # 30 days
        ],
    )
    assert dg.materialize([schedule_files], resources={"agentstate": resource}).success
    expected = [12.0, 24.0 + 6.0, 48.0, 48.0]
    assert _hours(settings, days) == expected
    update_warehouse(settings, [keys[2]])
    assert _hours(settings, days) == expected
    assert scheduled_hours(settings, date(2026, 3, 20)) == 0.0
    daily = query(
        settings.warehouse, "SELECT max(day) AS last, count(*) AS n FROM mart_adherence_daily"
    )
    assert (daily["last"].iloc[0], daily["n"].iloc[0]) == (date(2026, 3, 7), 7)


def test_segments_of_unknown_tenants_or_agents_are_counted_in_a_warning(tmp_path: Path) -> None:
    """They show as 0 % adherence (no state data means LOGGED_OUT): the run says how many."""
    resource = AgentStateSettings(home=str(tmp_path), max_quarantine_rate=0.5)
    settings = resource.settings()
    day = date(2026, 3, 8)
    whole_day = (datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC))
    land_day(settings, day, {"a1": whole_day}, "cxone", "t1")
    rows = [
        _segment("a1", "2026-03-08T13:00:00Z", "2026-03-08T17:00:00Z"),
        _segment("a9", "2026-03-08T13:00:00Z", "2026-03-08T17:00:00Z"),  # no state records
        ("cxone", "t9", "a1", "Open", "2026-03-08T13:00:00Z", "2026-03-08T17:00:00Z"),
        ("koreai", "t1", "a1", "Open", "2026-03-08T13:00:00Z", "2026-03-08T17:00:00Z"),
        _segment("a9", "2026-03-12T13:00:00Z", "2026-03-12T17:00:00Z"),  # ahead of the data
    ]
    write(tmp_path / "inbox" / "schedules", "2026-03-08.csv", rows)
    result = dg.materialize([schedule_files], resources={"agentstate": resource})
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    found = checks["segments_match_state_data"]
    assert not found.passed
    figures = {k: v.value for k, v in found.metadata.items()}
    assert figures == {"unknown_tenant": 2, "agent_without_records": 1}
