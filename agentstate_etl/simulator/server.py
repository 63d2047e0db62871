"""Running the simulator: in a background thread (tests, demo) or as a process (benchmarks)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from types import TracebackType

import httpx
import uvicorn
from starlette.applications import Starlette

from agentstate_etl.simulator.app import TOKEN_PATH, QuietDrops, create_app
from agentstate_etl.simulator.config import CREDENTIALS, SimConfig
from agentstate_etl.simulator.world import World


def loopback_socket(port: int = 0, host: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def vendor_env(base_url: str, koreai_timezone: str = "UTC") -> dict[str, str]:
    """The environment variables (SPEC §3) that point all three vendors at a simulator."""
    c = CREDENTIALS
    return {
        "CXENGAGE_BASE_URL": base_url,
        "CXENGAGE_TENANT_ID": c.cxengage_tenant_id,
        "CXENGAGE_USERNAME": c.cxengage_username,
        "CXENGAGE_PASSWORD": c.cxengage_password,
        "CXONE_BASE_URL": base_url,
        "CXONE_TOKEN_URL": base_url + TOKEN_PATH,
        "CXONE_CLIENT_ID": c.cxone_client_id,
        "CXONE_CLIENT_SECRET": c.cxone_client_secret,
        "KOREAI_BASE_URL": base_url,
        "KOREAI_ACCOUNT_ID": c.koreai_account_id,
        "KOREAI_CLIENT_ID": c.koreai_client_id,
        "KOREAI_CLIENT_SECRET": c.koreai_client_secret,
        "KOREAI_TIMEZONE": koreai_timezone,
    }


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

    `with SimulatorServer(config) as server:` gives `server.base_url`, `server.world` (the
    ground truth) and `server.env()` (the vendor variables pointing here).
    """

    def __init__(self, config: SimConfig, port: int = 0) -> None:
        self.config = config
        self.world = World(config)
        self.app = create_app(self.world)
        self._socket = loopback_socket(port)
        self.port = self._socket.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn_config(self.app))
        self._thread = threading.Thread(
            target=self._serve, name="agentstate-simulator", daemon=True
        )

    def _serve(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def env(self) -> dict[str, str]:
        return vendor_env(self.base_url, self.config.koreai_timezone)

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
