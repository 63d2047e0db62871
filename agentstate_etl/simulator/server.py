"""Running the simulator: in a background thread (tests, demo) or as a process (benchmarks)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import httpx
import uvicorn
from starlette.applications import Starlette

from agentstate_etl.canonical import VENDORS
from agentstate_etl.simulator.app import QuietDrops, create_app
from agentstate_etl.simulator.config import Credentials, SimConfig
from agentstate_etl.simulator.world import World
from agentstate_etl.tenants import Tenant, slug_of, tenants_toml
from agentstate_etl.vendors.registry import vendor_spec


def loopback_socket(port: int = 0, host: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def vendor_env(
    base_url: str,
    koreai_timezone: str = "UTC",
    tenant: int = 1,
    cxengage_retention_days: float = 3,
    cxone_agents_file: str = "",
) -> dict[str, str]:
    """The docs/configuration.md variables that point all three vendors at one tenant of a simulator."""
    credentials = Credentials.of_tenant(tenant)
    env = {}
    for vendor in VENDORS:
        variables = vendor_spec(vendor).settings.variables()
        values = credentials.settings_values(
            vendor, base_url, koreai_timezone, cxengage_retention_days, cxone_agents_file
        )
        env.update({variables[name].env: value for name, value in values.items()})
    return env


def write_roster_files(worlds: Mapping[int, World], folder: Path) -> dict[int, str]:
    """One CXone roster file (`agent_id,agent_name`) per simulated tenant; tenant -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for number, world in worlds.items():
        path = folder / f"cxone-agents-tenant-{number}.csv"
        rows = [f"{a.wire_id},{a.name or ''}" for a in world.data("cxone").agents]
        path.write_text("agent_id,agent_name\n" + "\n".join(rows) + "\n")
        paths[number] = str(path)
    return paths


def credential_variable(vendor: str, tenant: int, setting: str) -> str:
    """The variable a tenants file names for a simulated tenant's credential."""
    return f"SIM_{vendor.upper()}_T{tenant}_{setting.upper()}"


def write_tenants_file(
    path: str | Path,
    base_url: str,
    tenants: int | list[int] = 2,
    koreai_timezone: str = "UTC",
    vendors: tuple[str, ...] = VENDORS,
    cxengage_retention_days: float = 3,
    cxone_agents_files: Mapping[int, str] | None = None,
) -> dict[str, str]:
    """Write a tenants file for simulated tenants 1..n (or those listed) of each vendor; return
    the environment it needs: AGENTSTATE_TENANTS and each credential variable it names."""
    numbers = list(range(1, tenants + 1)) if isinstance(tenants, int) else tenants
    env = {"AGENTSTATE_TENANTS": str(path)}
    declared = []
    for vendor in vendors:
        variables = vendor_spec(vendor).settings.variables()
        for number in numbers:
            values = Credentials.of_tenant(number).settings_values(
                vendor,
                base_url,
                koreai_timezone,
                cxengage_retention_days,
                (cxone_agents_files or {}).get(number, ""),
            )
            names = {
                name: credential_variable(vendor, number, name)
                for name, variable in variables.items()
                if variable.credential
            }
            env.update({names[name]: values[name] for name in names})
            plain = {name: value for name, value in values.items() if name not in names}
            tenant_id = Credentials.of_tenant(number).tenant_id(vendor)
            declared.append(Tenant(vendor, slug_of(tenant_id), plain, names, str(path)))
    Path(path).write_text(tenants_toml(declared))
    return env


def uvicorn_config(app: Starlette, log_level: str = "warning") -> uvicorn.Config:
    logging.getLogger("uvicorn.error").addFilter(QuietDrops())
    return uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        http="httptools",
        loop="uvloop",
        timeout_keep_alive=30,
    )


class SimulatorServer:
    """The simulator on a free loopback port, served by uvicorn in a daemon thread.

    `with SimulatorServer(config) as server:` gives `server.base_url`, `server.world` (tenant
    1's ground truth; `server.worlds[k]` tenant k's), `server.env()` (the vendor variables
    pointing at tenant 1) and `server.tenants_env(path)` (a tenants file for every tenant).
    """

    def __init__(self, config: SimConfig, port: int = 0) -> None:
        self.config = config
        self.worlds = {k: World(config, tenant=k) for k in range(1, config.tenants + 1)}
        self.world = self.worlds[1]
        self.app = create_app(list(self.worlds.values()))
        # the CXone agents of each tenant, as a deployment's roster file lists them: history
        # is asked per agent, and the snapshot names only those logged in now
        self._roster_dir = tempfile.TemporaryDirectory(prefix="agentstate-sim-roster-")
        self.rosters = write_roster_files(self.worlds, Path(self._roster_dir.name))
        self._socket = loopback_socket(port)
        self.port = self._socket.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn_config(self.app))
        self._thread = threading.Thread(
            target=self._serve, name="agentstate-simulator", daemon=True
        )

    def _serve(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def env(self, tenant: int = 1) -> dict[str, str]:
        return vendor_env(
            self.base_url,
            self.config.koreai_timezone,
            tenant,
            self.retention_days,
            self.rosters[tenant],
        )

    @property
    def retention_days(self) -> float:
        """How long the simulated CxEngage tenants keep data, as their settings must say."""
        return self.config.cxengage_retention.total_seconds() / 86_400

    def tenants_env(
        self, path: str | Path, tenants: list[int] | None = None, vendors: tuple[str, ...] = VENDORS
    ) -> dict[str, str]:
        """Write a tenants file for these tenants (default: all); see `write_tenants_file`."""
        return write_tenants_file(
            path,
            self.base_url,
            tenants or list(self.worlds),
            self.config.koreai_timezone,
            vendors,
            self.retention_days,
            self.rosters,
        )

    @property
    def simulator(self):  # noqa: ANN201 - the app's request handler, for fault counters
        return self.app.state.simulator

    def start(self) -> SimulatorServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the vendor simulator did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
        self._roster_dir.cleanup()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class SimulatorProcess:
    """`agentstate simulate` in its own process, so a benchmark measures the client alone."""

    def __init__(self, args: list[str], port: int | None = None) -> None:
        probe = loopback_socket()
        self.port = port or probe.getsockname()[1]
        probe.close()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.args = args

    def __enter__(self) -> SimulatorProcess:
        command = [
            sys.executable,
            "-m",
            "agentstate_etl.simulator.cli",
            "--port",
            str(self.port),
            *self.args,
        ]
        self._process = subprocess.Popen(command, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"simulator exited with status {self._process.returncode}")
            try:
                httpx.get(self.base_url + "/", timeout=1).raise_for_status()
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("simulator process did not start in time")

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.wait(timeout=30)
