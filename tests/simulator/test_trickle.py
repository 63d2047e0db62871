"""The `trickle` fault: a whole, correct body, sent one byte at a time on faulted attempts."""

from __future__ import annotations

import httpx

from agentstate_etl.simulator.config import Faults
from agentstate_etl.simulator.server import SimulatorServer
from tests.simulator.conftest import config
from tests.simulator.test_wire_formats import BASIC, DAY, RTA


def test_parse_trickle() -> None:
    parsed = Faults.parse("trickle,trickle_s=0.5")
    assert (parsed.trickle, parsed.trickle_s) == (1.0, 0.5)
    assert Faults.all().trickle == 0  # `all` stays fast: a trickle is asked for by name


def test_trickled_bodies_are_whole_and_only_the_first_two_attempts_trickle() -> None:
    with SimulatorServer(config(Faults(trickle=1.0, trickle_s=0.001))) as server:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            params = {**DAY, "limit": 1}
            bodies = [client.get(RTA, params=params, auth=BASIC) for _ in range(3)]
        assert [b.status_code for b in bodies] == [200, 200, 200]
        assert bodies[0].content == bodies[1].content == bodies[2].content
        assert bodies[0].json()["results"][0]["eventId"]
        assert server.simulator.plan.injected["trickle"] == 2
