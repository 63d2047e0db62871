"""A small simulator with every fault on, and one without, shared by the simulator tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from agentstate_etl.simulator.config import CREDENTIALS, Faults, SimConfig
from agentstate_etl.simulator.server import SimulatorServer

NOW = datetime(2026, 3, 10, 15, 30, 12, 345000, tzinfo=UTC)
START = date(2026, 3, 6)


def config(faults: Faults | None = None, **overrides: object) -> SimConfig:
    """These tests read a CxEngage day in one request (they test faults and formats, not the
    10-minute rule, which tests/simulator/test_documented_limits.py holds the simulator to)."""
    values: dict[str, object] = dict(
        seed=11,
        agents=6,
        start=START,
        now=NOW,
        faults=faults or Faults(),
        cxengage_max_window=timedelta(days=2),
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


# CXone history as its tutorial takes it: one agent, whole-second UTC times
HISTORY_DAY = {"startTime": "2026-03-08T00:00:00Z", "endTime": "2026-03-09T00:00:00Z"}


def cxone_agent(tenant: int = 1) -> str:
    """The id of the first CXone agent of the shared configuration's tenant."""
    from agentstate_etl.simulator.world import World

    return str(World(config(tenants=tenant), tenant=tenant).data("cxone").agents[0].wire_id)
