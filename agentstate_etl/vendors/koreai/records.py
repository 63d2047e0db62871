"""Kore.ai SmartAssist agent-activity events (`M/D/YYYY H:MM:SS` in KOREAI_TIMEZONE)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
from pandera.typing import Series

from agentstate_etl.intervals import EventSource
from agentstate_etl.timestamps import parse_koreai_event_time
from agentstate_etl.validation import VendorRecord

VENDOR = "koreai"
_S = pa_arrow.string()
RAW_FIELDS: dict[str, pa_arrow.DataType] = {
    "AgentId": _S,
    "EventTime": _S,
    "Activity": _S,
    "ReasonCode": _S,
}
PARSED_FROM = {"start_ts": "EventTime"}
# activity events carry no end: each lasts until the agent's next event
EVENTS = EventSource(
    vendor="koreai", agent_id="AgentId", vendor_state="Activity", reason="ReasonCode"
)


class KoreAiEvent(VendorRecord):
    """An activity event: agent, activity and a parseable local time are required."""

    AgentId: Series[str] = pa.Field(nullable=False)
    Activity: Series[str] = pa.Field(nullable=False)


def parse(frame: pd.DataFrame, zone: str = "UTC") -> pd.DataFrame:
    frame["start_ts"] = parse_koreai_event_time(frame["EventTime"], zone)
    return frame


def clock_hours(table: pa_arrow.Table) -> dict[str, object]:
    """`EventTime` has no AM/PM: a day whose hours never pass 12 might be a 12-hour clock,
    which nothing in the data could tell from a 24-hour one (docs/vendors.md, Kore.ai). Flagged, not fixed."""
    times = table.column("EventTime").drop_null().to_pylist()
    hours = [int(hour) for hour in (_hour(text) for text in times) if hour is not None]
    if not hours:
        return {"event_time_max_hour": None, "twelve_hour_clock_suspected": False}
    latest = max(hours)
    return {"event_time_max_hour": latest, "twelve_hour_clock_suspected": latest <= 12}


def _hour(text: str) -> str | None:
    """The `H` of `M/D/YYYY H:MM:SS`, or None when the text has another shape."""
    parts = text.split(" ")
    if len(parts) != 2 or ":" not in parts[1]:
        return None
    hour = parts[1].split(":", 1)[0]
    return hour if hour.isdigit() else None
