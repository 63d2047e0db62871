"""A full or failing disk under a store is one line naming the path (agentstate_etl.errors)."""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path
from typing import NamedTuple

import pytest

from agentstate_etl.errors import storage_error


class Usage(NamedTuple):
    total: int
    used: int
    free: int


def wrapped(inner: BaseException) -> Exception:
    """As SQLAlchemy raises it: its own error, the driver's in `orig`."""
    outer = RuntimeError("(sqlite3.OperationalError) disk I/O error [SQL: INSERT ...]")
    outer.orig = inner  # type: ignore[attr-defined]
    return outer


def test_sqlite_disk_io_error_on_a_nearly_full_disk_says_no_space_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda _: Usage(10**9, 10**9 - 4096, 4096))
    failure = storage_error(wrapped(sqlite3.OperationalError("disk I/O error")), tmp_path)
    assert failure is not None and str(tmp_path) in str(failure)
    assert "no space left" in str(failure) and "\n" not in str(failure)


def test_a_disk_io_error_with_space_left_is_named_as_such(tmp_path: Path) -> None:
    failure = storage_error(wrapped(sqlite3.OperationalError("disk I/O error")), tmp_path)
    assert failure is not None and "disk I/O error writing under" in str(failure)
    assert "no space left" not in str(failure)


def test_enospc_names_the_file_it_hit_and_other_errors_pass(tmp_path: Path) -> None:
    target = tmp_path / "lake" / "part.parquet"
    failure = storage_error(OSError(errno.ENOSPC, "No space left", str(target)), tmp_path)
    assert failure is not None and str(target) in str(failure)
    assert storage_error(ValueError("day is out of range"), tmp_path) is None
