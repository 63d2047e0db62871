"""A small simulator with every fault on, and one without, shared by the simulator tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import httpx
import pytest

from agentstate_etl.simulator.config import CREDENTIALS, Faults, SimConfig
from agentstate_etl.simulator.server import SimulatorServer

NOW = datetime(2026, 3, 10, 15, 30, 12, 345000, tzinfo=UTC)
START = date(2026, 3, 6)


def config(faults: Faults | None = None, **overrides: object) -> SimConfig:
    values: dict[str, object] = dict(
        seed=11, agents=6, start=START, now=NOW, faults=faults or Faults()
    )
    values.update(overrides)
    return SimConfig(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def clean() -> Iterator[SimulatorServer]:
    with SimulatorServer(config(koreai_timezone="America/New_York")) as server:
        yield server


@pytest.fixture()
def http(clean: SimulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=clean.base_url, timeout=10) as client:
        yield client


def cxone_token(client: httpx.Client) -> dict[str, str]:
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(CREDENTIALS.cxone_client_id, CREDENTIALS.cxone_client_secret),
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
