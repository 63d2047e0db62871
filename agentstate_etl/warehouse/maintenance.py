"""Snapshots older than the retention expire; the data files only they used are deleted.

Every run adds a snapshot, and every snapshot stays queryable (`AT (VERSION => n)`) until it
expires: `AGENTSTATE_WAREHOUSE_SNAPSHOT_RETENTION_DAYS` (30 by default) says how long "what did
the report say on Monday" can be asked. Expiring takes the writer lock, so it never meets a
run's commit. A file is deleted only an hour after its snapshots expired, so a query that began
on one before it expired can finish reading it.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from agentstate_etl.warehouse.location import WarehouseLocation
from agentstate_etl.warehouse.session import ALIAS, open_session
from agentstate_etl.warehouse.writer import retry_transient, writer_lock

FILE_GRACE = timedelta(hours=1)


@dataclass(frozen=True)
class Expired:
    snapshots: int  # snapshots expired by this call
    files_deleted: int  # data files no snapshot needs any more, deleted
    kept_since: datetime  # the oldest instant still queryable


def expire_snapshots(location: WarehouseLocation, now: datetime | None = None) -> Expired:
    """Expire the snapshots older than the location's retention (the newest always stays)."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=location.snapshot_retention_days)
    with writer_lock(location), closing(open_session(location, read_only=False)) as con:

        def expire() -> int:
            rows = con.execute(
                "SELECT * FROM ducklake_expire_snapshots(?, older_than => ?)", [ALIAS, cutoff]
            ).fetchall()
            return len(rows)

        expired = retry_transient(expire)
        deleted = con.execute(
            "SELECT * FROM ducklake_cleanup_old_files(?, older_than => ?)",
            [ALIAS, now - FILE_GRACE],
        ).fetchall()
    return Expired(expired, len(deleted), cutoff)
