"""What a vendor's own document says about reading it (docs/vendors.md), declared once per vendor.

The clients, the backfill's retention guard, the collector and the simulator all read this
declaration; shared code asks it a question (`windows`, `settled_until`, `oldest_kept`)
instead of testing which vendor it has.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

Paging = Literal["offset", "page_number", "none"]
AuthScheme = Literal["basic", "oauth_client_credentials", "jwt"]
WHOLE_SECONDS = "%Y-%m-%dT%H:%M:%SZ"
# the clock difference we allow between this host and the vendor's (docs/vendors.md, CxEngage)
DEFAULT_CLOCK_ALLOWANCE = timedelta(seconds=15)


@dataclass(frozen=True)
class Capabilities:
    """A vendor API's documented limits and conventions.

    `max_window`: the longest range one request may cover (None: the document states none);
    `retention`: how far back the vendor keeps data (None: not stated; a tenant may override);
    `delay`: how late data is published; `paging`, `auth`: the schemes the client speaks;
    `timestamp_format`: how times are written in requests (strftime, UTC; with `milliseconds`
    a `.mmm` fraction goes before the `Z`, else every time sent is a whole second);
    `per_agent`: a request names one agent (so a range costs a request per agent);
    `max_in_flight` and `requests_per_s`: per-tenant limits the client keeps.
    """

    max_window: timedelta | None
    retention: timedelta | None
    delay: timedelta
    paging: Paging
    auth: AuthScheme
    timestamp_format: str
    per_agent: bool
    milliseconds: bool = False
    max_in_flight: int = 4
    requests_per_s: float | None = None
    clock_allowance: timedelta = DEFAULT_CLOCK_ALLOWANCE

    def __post_init__(self) -> None:
        if self.max_window is not None and self.max_window <= timedelta(0):
            raise ValueError(f"max_window must be positive, got {self.max_window}")
        if self.max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {self.max_in_flight}")
        if self.requests_per_s is not None and self.requests_per_s <= 0:
            raise ValueError(f"requests_per_s must be positive, got {self.requests_per_s}")

    @property
    def resolution(self) -> timedelta:
        """The finest time step a request can name."""
        return timedelta(milliseconds=1) if self.milliseconds else timedelta(seconds=1)

    def format_time(self, moment: datetime) -> str:
        """A request's time as the vendor accepts it (always UTC); a time finer than the
        vendor's resolution is refused rather than silently truncated."""
        utc = moment.astimezone(UTC)
        if utc != self.floor(utc):
            raise ValueError(f"{utc.isoformat()} is finer than the vendor's {self.resolution}")
        text = utc.strftime(self.timestamp_format)
        if self.milliseconds:
            text = f"{text.removesuffix('Z')}.{utc.microsecond // 1000:03d}Z"
        return text

    def floor(self, moment: datetime) -> datetime:
        step = self.resolution // timedelta(microseconds=1)
        return moment - timedelta(microseconds=moment.microsecond % step)

    def ceil(self, moment: datetime) -> datetime:
        floored = self.floor(moment)
        return floored if floored == moment else floored + self.resolution

    def windows(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """`[start, end)` widened to the vendor's resolution and cut into consecutive windows
        no longer than one request may cover."""
        start, end = self.floor(start), self.ceil(end)
        if self.max_window is None:
            return [(start, end)] if start < end else []
        out = []
        while start < end:
            out.append((start, min(start + self.max_window, end)))
            start += self.max_window
        return out

    def settled_until(self, now: datetime) -> datetime:
        """The latest instant whose data the vendor has certainly published by `now`."""
        return now - self.delay - self.clock_allowance

    def oldest_kept(self, now: datetime) -> datetime | None:
        """The earliest instant the vendor still serves at `now` (None: kept indefinitely)."""
        return None if self.retention is None else now - self.retention

    def with_retention(self, retention: timedelta | None) -> Capabilities:
        """The same vendor with a tenant's own retention (a contract may keep data longer)."""
        return replace(self, retention=retention)
