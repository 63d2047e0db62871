"""The analytics variables and the activity mapping file: defaults, and errors that name them."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentstate_etl.activities import DEFAULT_ACTIVITY_MAPPING, activity_mapping
from agentstate_etl.errors import ConfigError
from agentstate_etl.settings import Settings
from agentstate_etl.simulator.truth import SPEC_ACTIVITY_RULES


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("AGENTSTATE_HOME", str(tmp_path / "data"))
    return tmp_path


def test_defaults(env: Path) -> None:
    settings = Settings.from_env()
    assert settings.interval_minutes == 15
    assert settings.schedules == env / "data" / "inbox" / "schedules"
    assert settings.activity_mapping is None
    assert settings.adherence_threshold_s == 0.0


def test_values(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mapping = env / "mapping.csv"
    mapping.write_text("activity,state,reason\nOpen,READY,*\n")
    monkeypatch.setenv("AGENTSTATE_INTERVAL_MINUTES", "30")
    monkeypatch.setenv("AGENTSTATE_SCHEDULES_DIR", str(env / "wfm"))
    monkeypatch.setenv("AGENTSTATE_ACTIVITY_MAPPING", str(mapping))
    monkeypatch.setenv("AGENTSTATE_ADHERENCE_THRESHOLD_S", "90")
    monkeypatch.setenv("AGENTSTATE_ADHERENCE_TARGET_PCT", "85.5")
    settings = Settings.from_env()
    assert (settings.interval_minutes, settings.schedules) == (30, env / "wfm")
    assert (settings.activity_mapping, settings.adherence_threshold_s) == (mapping, 90.0)
    assert settings.adherence_target_pct == 85.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AGENTSTATE_INTERVAL_MINUTES", "45"),
        ("AGENTSTATE_INTERVAL_MINUTES", "quarter"),
        ("AGENTSTATE_INTERVAL_MINUTES", "15.0"),
        ("AGENTSTATE_ADHERENCE_THRESHOLD_S", "-1"),
        ("AGENTSTATE_ADHERENCE_THRESHOLD_S", "a minute"),
        ("AGENTSTATE_ADHERENCE_THRESHOLD_S", "nan"),
        ("AGENTSTATE_ADHERENCE_TARGET_PCT", "101"),
        ("AGENTSTATE_ADHERENCE_TARGET_PCT", "0.9x"),
        ("AGENTSTATE_ADHERENCE_TARGET_PCT", "0.9"),  # a fraction: 90 % is written 90
        ("AGENTSTATE_ADHERENCE_TARGET_PCT", "1"),
        ("AGENTSTATE_ACTIVITY_MAPPING", "no/such/file.csv"),
    ],
)
def test_a_bad_value_fails_naming_the_variable(
    env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        Settings.from_env()


def test_the_shipped_mapping_is_spec_8s_default() -> None:
    rules = activity_mapping().to_pylist()
    assert sorted((r["activity"], r["state"], r["reason"]) for r in rules) == sorted(
        SPEC_ACTIVITY_RULES
    )
    assert activity_mapping(DEFAULT_ACTIVITY_MAPPING).equals(activity_mapping())


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("activity,state\nOpen,READY\n", "columns"),
        ("activity,state,reason\nOpen,AVAILABLE,*\n", "unknown states"),
        ("activity,state,reason\nOpen,READY,\n", "empty cell"),
        ("", "cannot be read"),
    ],
)
def test_a_bad_mapping_file_fails_naming_the_variable(
    tmp_path: Path, content: str, complaint: str
) -> None:
    path = tmp_path / "mapping.csv"
    path.write_text(content)
    with pytest.raises(ConfigError, match=complaint) as error:
        activity_mapping(path)
    assert "AGENTSTATE_ACTIVITY_MAPPING" in str(error.value)
