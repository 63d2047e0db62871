"""`agentstate simulate` runs as its own server that a new user can curl."""

from __future__ import annotations

import httpx

from agentstate_etl.simulator.server import SimulatorProcess
from tests.simulator.test_wire_formats import BASIC, RTA


def test_simulate_serves_until_stopped() -> None:
    with SimulatorProcess(
        ["--agents", "3", "--days", "2", "--seed", "5", "--faults", "duplicates"]
    ) as sim:
        index = httpx.get(sim.base_url + "/").json()
        assert "duplicates=True" in index["faults"]
        assert RTA.replace("tenant-sim", "{tenant_id}") in index["endpoints"]
        now = index["now"]
        page = httpx.get(
            sim.base_url + RTA,
            auth=BASIC,
            params={"start": "2020-01-01T00:00:00Z", "end": now, "limit": 5},
        ).json()
        assert page["total"] > 5 and len(page["results"]) == 5
