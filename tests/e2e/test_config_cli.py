"""Every variable is checked before anything runs: an invalid one fails at once, named, exit 1,
without a traceback, and no Dagster run starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from agentstate_etl.cli import app
from agentstate_etl.simulator.server import vendor_env
from tests.e2e.conftest import SIM_NOW

NOWHERE = "http://127.0.0.1:9"  # vendor variables are complete, but nothing may be called


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("AGENTSTATE_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.setenv("AGENTSTATE_START_DATE", "2026-03-01")
    monkeypatch.setenv("AGENTSTATE_NOW", SIM_NOW.isoformat())
    for name, value in vendor_env(NOWHERE).items():
        monkeypatch.setenv(name, value)
    return tmp_path


def backfill(vendor: str = "all") -> Result:
    args = ["backfill", "--vendor", vendor, "--start", "2026-03-06", "--end", "2026-03-07"]
    return CliRunner().invoke(app, args)


def assert_refused_at_once(result: Result, home: Path, *names: str) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # a message, no traceback
    assert "Traceback" not in result.output
    for name in names:
        assert name in result.output, result.output
    assert not list(home.rglob("*.db")), "a Dagster run was recorded"
    assert not (home / "data" / "lake").exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AGENTSTATE_DRIFT_TOLERANCE_S", "nan"),
        ("AGENTSTATE_DRIFT_TOLERANCE_S", "-1"),
        ("AGENTSTATE_DRIFT_TOLERANCE_S", "inf"),
        ("AGENTSTATE_LOOKBACK_HOURS", "nan"),
        ("AGENTSTATE_LOOKBACK_HOURS", "1e9"),
        ("AGENTSTATE_LOOKBACK_HOURS", "inf"),
        ("KOREAI_TIMEZONE", "Mars/Olympus"),
        ("AGENTSTATE_STATE_MAPPING", "no-such-mapping.csv"),
        ("AGENTSTATE_REASON_MAPPING", "no-such-reasons.csv"),
        ("AGENTSTATE_ACTIVITY_MAPPING", "MALFORMED"),
        ("AGENTSTATE_SCHEDULES_DIR", "A-FILE"),
    ],
)
def test_an_invalid_value_fails_at_once_naming_its_variable(
    home: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    if value.isupper():  # a file made here: a malformed mapping, a file for a folder
        made = home / value.lower()
        made.write_text("activity,colour\nOpen,green\n")
        value = str(made)
    monkeypatch.setenv(name, value)
    assert_refused_at_once(backfill(), home, name)


def test_an_invalid_start_date_fails_even_after_the_code_location_was_loaded(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that already imported the assets (the UI, a test session) sees the new value."""
    import assets.definitions  # noqa: F401 - loaded once, as a long-lived process has

    monkeypatch.setenv("AGENTSTATE_START_DATE", "2026-02-30")
    assert_refused_at_once(backfill(), home, "AGENTSTATE_START_DATE")


def test_an_unwritable_agentstate_home_is_refused(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (home / "a-file").write_text("not a directory")
    monkeypatch.setenv("AGENTSTATE_HOME", str(home / "a-file" / "data"))
    assert_refused_at_once(backfill(), home, "AGENTSTATE_HOME")


def test_a_dagster_home_that_is_a_file_is_refused(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (home / "dagster-home").write_text("not a directory")
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster-home"))
    assert_refused_at_once(backfill(), home, "DAGSTER_HOME")


def test_all_vendors_name_every_missing_variable_at_once(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = ["CXENGAGE_PASSWORD", "CXONE_TOKEN_URL", "CXONE_CLIENT_SECRET", "KOREAI_ACCOUNT_ID"]
    for name in missing:
        monkeypatch.delenv(name)
    assert_refused_at_once(backfill("all"), home, *missing)
