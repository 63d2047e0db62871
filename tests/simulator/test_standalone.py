"""`agentstate simulate` runs as its own server that a new user can curl."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta

import httpx
from typer.testing import CliRunner

from agentstate_etl.cli import app
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


def test_a_busy_port_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["simulate", "--port", str(port), "--agents", "1"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"cannot listen on 127.0.0.1:{port}: Address already in use; choose another --port"
    )


def test_a_moving_simulator_publishes_as_its_clock_moves() -> None:
    """`--speed`: the clock moves from `--now` (here 600 times the real one), and nothing is
    served before it happens."""
    start = "2026-03-10T12:00:00+00:00"
    with SimulatorProcess(
        ["--agents", "3", "--days", "1", "--now", start, "--speed", "600"]
    ) as sim:
        first = datetime.fromisoformat(httpx.get(sim.base_url + "/").json()["now"])
        later = datetime.fromisoformat(httpx.get(sim.base_url + "/").json()["now"])
    assert datetime.fromisoformat(start) <= first < later
