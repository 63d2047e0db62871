"""A run's one DuckLake transaction: each slice's rows replace the rows of the (vendor, day)
keys the slice owns, table by table; a rebuild replaces the tables whole.

Slices are computed first and their rows staged as local Parquet files; then one short
transaction deletes the keys, inserts the staged rows and commits. Nothing is visible before
the commit, and then all of the run's days are, in one snapshot: readers keep reading the
previous snapshot meanwhile, and it stays queryable until it expires (docs/warehouse.md).
The transaction is short because on a SQLite catalog a transaction that another commit
overtook cannot commit (the catalog refuses it as "database is locked"); it is then tried
again from the staged rows, without computing anything again.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from agentstate_etl.marts.tables import PUBLISHED, REPORT_DAY, view_files
from agentstate_etl.sql_text import identifier, literal
from agentstate_etl.warehouse.session import ALIAS
from agentstate_etl.warehouse.writer import retry_transient

AUTHOR = "agentstate"


class NeedsRebuild(Exception):
    """The warehouse's tables are not the ones this version computes (a new install, an
    upgrade): the update becomes a full rebuild."""


def _columns(con: duckdb.DuckDBPyConnection, qualified: str) -> list[tuple[str, str]]:
    return [(name, kind) for name, kind, *_ in con.execute(f"DESCRIBE {qualified}").fetchall()]


def _names(con: duckdb.DuckDBPyConnection, kind: str) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_catalog = ? AND table_schema = 'main' AND table_type = ?",
        [ALIAS, kind],
    ).fetchall()
    return {name for (name,) in rows}


def published_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The product's tables the warehouse has."""
    return _names(con, "BASE TABLE") & set(PUBLISHED)


@dataclass
class Staged:
    """One table's rows of a run, staged: its columns, files and replaced (vendor, day) keys."""

    columns: list[tuple[str, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    keys: dict[str, set[date]] = field(default_factory=dict)


@dataclass
class Publication:
    """What a run publishes, staged under `staging` until `commit` (see the module doc)."""

    staging: Path
    rebuild: bool
    settings: dict[str, str] = field(default_factory=dict)  # recorded with the commit
    tables: dict[str, Staged] = field(default_factory=lambda: {t: Staged() for t in PUBLISHED})

    def stage(
        self,
        source: duckdb.DuckDBPyConnection,
        vendor: str,
        utc: Iterable[date],
        report: Iterable[date],
    ) -> dict[str, int]:
        """Every table's rows of the days a slice owns, from its computing connection
        `source` (which keeps only those afterwards); the rows staged per table."""
        staged = {}
        for table, (column, kind) in PUBLISHED.items():
            days = list(report if kind == REPORT_DAY else utc)
            # the neighbours' rows go (a DELETE: copying the kept rows instead cost 0.2 s a week)
            source.execute(
                f"DELETE FROM {table} WHERE list_contains(?::DATE[], {column}) IS NOT TRUE", [days]
            )
            rows = int(source.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
            target = self.tables[table]
            target.columns = _columns(source, identifier(table))
            if days:
                target.keys.setdefault(vendor, set()).update(days)
            if rows:
                path = self.staging / f"{table}-{len(target.files)}.parquet"
                source.execute(f"COPY {table} TO {literal(str(path))} (FORMAT parquet)")
                target.files.append(str(path))
            staged[table] = rows
        return staged

    def commit(self, con: duckdb.DuckDBPyConnection, message: str) -> None:
        """One transaction on the lake session `con`; tried again when another commit
        overtook it. Raises NeedsRebuild when an update meets tables of another shape."""
        retry_transient(lambda: self._commit_once(con, message))

    def _commit_once(self, con: duckdb.DuckDBPyConnection, message: str) -> None:
        con.execute("BEGIN")
        try:
            con.execute(
                "CALL ducklake_set_commit_message(?, ?, ?, extra_info => ?)",
                [ALIAS, AUTHOR, message, json.dumps(self.settings, sort_keys=True)],
            )
            existing = published_tables(con)
            for table, staged in self.tables.items():
                self._replace(con, table, staged, table in existing)
            views = _names(con, "VIEW")
            for path in view_files():  # replaced on a rebuild, else created when missing
                if self.rebuild or path.stem not in views:
                    con.execute(path.read_text())
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # a failed COMMIT has ended it already
                con.execute("ROLLBACK")
            raise

    def _replace(
        self, con: duckdb.DuckDBPyConnection, table: str, staged: Staged, exists: bool
    ) -> None:
        qualified = f"{identifier(ALIAS)}.main.{identifier(table)}"
        if self.rebuild:
            con.execute(f"DROP TABLE IF EXISTS {qualified}")
            spelled = ", ".join(f"{identifier(name)} {kind}" for name, kind in staged.columns)
            con.execute(f"CREATE TABLE {qualified} ({spelled})")
        elif not exists or _columns(con, qualified) != staged.columns:
            raise NeedsRebuild(table)
        else:
            column = PUBLISHED[table][0]
            for vendor, days in sorted(staged.keys.items()):
                marks = ", ".join("?" for _ in days)
                con.execute(
                    f"DELETE FROM {qualified} WHERE vendor = ? AND {column} IN ({marks})",
                    [vendor, *sorted(days)],
                )
        if staged.files:
            con.execute(
                f"INSERT INTO {qualified} BY NAME SELECT * FROM read_parquet(?)", [staged.files]
            )
