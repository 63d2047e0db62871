"""Kore.ai SmartAssist agent-activity events (`M/D/YYYY H:MM:SS` in KOREAI_TIMEZONE)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
from pandera.typing import Series

from agentstate_etl.mapping import state_mapping
from agentstate_etl.timestamps import UTC_MS, parse_koreai_event_time

VENDOR = "koreai"
_S = pa_arrow.string()
RAW_FIELDS: dict[str, pa_arrow.DataType] = {
    "AgentId": _S,
    "EventTime": _S,
    "Activity": _S,
    "ReasonCode": _S,
}
PARSED_FROM = {"start_ts": "EventTime"}


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


def to_events(valid: pd.DataFrame, tenant_id: str) -> pd.DataFrame:
    """Events carry no end: each lasts until the agent's next event (API order breaks ties)."""
    mapping = state_mapping(VENDOR)
    vendor_state = valid["Activity"].astype(object)
    return pd.DataFrame(
        {
            "vendor": VENDOR,
            "tenant_id": tenant_id,
            "agent_id": valid["AgentId"].astype(object),
            "agent_name": None,
            "vendor_state": vendor_state,
            "state": mapping.canonical(vendor_state),
            "reason": mapping.reasons(vendor_state, valid["ReasonCode"].astype(object)),
            "start_ts": valid["start_ts"].astype(UTC_MS),
            "end_ts": pd.Series(pd.NaT, index=valid.index, dtype=UTC_MS),
            "seq": range(len(valid)),
        }
    )
