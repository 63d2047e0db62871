"""One writer of the marts at a time, on every host that shares the warehouse.

A run reads the lake, computes the days it touched and commits them in one DuckLake
transaction. Two runs computing the same day from different lake states must not commit in
the wrong order (the older result would win), and two first builds must not both insert a
day; so a run holds the writer lock from before it reads the lake until its commit. The lock
lives where every writer of that warehouse can see it:

- SQLite catalog (one host): an exclusive `flock` on `<catalog>.lock` beside it;
- PostgreSQL catalog: a transaction-scoped advisory lock (`pg_advisory_xact_lock`) in the
  catalog's database, held by a session of its own; PostgreSQL releases it when that session
  ends, also when the process dies.

Analysts' sessions never take it: their tables are their own, and a run's commit that meets
theirs at the same instant is retried (`transient`).
"""

from __future__ import annotations

import fcntl
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import duckdb

from agentstate_etl.sql_text import literal
from agentstate_etl.warehouse import extensions
from agentstate_etl.warehouse.location import WarehouseLocation

# pg_advisory_xact_lock's key: the ASCII of "agentst", one number every writer agrees on
WRITER_LOCK_KEY = 0x6167656E747374
# what a commit meeting another at the same instant says: a SQLite catalog refuses a second
# writer at once (no waiting helps: the two would deadlock), PostgreSQL or DuckLake's own
# conflict check may refuse it after its retries
TRANSIENT_MESSAGES = (
    "database is locked",
    "Transaction conflict",
    "could not serialize access",
    "deadlock detected",
)
# An analyst's session may commit every few seconds, and on a SQLite catalog each of its
# commits made during a run's transaction refuses that transaction: on a loaded machine (the
# soak: 6 backfills, 3 analysts, a load of 12 on 2 cores) a run's transaction takes seconds, and
# 8 tries over ~25 s failed a run. Tried for about a minute and a half, with jitter so the
# tries do not fall in step with a writer's pace.
ATTEMPTS = 16
FIRST_WAIT_S = 0.1
MAX_WAIT_S = 8.0
T = TypeVar("T")


def transient(exc: BaseException) -> bool:
    """A commit that may succeed when tried again (another writer was committing)."""
    return isinstance(exc, duckdb.Error) and any(m in str(exc) for m in TRANSIENT_MESSAGES)


def retry_transient(
    work: Callable[[], T], attempts: int = ATTEMPTS, sleep: Callable[[float], None] = time.sleep
) -> T:
    """`work()`, again after a transient failure (backing off, jittered, each wait at most
    `MAX_WAIT_S`), at most `attempts` times."""
    wait = FIRST_WAIT_S
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except duckdb.Error as exc:
            if attempt == attempts or not transient(exc):
                raise
        sleep(wait * random.uniform(0.5, 1.5))
        wait = min(wait * 2, MAX_WAIT_S)
    raise AssertionError("unreachable")


@contextmanager
def _file_lock(location: WarehouseLocation) -> Iterator[None]:
    catalog = location.sqlite_file
    assert catalog is not None
    catalog.parent.mkdir(parents=True, exist_ok=True)
    with open(catalog.with_name(f"{catalog.name}.lock"), "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, or the process dies
        yield


@contextmanager
def _advisory_lock(location: WarehouseLocation) -> Iterator[None]:
    con = duckdb.connect(config=extensions.OFFLINE)
    try:
        extensions.load(con, ["postgres_scanner"])
        con.execute(f"ATTACH {literal(location.target)} AS writer_lock (TYPE postgres)")
        con.execute("BEGIN")  # the PostgreSQL transaction that holds the lock until it ends
        con.execute(
            "SELECT * FROM postgres_query('writer_lock', "
            f"'SELECT pg_advisory_xact_lock({WRITER_LOCK_KEY:d})')"
        )
        yield
        con.execute("ROLLBACK")
    finally:
        con.close()


@contextmanager
def writer_lock(location: WarehouseLocation) -> Iterator[None]:
    """Exclusive among the warehouse's writers while the block runs; waits for the previous."""
    lock = _file_lock if location.sqlite_file is not None else _advisory_lock
    with lock(location):
        yield
