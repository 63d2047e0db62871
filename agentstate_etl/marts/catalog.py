"""The views analysts open: `warehouse.duckdb` holds views over the current mart generation.

The file holds no data, so runs never write it: it is created once, and its views are
refreshed in place only when the set of views changes. An analyst may hold it open read-only
or read-write; their session never blocks a run, and tables they create in it are kept (the
file is never replaced once it exists). The product's own readers (checks, report, export, the demo) open the same views
in an in-memory database and never touch the file at all.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

import duckdb

VIEWS_DIR = Path(__file__).with_name("views")
# Bump when the tables or views change, so existing warehouse files get the new views.
CATALOG_VERSION = "5"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def create_views(con: duckdb.DuckDBPyConnection, current: Path, tables: list[str]) -> None:
    """One view per published table over its Parquet files, then the derived views.

    A warehouse file from before the marts became views holds them as tables: derived data,
    replaced by the views of the same names."""
    derived = [*tables, *(p.stem for p in VIEWS_DIR.glob("*.sql"))]
    for (old,) in con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' AND table_name IN ?",
        [derived],
    ).fetchall():
        con.execute(f"DROP TABLE {old}")
    for table in tables:
        files = _quote(str(current / table / "**" / "*.parquet"))
        con.execute(
            f"CREATE OR REPLACE VIEW {table} AS "
            f"SELECT * FROM read_parquet({files}, hive_partitioning = false)"
        )
    for path in sorted(VIEWS_DIR.glob("*.sql")):
        con.execute(path.read_text())
    con.execute(
        f"CREATE OR REPLACE VIEW agentstate_catalog AS SELECT {_quote(CATALOG_VERSION)} AS version, "
        f"{_quote(str(current))} AS marts"
    )


def connect(current: Path, tables: list[str]) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the warehouse's views: never locked by anyone."""
    con = duckdb.connect()
    create_views(con, current, tables)
    return con


def ensure_warehouse_file(path: Path, current: Path, tables: list[str]) -> str | None:
    """Create the views file, or refresh its views in place when outdated (an analyst's own
    tables in it are kept); a message when another process holds it and it could not be."""
    stamp = path.with_name(f".{path.name}.catalog")
    wanted = f"{CATALOG_VERSION} {current}"
    if path.exists() and stamp.exists() and stamp.read_text() == wanted:
        return None
    if path.exists():
        try:
            with duckdb.connect(str(path)) as con:
                create_views(con, current, tables)
        except (duckdb.IOException, duckdb.ConnectionException):
            return (
                f"{path} is open in another process, so its views were not refreshed to this "
                "version; close that session and run `agentstate rebuild` (the marts themselves "
                "are up to date)"
            )
    else:
        building = path.with_name(f".{path.name}.{uuid.uuid4().hex}.building")
        try:
            with duckdb.connect(str(building)) as con:
                create_views(con, current, tables)
            # a link, not a rename: it fails if another run published the file meanwhile,
            # which an analyst may already be using; that file's views are the same
            with contextlib.suppress(FileExistsError):
                os.link(building, path)
        finally:
            building.unlink(missing_ok=True)
    stamp.write_text(wanted)
    return None
