"""One small exception hierarchy: every error says what failed, where, and what to do next."""

from __future__ import annotations

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


class WarehouseError(AgentStateError):
    """The warehouse is missing, or lacks the table or rows a reader asked for."""


class LakeConflictError(AgentStateError):
    """Another run committed the same partition's landing while this one was writing it.

    The lake keeps the other run's landing; this run's objects were never visible.
    """


class BeyondRetention(AgentStateError):
    """A day the vendor no longer keeps and the lake does not hold: nothing can land it."""
