"""`agentstate ui` as an operator runs it: the UI comes up without warning noise, over the
tenants the last demo in the home used and partitions from the first landed day, and SIGTERM
stops every process it started (webserver, daemon and their code servers)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pyarrow as pa

from agentstate_etl.cli import LAST_USED
from agentstate_etl.lake import RAW, Lake, PartitionKey
from agentstate_etl.simulator.config import SimConfig
from agentstate_etl.simulator.server import SimulatorServer

WAIT_S = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def group_members(pgid: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":  # fields: state, ppid, pgrp, ...
            members.append(int(stat.parent.name))
    return members


def test_ui_comes_up_quietly_and_sigterm_stops_all_of_it(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTSTATE_", "DAGSTER_"))}
    env.update(AGENTSTATE_HOME=str(tmp_path / "data"), DAGSTER_HOME=str(tmp_path / "dagster"))
    # what a demo leaves behind: its tenants file, remembered, and a landed day
    home = tmp_path / "data"
    tenants_file = home / "tenants.toml"
    home.mkdir(parents=True)
    with SimulatorServer(SimConfig(agents=1, days=1)) as server:
        server.tenants_env(tenants_file, tenants=[1], vendors=("koreai",))
    (home / LAST_USED).write_text(json.dumps({"AGENTSTATE_TENANTS": str(tenants_file)}))
    first = date(2026, 3, 5)
    Lake.from_url(home / "lake").commit(
        RAW, PartitionKey("koreai", "acct-sim", first), {RAW: pa.table({"x": [1]})}
    )
    log = tmp_path / "ui.log"
    with open(log, "w") as out:
        ui = subprocess.Popen(
            [sys.executable, "-m", "agentstate_etl.cli", "ui", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).parents[2],
        )
    deadline = time.monotonic() + WAIT_S
    while True:
        assert ui.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the UI never answered"
        time.sleep(0.2)
    webserver = [p for p in Path("/proc").glob("[0-9]*/cmdline") if f"-p\0{port}" in _read(p)]
    assert webserver, "no dagster-webserver process on the port"
    pgid = os.getpgid(int(webserver[0].parent.name))
    assert len(group_members(pgid)) >= 2  # the webserver, the daemon (and code servers)
    ui.send_signal(signal.SIGTERM)
    assert ui.wait(timeout=WAIT_S) != 0
    deadline = time.monotonic() + WAIT_S
    while group_members(pgid):
        assert time.monotonic() < deadline, f"left running: {group_members(pgid)}"
        time.sleep(0.2)
    output = log.read_text()
    assert "Warning" not in output, output
    assert f"tenants: {tenants_file}" in output and f"partitions from {first}" in output


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
