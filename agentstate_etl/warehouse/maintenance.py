"""Warehouse upkeep: snapshots older than the retention expire, the small files months of
incremental runs leave are compacted, and the files no snapshot needs any more are deleted.

Every run adds a snapshot, and every snapshot stays queryable (`AT (VERSION => n)`) until it
expires: `AGENTSTATE_WAREHOUSE_SNAPSHOT_RETENTION_DAYS` (30 by default) says how long "what did
the report say on Monday" can be asked. Each run also writes its rows to new Parquet files and
marks the rows it replaced in delete files (a small commit's rows stay in the catalog
itself, "inlined"), so a table kept incrementally becomes many small files and delete files;
readers then open them all. Compaction writes the inlined rows to files, rewrites the files a quarter or
more of whose rows are deleted (`ducklake_rewrite_data_files`) and merges adjacent small files
of a table (`ducklake_merge_adjacent_files`). Neither changes a table's rows, and snapshots
that are kept still read what they read (the merged files keep each row's snapshot range).

All of it takes the writer lock, so it never meets a run's commit. A file no kept snapshot
needs (merged away, or its snapshots expired) is deleted at least an hour later, so a query
that began on one before can finish reading it: from 01:00 UTC on the next day
(`deletable_before`), by the next upkeep (run it daily).
"""

from __future__ import annotations

import tempfile
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from agentstate_etl.warehouse.location import WarehouseLocation
from agentstate_etl.warehouse.session import ALIAS, open_session
from agentstate_etl.warehouse.writer import retry_transient, writer_lock

FILE_GRACE = timedelta(hours=1)
# a data file with at least this share of its rows deleted is rewritten without them
REWRITE_DELETE_THRESHOLD = 0.25


@dataclass(frozen=True)
class Expired:
    snapshots: int  # snapshots expired by this call
    files_deleted: int  # data files no kept snapshot needs any more, deleted
    kept_since: datetime  # the oldest instant still queryable
    files_rewritten: int = 0  # files with many deleted rows, rewritten without them
    files_merged: int = 0  # small files merged into larger ones
    files_created: int = 0  # the files compaction wrote in their place
    rows_flushed: int = 0  # rows of small commits kept in the catalog, written to files


def deletable_before(now: datetime) -> datetime:
    """The cutoff for deleting files no kept snapshot needs: the start of the UTC day before
    the one `FILE_GRACE` ago, so a file goes from 01:00 UTC the day after it was replaced.

    Not `now - FILE_GRACE`: DuckLake 1.5.5 on a SQLite catalog compares these times as text
    ('2026-12-05 12:52:11+00' against '2026-12-05T11:52...'), so every file replaced on the
    cutoff's own day would count as older and go at once. Everything before that day compares
    right, and at a day's start the two readings agree."""
    last = (now - FILE_GRACE).astimezone(UTC)
    return datetime.combine(last.date() - timedelta(days=1), time(), UTC)


def expire_snapshots(location: WarehouseLocation, now: datetime | None = None) -> Expired:
    """Expire the snapshots older than the location's retention (the newest always stays),
    compact the tables' files, delete the files no kept snapshot has needed for an hour."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=location.snapshot_retention_days)
    location.home.mkdir(parents=True, exist_ok=True)
    with (
        writer_lock(location),
        tempfile.TemporaryDirectory(prefix=".warehouse-upkeep-", dir=location.home) as spill,
        closing(open_session(location, read_only=False, config={"temp_directory": spill})) as con,
    ):

        def rows(sql: str, *parameters: object) -> list[tuple]:
            return retry_transient(lambda: con.execute(sql, [ALIAS, *parameters]).fetchall())

        expired = len(rows("SELECT * FROM ducklake_expire_snapshots(?, older_than => ?)", cutoff))
        # small commits' rows the catalog keeps inline go to files first (rewriting a file
        # with inlined rows beside it fails in DuckLake 1.5.5 on a SQLite catalog: isnan(VARCHAR))
        flushed = rows("SELECT * FROM ducklake_flush_inlined_data(?)")
        # (schema, table, files processed, files created) per table
        rewritten = rows(
            "SELECT * FROM ducklake_rewrite_data_files(?, delete_threshold => ?)",
            REWRITE_DELETE_THRESHOLD,
        )
        merged = rows("SELECT * FROM ducklake_merge_adjacent_files(?)")
        deleted = rows(
            "SELECT * FROM ducklake_cleanup_old_files(?, older_than => ?)", deletable_before(now)
        )
    return Expired(
        snapshots=expired,
        files_deleted=len(deleted),
        kept_since=cutoff,
        files_rewritten=sum(int(r[2]) for r in rewritten),
        files_merged=sum(int(r[2]) for r in merged),
        files_created=sum(int(r[3]) for r in rewritten + merged),
        rows_flushed=sum(int(r[2]) for r in flushed),
    )
