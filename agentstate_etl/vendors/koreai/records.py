"""Kore.ai SmartAssist agent-activity events (`M/D/YYYY H:MM:SS` in KOREAI_TIMEZONE)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
from pandera.typing import Series

from agentstate_etl.intervals import EventSource
from agentstate_etl.timestamps import parse_koreai_event_time

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


class KoreAiEvent(pa.DataFrameModel):
    """An activity event: agent, activity and a parseable local time are required."""

    AgentId: Series[str] = pa.Field(nullable=False)
    Activity: Series[str] = pa.Field(nullable=False)
    start_ts: Series[pd.DatetimeTZDtype("ms", "UTC")] = pa.Field(nullable=False)  # type: ignore[valid-type]

    class Config:
        strict = False


def parse(frame: pd.DataFrame, zone: str = "UTC") -> pd.DataFrame:
    frame["start_ts"] = parse_koreai_event_time(frame["EventTime"], zone)
    return frame
