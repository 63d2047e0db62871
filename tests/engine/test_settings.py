"""The request and partition deadlines are read from the environment and checked at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentstate_etl.errors import ConfigError
from agentstate_etl.settings import Settings

REQUEST, PARTITION = "AGENTSTATE_REQUEST_TIMEOUT_S", "AGENTSTATE_PARTITION_TIMEOUT_S"
CAP = "AGENTSTATE_MAX_PARTITION_RECORDS"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("AGENTSTATE_HOME", str(tmp_path))


def test_deadlines_default_to_a_minute_and_half_an_hour() -> None:
    settings = Settings.from_env()
    assert (settings.request_timeout_s, settings.partition_timeout_s) == (60.0, 1800.0)


def test_deadlines_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUEST, "2.5")
    monkeypatch.setenv(PARTITION, "90")
    settings = Settings.from_env()
    assert (settings.request_timeout_s, settings.partition_timeout_s) == (2.5, 90.0)


@pytest.mark.parametrize("variable", [REQUEST, PARTITION])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "soon"])
def test_a_deadline_that_is_not_a_positive_number_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env()


def test_a_partitions_record_cap_reaches_its_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.from_env().client_options("p").max_partition_records == 5_000_000
    monkeypatch.setenv(CAP, "250000")
    assert Settings.from_env().client_options("p").max_partition_records == 250_000


@pytest.mark.parametrize("value", ["0", "-5", "1e6", "lots", "2.5"])
def test_a_record_cap_that_is_not_a_whole_positive_number_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(CAP, value)
    with pytest.raises(ConfigError, match=CAP):
        Settings.from_env()
