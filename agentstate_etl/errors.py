"""One small exception hierarchy: every error says what failed, where, and what to do next."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from agentstate_etl.redaction import redact


class AgentStateError(Exception):
    """Base of every error agentstate-etl raises on purpose."""


class ConfigError(AgentStateError):
    """Configuration is missing or invalid (names the variables, never their secret values)."""


class VendorError(AgentStateError):
    """A vendor API call failed for good: names vendor, partition, URL and HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        vendor: str,
        url: str,
        partition: str | None = None,
        status: int | None = None,
    ) -> None:
        # the text may quote what a vendor sent: nothing credential-shaped, nothing unbounded
        message, url = redact(message), redact(url, limit=2000)
        self.vendor = vendor
        self.url = url
        self.partition = partition
        self.status = status
        where = f"vendor={vendor}"
        if partition:
            where += f" partition={partition}"
        if status is not None:
            where += f" status={status}"
        super().__init__(f"{message} [{where} url={url}]")


class ValidationError(AgentStateError):
    """Data failed validation past what quarantine may absorb (e.g. quarantine rate too high)."""


class QuarantineRateExceeded(ValidationError):
    """More of a partition's records failed validation than AGENTSTATE_MAX_QUARANTINE_RATE."""

    def __init__(self, message: str, rate: float) -> None:
        super().__init__(message)
        self.rate = rate


class WarehouseError(AgentStateError):
    """The warehouse is missing, or lacks the table or rows a reader asked for."""


class LakeConflictError(AgentStateError):
    """Another run committed the same partition's landing while this one was writing it.

    The lake keeps the other run's landing; this run's objects were never visible.
    """


class BeyondRetention(AgentStateError):
    """A day the vendor no longer keeps and the lake does not hold: nothing can land it."""


class StorageFullError(AgentStateError):
    """A store this process writes (Dagster's SQLite, the lake, the warehouse) ran out of space
    or failed to write; one line naming the path."""


LOW_SPACE_BYTES = 64 * 1024 * 1024  # below this, a disk I/O error is taken for a full disk
_FULL = ("database or disk is full", "no space left on device")


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what caused it (`__cause__`, `__context__`, SQLAlchemy's `orig`)."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        orig = getattr(current, "orig", None)
        pending += [current.__cause__, current.__context__]
        if isinstance(orig, BaseException):
            pending.append(orig)
    return seen


def storage_error(exc: BaseException, where: Path) -> StorageFullError | None:
    """A full disk (ENOSPC, SQLite's SQLITE_FULL, or its "disk I/O error" on a nearly full
    disk) or a failing disk under `where`, as one line naming the path; None for anything
    else."""
    chain = _chain(exc)
    full = any(
        (isinstance(e, OSError) and e.errno == errno.ENOSPC)
        or any(text in str(e).lower() for text in _FULL)
        for e in chain
    )
    io_error = any("disk i/o error" in str(e).lower() for e in chain)
    if not (full or io_error):
        return None
    path = next((Path(e.filename) for e in chain if isinstance(e, OSError) and e.filename), where)
    try:
        free = shutil.disk_usage(path if path.exists() else path.parent).free
    except OSError:
        free = None
    if full or (free is not None and free < LOW_SPACE_BYTES):
        left = f" ({free // (1024 * 1024)} MB free)" if free is not None else ""
        return StorageFullError(
            f"no space left on the device holding {path}{left}: free space there and run the "
            "command again (runs it left unfinished are marked failed when agentstate next "
            "starts, or by agentstate sweep)"
        )
    return StorageFullError(
        f"disk I/O error writing under {path}: check that disk (dmesg, its free space and "
        "permissions), then run the command again"
    )
