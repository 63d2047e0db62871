"""The semantics that are easy to get wrong: midnight split, carry-in, horizon, ends, repeats."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentstate_etl.intervals import build_intervals, find_overlaps

DAY = date(2026, 1, 2)
D0 = datetime(2026, 1, 2, tzinfo=UTC)
D1 = D0 + timedelta(days=1)
FAR = D1 + timedelta(days=30)  # extraction long after the day: horizon is the day's end


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def events(rows: list[tuple], vendor: str = "v") -> pd.DataFrame:
    """rows: (agent, start, state, reason, end-or-None)."""
    frame = pd.DataFrame(
        {
            "vendor": vendor,
            "tenant_id": "t",
            "agent_id": [r[0] for r in rows],
            "agent_name": None,
            "vendor_state": [r[2].lower() for r in rows],
            "state": [r[2] for r in rows],
            "reason": [r[3] for r in rows],
            "start_ts": pd.Series([ts(r[1]) for r in rows], dtype="datetime64[ms, UTC]"),
            "end_ts": pd.Series(
                [ts(r[4]) if r[4] else pd.NaT for r in rows], dtype="datetime64[ms, UTC]"
            ),
            "seq": range(len(rows)),
        }
    )
    return frame


def spans(result: pd.DataFrame) -> list[tuple]:
    return [
        (
            r.agent_id,
            r.state,
            r.start_ts.isoformat(),
            r.end_ts.isoformat(),
            r.duration_s,
            r.is_carry_in,
            r.is_open,
        )
        for r in result.itertuples()
    ]


def test_carry_in_from_lookback_and_split_at_midnight() -> None:
    result = build_intervals(
        events(
            [
                ("a", "2026-01-01T22:00:00.250Z", "READY", None, None),
                ("a", "2026-01-02T01:00:00Z", "BUSY", None, None),
                ("a", "2026-01-02T23:30:00Z", "ACW", None, "2026-01-03T00:10:00Z"),
            ]
        ),
        DAY,
        FAR,
    )
    assert spans(result) == [
        (
            "a",
            "READY",
            "2026-01-02T00:00:00+00:00",
            "2026-01-02T01:00:00+00:00",
            3600.0,
            True,
            False,
        ),
        (
            "a",
            "BUSY",
            "2026-01-02T01:00:00+00:00",
            "2026-01-02T23:30:00+00:00",
            81000.0,
            False,
            False,
        ),
        ("a", "ACW", "2026-01-02T23:30:00+00:00", "2026-01-03T00:00:00+00:00", 1800.0, False, True),
    ]


def test_open_occurrence_stops_at_the_extraction_horizon() -> None:
    horizon = datetime(2026, 1, 2, 12, 0, 0, 500000, tzinfo=UTC)
    result = build_intervals(
        events([("a", "2026-01-02T10:00:00Z", "READY", None, None)]), DAY, horizon
    )
    assert spans(result) == [
        (
            "a",
            "READY",
            "2026-01-02T10:00:00+00:00",
            "2026-01-02T12:00:00.500000+00:00",
            7200.5,
            False,
            True,
        )
    ]


def test_stated_end_wins_over_next_event_but_never_overlaps_it() -> None:
    result = build_intervals(
        events(
            [
                # CXone-like: duration says 10:00:30, next event at 10:01 → gap, not READY time
                ("a", "2026-01-02T10:00:00Z", "READY", None, "2026-01-02T10:00:30Z"),
                # stated end overruns the next event → capped at the next event
                ("a", "2026-01-02T10:01:00Z", "BUSY", None, "2026-01-02T10:09:00Z"),
                ("a", "2026-01-02T10:05:00Z", "ACW", None, "2026-01-02T10:06:00Z"),
            ]
        ),
        DAY,
        FAR,
    )
    assert [(s, d) for _, s, _, _, d, _, _ in spans(result)] == [
        ("READY", 30.0),
        ("BUSY", 240.0),
        ("ACW", 60.0),
    ]
    assert not result["is_open"].any()


def test_duplicates_count_once_and_out_of_order_rows_are_sorted() -> None:
    rows = [
        ("a", "2026-01-02T11:00:00Z", "BUSY", None, None),
        ("a", "2026-01-02T10:00:00Z", "READY", None, None),
        ("a", "2026-01-02T11:00:00Z", "BUSY", None, None),  # same record again
        ("a", "2026-01-02T12:00:00Z", "LOGGED_OUT", None, None),
    ]
    result = build_intervals(events(rows), DAY, FAR)
    assert [(s, d) for _, s, _, _, d, _, _ in spans(result)] == [
        ("READY", 3600.0),
        ("BUSY", 3600.0),
        ("LOGGED_OUT", 43200.0),
    ]


def test_same_second_events_keep_api_order_and_zero_length_rows() -> None:
    rows = [
        ("a", "2026-01-02T10:00:00Z", "ACW", None, None),
        ("a", "2026-01-02T10:05:00Z", "READY", None, None),
        ("a", "2026-01-02T10:05:00Z", "BUSY", None, None),
        ("a", "2026-01-02T10:05:00Z", "READY", None, None),  # A-B-A in one second is not a repeat
        ("a", "2026-01-02T10:06:00Z", "LOGGED_OUT", None, None),
    ]
    result = build_intervals(events(rows), DAY, FAR)
    assert [(s, d) for _, s, _, _, d, _, _ in spans(result)][:4] == [
        ("ACW", 300.0),
        ("READY", 0.0),
        ("BUSY", 0.0),
        ("READY", 60.0),
    ]


def test_zero_length_at_partition_edges() -> None:
    rows = [
        ("a", "2026-01-01T23:00:00Z", "READY", None, None),
        ("a", "2026-01-02T00:00:00Z", "BUSY", None, "2026-01-02T00:00:00Z"),
        ("a", "2026-01-02T00:00:00Z", "ACW", None, None),
        ("a", "2026-01-03T00:00:00Z", "READY", None, None),  # next day: not in this partition
    ]
    result = build_intervals(events(rows), DAY, FAR)
    assert [(s, d, c, o) for _, s, _, _, d, c, o in spans(result)] == [
        ("BUSY", 0.0, False, False),
        ("ACW", 86400.0, False, False),
    ]


def test_unknown_state_is_kept() -> None:
    result = build_intervals(
        events([("a", "2026-01-02T10:00:00Z", "UNKNOWN", None, "2026-01-02T10:00:01.5Z")]), DAY, FAR
    )
    assert spans(result)[0][1:5] == (
        "UNKNOWN",
        "2026-01-02T10:00:00+00:00",
        "2026-01-02T10:00:01.500000+00:00",
        1.5,
    )


def test_nothing_seen_means_no_rows() -> None:
    assert build_intervals(events([]).iloc[0:0], DAY, FAR).empty


STATES = ["READY", "NOT_READY", "BUSY", "ACW", "LOGGED_OUT", "UNKNOWN"]
event_rows = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c"]),
        st.integers(min_value=-14 * 3600_000, max_value=26 * 3600_000),  # ms from D0
        st.sampled_from(STATES),
        st.one_of(st.none(), st.integers(min_value=0, max_value=5 * 3600_000)),  # stated length
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(rows=event_rows, horizon_ms=st.integers(min_value=1, max_value=30 * 3600_000))
def test_properties_no_overlap_inside_partition_durations_add_up(
    rows: list[tuple], horizon_ms: int
) -> None:
    base = pd.Timestamp(D0)
    frame = events(
        [
            (
                agent,
                (base + pd.Timedelta(milliseconds=t)).isoformat(),
                state,
                None,
                None
                if length is None
                else (base + pd.Timedelta(milliseconds=t + length)).isoformat(),
            )
            for agent, t, state, length in rows
        ]
    )
    horizon = D0 + timedelta(milliseconds=horizon_ms)
    result = build_intervals(frame, DAY, horizon)
    bound = pd.Timestamp(min(D1, horizon))
    assert find_overlaps(pa.Table.from_pandas(result)).num_rows == 0
    assert (result["start_ts"] >= pd.Timestamp(D0)).all()
    assert (result["end_ts"] <= bound).all()
    assert (result["end_ts"] >= result["start_ts"]).all()
    measured = (result["end_ts"] - result["start_ts"]).dt.total_seconds()
    assert measured.round(3).tolist() == result["duration_s"].round(3).tolist()
    # Covered time per agent equals the union of occurrences inside [D0, bound).
    for agent, group in result.groupby("agent_id"):
        covered = group["duration_s"].sum()
        assert covered <= (bound - pd.Timestamp(D0)).total_seconds() + 1e-9
        # An agent with an event before the bound and open-ended events covers to the bound.
        agent_events = frame[frame["agent_id"] == agent]
        if (agent_events["end_ts"].isna()).all() and (
            agent_events["start_ts"] <= pd.Timestamp(D0)
        ).any():
            assert covered == pytest.approx((bound - pd.Timestamp(D0)).total_seconds())


def test_find_overlaps_names_the_row_that_starts_before_its_predecessor_ends() -> None:
    frame = build_intervals(
        events(
            [
                ("a", "2026-01-02T10:00:00Z", "READY", None, None),
                ("a", "2026-01-02T11:00:00Z", "BUSY", None, None),
                ("b", "2026-01-02T10:30:00Z", "READY", None, None),
            ]
        ),
        DAY,
        FAR,
    )
    assert find_overlaps(pa.Table.from_pandas(frame)).num_rows == 0  # touching is not overlapping
    frame.loc[frame["state"] == "BUSY", "start_ts"] = ts("2026-01-02T10:59:59.999Z")
    overlapping = find_overlaps(pa.Table.from_pandas(frame)).to_pandas()
    assert overlapping[["agent_id", "state"]].values.tolist() == [["a", "BUSY"]]
    shuffled = find_overlaps(pa.Table.from_pandas(frame.iloc[[2, 1, 0]], preserve_index=False))
    assert shuffled.to_pandas()[["agent_id", "state"]].values.tolist() == [["a", "BUSY"]]
