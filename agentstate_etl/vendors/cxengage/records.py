"""CxEngage RTA interval records: raw wire schema, Pandera model and canonical events."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
from pandera.typing import Series

from agentstate_etl.completeness import Chain
from agentstate_etl.intervals import EventSource
from agentstate_etl.timestamps import parse_iso_utc
from agentstate_etl.validation import VendorInterval

VENDOR = "cxengage"
_S = pa_arrow.string()
RAW_FIELDS: dict[str, pa_arrow.DataType] = {
    "eventId": _S,
    "agentId": _S,
    "platformAgentId": _S,
    "tenantAgentId": _S,
    "agentName": _S,
    "sessionId": _S,
    "loginTimestamp": _S,
    "eventType": _S,
    "presence": _S,
    "state": _S,
    "reasonId": _S,
    "reasonName": _S,
    "reasonListId": _S,
    "reasonListName": _S,
    "start": _S,
    "end": _S,
    "durationSeconds": pa_arrow.float64(),
    "nextEventId": _S,
    "allocation": _S,
    "direction": _S,
    "capacity": _S,
    "transfers": _S,
}
PARSED_FROM = {"start_ts": "start", "end_ts": "end"}
# each closed interval names the next of its agent (docs/vendors.md, CxEngage): gaps are reported per agent-day
CHAIN = Chain(id="eventId", successor="nextEventId", agent="agentId", end="end_ts")
# an interval states its own end
EVENTS = EventSource(
    vendor="cxengage",
    agent_id="agentId",
    agent_name="agentName",
    vendor_state="state",
    reason="reasonName",
    end_ts="end_ts",
)


class CxEngageRecord(VendorInterval):
    """A landed RTA interval: ids, state and start are required; `end` may be open (null)."""

    eventId: Series[str] = pa.Field(nullable=False)
    agentId: Series[str] = pa.Field(nullable=False)
    state: Series[str] = pa.Field(nullable=False)


def parse(frame: pd.DataFrame, zone: str = "UTC") -> pd.DataFrame:
    """Add typed `start_ts`/`end_ts`; an unparseable `end` given as text becomes a bad timestamp."""
    frame["start_ts"] = parse_iso_utc(frame["start"])
    frame["end_ts"] = parse_iso_utc(frame["end"])
    return frame
