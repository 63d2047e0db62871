"""What a warehouse was before it became a DuckLake, migrated by the first rebuild.

Then the marts were Parquet files in generations under `$AGENTSTATE_HOME/marts` behind views
in `$AGENTSTATE_HOME/warehouse.duckdb`, where analysts could also keep tables of their own.
The marts are derived data: a rebuild recomputes them from the lake into the DuckLake. After
that, the analysts' tables are copied into the DuckLake (under the same names, unless a table
of that name exists there), the views file is renamed `warehouse.duckdb.before-ducklake` (kept,
not deleted: it holds the analysts' originals) and the generations are removed.
"""

from __future__ import annotations

import shutil
from contextlib import closing

import duckdb

from agentstate_etl.sql_text import identifier, literal
from agentstate_etl.warehouse.location import WarehouseLocation
from agentstate_etl.warehouse.session import ALIAS, open_session
from agentstate_etl.warehouse.writer import retry_transient

KEPT_SUFFIX = ".before-ducklake"


def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? "
        "AND table_schema = 'main' AND table_type = 'BASE TABLE'",
        [catalog],
    ).fetchall()
    return {name for (name,) in rows}


def _copy_analyst_tables(location: WarehouseLocation, derived: set[str]) -> list[str]:
    views_file = location.legacy_views_file
    with closing(open_session(location, read_only=False)) as con:
        try:
            con.execute(f"ATTACH {literal(str(views_file))} AS legacy (READ_ONLY)")
        except duckdb.Error as exc:
            return [
                f"{views_file} (the warehouse before DuckLake) could not be opened, so the "
                f"tables analysts kept in it were not copied into the warehouse ({exc}); close "
                "the session holding it and run `agentstate rebuild` again"
            ]
        copied = sorted(_tables(con, "legacy") - derived - _tables(con, ALIAS))

        def copy() -> None:
            con.execute("BEGIN")
            for table in copied:
                con.execute(
                    f"CREATE TABLE {ALIAS}.main.{identifier(table)} AS "
                    f"SELECT * FROM legacy.main.{identifier(table)}"
                )
            con.execute("COMMIT")

        try:
            retry_transient(copy)
        except duckdb.Error:
            con.execute("ROLLBACK")
            raise
        con.execute("DETACH legacy")
    kept = views_file.with_name(views_file.name + KEPT_SUFFIX)
    views_file.rename(kept)
    for leftover in views_file.parent.glob(f".{views_file.name}.*"):  # its version stamp
        leftover.unlink(missing_ok=True)
    notes = [f"{views_file} is now {kept.name}: the warehouse is the DuckLake {location}"]
    if copied:
        notes.append(f"copied the analysts' tables {', '.join(copied)} into the warehouse")
    return notes


def migrate(location: WarehouseLocation, derived: set[str]) -> list[str]:
    """Migrate what the previous warehouse left in `$AGENTSTATE_HOME`; notes for the person."""
    notes = []
    if location.legacy_views_file.is_file():
        notes.extend(_copy_analyst_tables(location, derived))
    if location.legacy_marts.is_dir():
        shutil.rmtree(location.legacy_marts, ignore_errors=True)
        notes.append(f"removed {location.legacy_marts} (the marts before DuckLake)")
    return notes
