"""`agentstate simulate` runs as its own server that a new user can curl."""

from __future__ import annotations

from datetime import datetime, timedelta

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
        now = datetime.fromisoformat(index["now"])
        recent = {"start": (now - timedelta(minutes=10)).isoformat(), "end": now.isoformat()}
        page = httpx.get(sim.base_url + RTA, auth=BASIC, params={**recent, "limit": 5}).json()
        assert page["total"] >= len(page["results"]) and len(page["results"]) <= 5
        whole_day = {"start": (now - timedelta(days=1)).isoformat(), "end": now.isoformat()}
        assert httpx.get(sim.base_url + RTA, auth=BASIC, params=whole_day).status_code == 400
