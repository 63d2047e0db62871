"""A DuckDB session on the warehouse: extensions from their packages, the DuckLake attached as
`warehouse` and made the default catalog, so every table of docs/warehouse.md resolves
unqualified; timestamps shown in UTC.

Many sessions at once are fine, from any process or host: a DuckLake keeps its state in the
catalog database (SQLite or PostgreSQL) and immutable Parquet files, and each transaction
reads one committed snapshot.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb

from agentstate_etl.errors import WarehouseError
from agentstate_etl.lake import S3Endpoint
from agentstate_etl.redaction import redact
from agentstate_etl.sql_text import identifier, literal
from agentstate_etl.warehouse import extensions
from agentstate_etl.warehouse.location import DATA_PATH_VARIABLE, URL_VARIABLE, WarehouseLocation

ALIAS = "warehouse"
# a SQLite catalog: how long a statement waits for another process's catalog write
SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_s3_secret(con: duckdb.DuckDBPyConnection, data_path: str) -> None:
    """Credentials for the data files' bucket, from the standard AWS variables (as the lake
    reads them); DuckDB's own credential chain needs an extension the package index lacks."""
    endpoint = S3Endpoint.from_env()
    bucket = urlparse(data_path).netloc
    options = {
        "TYPE": "s3",
        "SCOPE": literal(f"s3://{bucket}"),
        "REGION": literal(endpoint.region),
    }
    for option, variable in (
        ("KEY_ID", "AWS_ACCESS_KEY_ID"),
        ("SECRET", "AWS_SECRET_ACCESS_KEY"),
        ("SESSION_TOKEN", "AWS_SESSION_TOKEN"),
    ):
        if os.environ.get(variable):
            options[option] = literal(os.environ[variable])
    if endpoint.url is not None:
        parsed = urlparse(endpoint.url)
        options["ENDPOINT"] = literal(parsed.netloc)
        options["USE_SSL"] = "true" if parsed.scheme == "https" else "false"
        options["URL_STYLE"] = literal("path")
    spelled = ", ".join(f"{name} {value}" for name, value in options.items())
    con.execute(f"CREATE OR REPLACE TEMPORARY SECRET agentstate_warehouse_s3 ({spelled})")


def ensure_wal(catalog: Path) -> None:
    """Put a SQLite catalog in write-ahead-log mode (it stays so): then a reader's open
    transaction never holds a run's commit back, and a commit never waits for readers.

    A catalog some process is using in the older mode stays in it until the next try."""
    with contextlib.suppress(sqlite3.OperationalError), closing(sqlite3.connect(catalog)) as db:
        if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            db.execute("PRAGMA journal_mode = WAL")


def attach(
    con: duckdb.DuckDBPyConnection, location: WarehouseLocation, read_only: bool, alias: str = ALIAS
) -> None:
    """ATTACH the DuckLake as `alias`; an error says which variable to look at."""
    options = [f"DATA_PATH {literal(location.data_path)}"]
    if location.sqlite_file is not None:
        options.append(f"META_BUSY_TIMEOUT {SQLITE_BUSY_TIMEOUT_MS}")
        if not read_only:
            location.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            ensure_wal(location.sqlite_file)
    if read_only:
        options.append("READ_ONLY")
    if not location.data_on_s3 and not read_only:
        Path(location.data_path).mkdir(parents=True, exist_ok=True)
    try:
        con.execute(f"ATTACH {literal(location.url)} AS {identifier(alias)} ({', '.join(options)})")
    except duckdb.Error as exc:
        if read_only and location.sqlite_file is not None and not location.sqlite_file.exists():
            raise WarehouseError(
                f"no warehouse at {location.sqlite_file}: run `agentstate backfill` first "
                "(or `agentstate demo` to try it on simulated data)"
            ) from None
        raise WarehouseError(
            f"cannot attach the warehouse {location} ({URL_VARIABLE}, {DATA_PATH_VARIABLE}): "
            f"{redact(str(exc))}"
        ) from None


def open_session(
    location: WarehouseLocation, read_only: bool, config: dict[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB with the warehouse attached and in use (see the module doc)."""
    con = duckdb.connect(config={**extensions.OFFLINE, **(config or {})})
    try:
        extensions.load(con, location.extensions)
        if location.data_on_s3:
            create_s3_secret(con, location.data_path)
        con.execute("SET TimeZone = 'UTC'")
        attach(con, location, read_only)
        con.execute(f"USE {identifier(ALIAS)}")
    except BaseException:
        con.close()
        raise
    return con
