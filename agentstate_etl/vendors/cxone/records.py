"""NICE CXone agent-state history and status-summary records."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
from pandera.typing import Series

from agentstate_etl.intervals import EventSource
from agentstate_etl.mapping import state_mapping
from agentstate_etl.timestamps import UTC_MS, parse_iso_utc
from agentstate_etl.validation import VendorRecord, end_not_before_start

VENDOR = "cxone"
_S = pa_arrow.string()
RAW_FIELDS: dict[str, pa_arrow.DataType] = {
    "agentId": _S,
    "agentName": _S,
    "timestamp": _S,
    "state": _S,
    "subState": _S,
    "duration": pa_arrow.int64(),
}
PARSED_FROM = {"start_ts": "timestamp"}
# Each event lasts until the agent's next one (or the horizon): the tutorial's `duration` says
# the previous state's length in its prose and the record's own in its code, so it is only a
# cross-check (`duration_reading`), never an end.
EVENTS = EventSource(
    vendor="cxone",
    agent_id="agentId",
    agent_name="agentName",
    vendor_state="state",
    reason="subState",
)

SUMMARY_FIELDS: dict[str, pa_arrow.DataType] = {
    "agentId": _S,
    "startTime": _S,
    "endTime": _S,
    "state": _S,
    "duration": pa_arrow.float64(),
}
SUMMARY_PARSED_FROM = {"start_ts": "startTime", "end_ts": "endTime"}


class CxOneRecord(VendorRecord):
    """A state event: agent, state and timestamp required; `duration` (ms) null while open."""

    agentId: Series[str] = pa.Field(nullable=False)
    state: Series[str] = pa.Field(nullable=False)
    duration: Series[float] = pa.Field(nullable=True, ge=0, coerce=True)


class CxOneSummaryInterval(VendorRecord):
    """One summary-report interval (always closed); seconds are `endTime - startTime`.

    Not a `VendorInterval` with `end_ts` made required: overriding an inherited field makes
    pandera rename the inherited check (to its method's name), and quarantine reasons use it."""

    agentId: Series[str] = pa.Field(nullable=False)
    state: Series[str] = pa.Field(nullable=False)
    end_ts: Series[pd.DatetimeTZDtype("ms", "UTC")] = pa.Field(nullable=False)  # type: ignore[valid-type]

    @pa.dataframe_check(name="end_before_start")
    def end_not_before_start(cls, df: pd.DataFrame) -> pd.Series:
        return end_not_before_start(df)


def parse(frame: pd.DataFrame, zone: str = "UTC") -> pd.DataFrame:
    frame["start_ts"] = parse_iso_utc(frame["timestamp"])
    return frame


def parse_summary(frame: pd.DataFrame) -> pd.DataFrame:
    frame["start_ts"] = parse_iso_utc(frame["startTime"])
    frame["end_ts"] = parse_iso_utc(frame["endTime"])
    return frame


def summary_to_canonical(valid: pd.DataFrame, tenant_id: str) -> pd.DataFrame:
    """Summary intervals with canonical states, ready for reconciliation."""
    mapping = state_mapping(VENDOR, "summary")
    vendor_state = valid["state"].astype(object)
    start = valid["start_ts"].astype(UTC_MS)
    end = valid["end_ts"].astype(UTC_MS)
    return pd.DataFrame(
        {
            "vendor": VENDOR,
            "tenant_id": tenant_id,
            "agent_id": valid["agentId"].astype(object),
            "state": mapping.canonical(vendor_state),
            "vendor_state": vendor_state,
            "reason": mapping.reasons(
                vendor_state, pd.Series(None, index=valid.index, dtype=object)
            ),
            "start_ts": start,
            "end_ts": end,
            "summary_s": (end - start).dt.total_seconds(),
        }
    )


def duration_reading(table: pa_arrow.Table) -> dict[str, object]:
    """Which reading of `duration` the tenant's data follows, checked against the timestamps:
    the share of events whose `duration` equals the gap to the agent's next event (`own`) and
    to its previous event (`previous`); `reading` names the one that holds for (nearly) every
    event that has both, else `inconsistent` (or `unknown` with nothing to compare)."""
    frame = table.select(["agentId", "start_ts", "duration"]).to_pandas()
    frame = (
        frame.dropna(subset=["agentId", "start_ts"])
        .drop_duplicates(["agentId", "start_ts"])  # a record served twice is one event
        .sort_values(["agentId", "start_ts"], kind="stable")
    )
    ms = frame["start_ts"].astype("datetime64[ms, UTC]").astype("int64")
    by_agent = ms.groupby(frame["agentId"])
    to_next, from_previous = by_agent.shift(-1) - ms, ms - by_agent.shift(1)
    duration = pd.to_numeric(frame["duration"], errors="coerce")
    shares: dict[str, float | None] = {}
    for reading, gap in (("own", to_next), ("previous", from_previous)):
        both = duration.notna() & gap.notna()
        shares[f"duration_matches_{reading}"] = (
            round(float((duration[both] == gap[both]).mean()), 4) if both.any() else None
        )
    own, previous = shares["duration_matches_own"], shares["duration_matches_previous"]
    if own is None and previous is None:
        reading = "unknown"
    elif (own or 0) >= 0.95 and (own or 0) > (previous or 0):
        reading = "own"
    elif (previous or 0) >= 0.95:
        reading = "previous"
    else:
        reading = "inconsistent"
    return {"duration_reading": reading, **shares}
