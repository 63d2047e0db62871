"""Canonical events → state occurrences owned by one UTC-day partition (SPEC §5, docs/DESIGN.md).

The builder is vectorized over all agents at once: sort, drop repeated records, find each
occurrence's end (the data's own end, capped by the agent's next event), then clip to the
partition and the horizon.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from agentstate_etl.canonical import INTERVAL_COLUMNS

NAT = np.iinfo(np.int64).min  # numpy's NaT as int64
NO_END = np.iinfo(np.int64).max  # "not ended yet" while clipping

INTERVAL_SCHEMA = pa.schema(
    [
        ("vendor", pa.string()),
        ("tenant_id", pa.string()),
        ("agent_id", pa.string()),
        ("agent_name", pa.string()),
        ("state", pa.string()),
        ("vendor_state", pa.string()),
        ("reason", pa.string()),
        ("start_ts", pa.timestamp("ms", tz="UTC")),
        ("end_ts", pa.timestamp("ms", tz="UTC")),
        ("duration_s", pa.float64()),
        ("partition_date", pa.date32()),
        ("is_carry_in", pa.bool_()),
        ("is_open", pa.bool_()),
    ]
)
assert tuple(INTERVAL_SCHEMA.names) == INTERVAL_COLUMNS


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def fetch_window(day: date, lookback_hours: float) -> tuple[datetime, datetime]:
    """What a partition fetches: its own day plus the lookback for carried-in states."""
    start, end = day_bounds(day)
    return start - timedelta(hours=lookback_hours), end


def horizon_for(day: date, extracted_at: datetime) -> datetime:
    """Where open occurrences stop: the partition's end, or the extraction time if earlier."""
    return min(day_bounds(day)[1], extracted_at)


def to_epoch_ms(values: pd.Series) -> np.ndarray:
    """UTC timestamps as int64 milliseconds (NaT stays NaT's int64 value)."""
    return values.to_numpy(dtype="datetime64[ms]").astype(np.int64)


def _same_as_previous(values: np.ndarray) -> np.ndarray:
    """Row equals the previous row, treating two nulls as equal."""
    out = np.zeros(len(values), dtype=bool)
    if len(values) > 1:
        current, previous = values[1:], values[:-1]
        out[1:] = (current == previous) | (pd.isna(current) & pd.isna(previous))
    return out


def build_intervals(events: pd.DataFrame, day: date, horizon: datetime) -> pd.DataFrame:
    """Occurrences of partition `day`, clipped to `[day, min(day+1, horizon))`.

    `events` has the canonical event columns for the whole fetch window (lookback included).
    Ends come from the data where it states them, capped at the agent's next event; else the
    next event; else the horizon (then `is_open`). Exact repeats of a record (same agent, time,
    state, reason and end, consecutive after sorting) count once.
    """
    day_start, day_end = day_bounds(day)
    bound = min(day_end, horizon)
    d0, d1, b = (int(pd.Timestamp(t).value // 1_000_000) for t in (day_start, day_end, bound))

    ordered = events.sort_values(["agent_id", "start_ts", "seq"], kind="stable")
    agent = ordered["agent_id"].to_numpy(dtype=object)
    start = to_epoch_ms(ordered["start_ts"])
    stated_end = to_epoch_ms(ordered["end_ts"])

    same_agent = _same_as_previous(agent)
    repeat = same_agent & (start == np.roll(start, 1))
    for column in ("vendor_state", "reason"):
        repeat &= _same_as_previous(ordered[column].to_numpy(dtype=object))
    repeat &= _same_as_previous(stated_end)
    keep = ~repeat
    ordered = ordered[keep]
    agent, start, stated_end = agent[keep], start[keep], stated_end[keep]

    has_next = np.zeros(len(start), dtype=bool)
    if len(start) > 1:
        has_next[:-1] = agent[:-1] == agent[1:]
    next_start = np.where(has_next, np.roll(start, -1), NAT)

    true_end = np.where(stated_end != NAT, stated_end, next_start)
    capped = (stated_end != NAT) & has_next & (next_start < stated_end)
    true_end = np.where(capped, next_start, true_end)
    open_ended = true_end == NAT
    end_for_clip = np.where(open_ended, NO_END, true_end)

    clipped_start = np.maximum(start, d0)
    clipped_end = np.minimum(end_for_clip, b)
    zero_length = (~open_ended) & (true_end == start) & (start >= d0) & (start < d1) & (start <= b)
    in_partition = (clipped_end > clipped_start) | zero_length
    clipped_end = np.where(zero_length, start, clipped_end)

    selected = ordered[in_partition]
    clipped_start = clipped_start[in_partition]
    clipped_end = clipped_end[in_partition]
    result = pd.DataFrame(
        {
            "vendor": selected["vendor"].to_numpy(dtype=object),
            "tenant_id": selected["tenant_id"].to_numpy(dtype=object),
            "agent_id": selected["agent_id"].to_numpy(dtype=object),
            "agent_name": selected["agent_name"].to_numpy(dtype=object),
            "state": selected["state"].to_numpy(dtype=object),
            "vendor_state": selected["vendor_state"].to_numpy(dtype=object),
            "reason": selected["reason"].to_numpy(dtype=object),
            "start_ts": pd.to_datetime(clipped_start, unit="ms", utc=True),
            "end_ts": pd.to_datetime(clipped_end, unit="ms", utc=True),
            "duration_s": (clipped_end - clipped_start) / 1000.0,
            "partition_date": day,
            "is_carry_in": start[in_partition] < d0,
            "is_open": end_for_clip[in_partition] > b,
        }
    )
    return result.reset_index(drop=True)


def intervals_to_arrow(intervals: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(intervals, schema=INTERVAL_SCHEMA, preserve_index=False)


def find_overlaps(intervals: pd.DataFrame) -> pd.DataFrame:
    """Rows that start before the previous occurrence of the same agent ended (should be none)."""
    ordered = intervals.sort_values(["vendor", "tenant_id", "agent_id", "start_ts", "end_ts"])
    same_agent = (
        ordered["vendor"].eq(ordered["vendor"].shift())
        & ordered["tenant_id"].eq(ordered["tenant_id"].shift())
        & ordered["agent_id"].eq(ordered["agent_id"].shift())
    )
    previous_end = ordered["end_ts"].shift()
    return ordered[same_agent & (ordered["start_ts"] < previous_end)]
