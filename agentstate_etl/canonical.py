"""Names shared by every stage: canonical states, vendors, and the columns of canonical frames."""

from __future__ import annotations

VENDORS: tuple[str, ...] = ("cxengage", "cxone", "koreai")

READY = "READY"
NOT_READY = "NOT_READY"
BUSY = "BUSY"
ACW = "ACW"
LOGGED_OUT = "LOGGED_OUT"
UNKNOWN = "UNKNOWN"
CANONICAL_STATES: tuple[str, ...] = (READY, NOT_READY, BUSY, ACW, LOGGED_OUT, UNKNOWN)
LOGGED_IN_STATES: tuple[str, ...] = (READY, NOT_READY, BUSY, ACW, UNKNOWN)

# Canonical events: what every vendor module hands to the interval builder.
# start_ts/end_ts are tz-aware UTC; end_ts is null unless the vendor data states the end.
# `seq` keeps the API's order for events with equal timestamps.
EVENT_COLUMNS: tuple[str, ...] = (
    "vendor",
    "tenant_id",
    "agent_id",
    "agent_name",
    "vendor_state",
    "state",
    "reason",
    "start_ts",
    "end_ts",
    "seq",
)

# agent_state_intervals (docs/warehouse.md), in order.
INTERVAL_COLUMNS: tuple[str, ...] = (
    "vendor",
    "tenant_id",
    "agent_id",
    "agent_name",
    "state",
    "vendor_state",
    "reason",
    "start_ts",
    "end_ts",
    "duration_s",
    "partition_date",
    "is_carry_in",
    "is_open",
)

# Quarantine reason codes, shared with the simulator's expected quarantine.
MISSING_REQUIRED = "missing_required"
BAD_TIMESTAMP = "bad_timestamp"
END_BEFORE_START = "end_before_start"
OVERLAPPING_SEGMENT = "overlapping_segment"  # schedule segments of one agent that overlap
BAD_VALUE = "bad_value"
# the record's own time (CxEngage `start`, CXone `timestamp`, Kore.ai `EventTime`) is not in
# the window that was asked for: the vendor ignored the range, or the clock is wrong
OUTSIDE_WINDOW = "outside_window"
# an `eventId` served again with other content; every version is quarantined
CONFLICTING_DUPLICATE = "conflicting_duplicate"
