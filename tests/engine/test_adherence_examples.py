"""Adherence by hand-made examples: each adherence rule of docs/warehouse.md on a timeline small enough to read."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pyarrow.compute as pc
import pytest

from tests.engine.test_analytics_properties import build, frame, partitions, segment_table

T0 = int(datetime(2026, 3, 10, 9, tzinfo=UTC).timestamp() * 1000)
MIN = 60_000
MIDNIGHT = int(datetime(2026, 3, 11, tzinfo=UTC).timestamp() * 1000)


def at(minutes: float) -> int:
    return T0 + int(minutes * MIN)


def adherence(
    occurrences: list[tuple], segments: list[tuple], threshold_s: float = 0.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    con = build(partitions(occurrences), segment_table(segments), "UTC", threshold_s=threshold_s)
    return (
        frame(con, "SELECT * FROM mart_adherence_daily ORDER BY agent_id, day"),
        frame(con, "SELECT * FROM mart_adherence_exceptions ORDER BY agent_id, start_ts"),
    )


def spans(exceptions: pd.DataFrame) -> list[tuple]:
    return [
        (
            r.activity,
            (r.start_ts.timestamp() * 1000 - T0) / MIN,
            r.duration_s / 60,
            r.actual_state,
            None if pd.isna(r.actual_reason) else r.actual_reason,
        )
        for r in exceptions.itertuples()
    ]


def test_an_exception_is_a_maximal_span_and_names_what_held_longest() -> None:
    occurrences = [
        ("a1", at(0), at(30), "READY", None),
        ("a1", at(30), at(34), "NOT_READY", "Smoke"),
        ("a1", at(34), at(40), "UNKNOWN", None),  # still out: one span with the break
        ("a1", at(40), at(60), "BUSY", None),
    ]
    daily, exceptions = adherence(occurrences, [("a1", "Open", at(0), at(60))])
    assert spans(exceptions) == [("Open", 30, 10, "UNKNOWN", None)]
    row = daily.iloc[0]
    assert (row.scheduled_s, row.in_adherence_s, row.out_of_adherence_s) == (3600, 3000, 600)
    assert (row.scheduled_open_s, row.worked_s) == (3600, 50 * 60)
    assert row.conformance_pct == pytest.approx(100 * 50 / 60)


def test_a_tie_goes_to_the_state_that_came_first() -> None:
    occurrences = [
        ("a1", at(0), at(5), "NOT_READY", "Smoke"),
        ("a1", at(5), at(10), "UNKNOWN", None),
    ]
    _, exceptions = adherence(occurrences, [("a1", "Open", at(0), at(10))])
    assert spans(exceptions) == [("Open", 0, 10, "NOT_READY", "Smoke")]


def test_no_data_is_logged_out_and_a_segment_edge_ends_a_span() -> None:
    segments = [("a1", "Open", at(0), at(60)), ("a1", "Break", at(60), at(75))]
    daily, exceptions = adherence([], segments)  # a no-show
    assert spans(exceptions) == [
        ("Open", 0, 60, "LOGGED_OUT", None),
        ("Break", 60, 15, "LOGGED_OUT", None),
    ]
    row = daily.iloc[0]
    assert (row.adherence_pct, row.worked_s, row.conformance_pct) == (0, 0, 0)


def test_lunch_allows_being_logged_out_and_only_its_own_reason() -> None:
    occurrences = [
        ("a1", at(0), at(10), "NOT_READY", "Lunch"),
        # 10..20: no data, logged out, in adherence during Lunch
        ("a1", at(20), at(25), "NOT_READY", "Break"),  # the wrong reason
        ("a1", at(25), at(30), "LOGGED_OUT", None),
    ]
    daily, exceptions = adherence(occurrences, [("a1", "Lunch", at(0), at(30))])
    assert spans(exceptions) == [("Lunch", 20, 5, "NOT_READY", "Break")]
    assert daily.iloc[0].scheduled_open_s == 0 and pd.isna(daily.iloc[0].conformance_pct)


def test_an_activity_the_mapping_does_not_know_is_never_in_adherence() -> None:
    occurrences = [("a1", at(0), at(30), "READY", None)]
    daily, exceptions = adherence(occurrences, [("a1", "Coaching", at(0), at(30))])
    assert spans(exceptions) == [("Coaching", 0, 30, "READY", None)]
    assert daily.iloc[0].unknown_activity_s == 30 * 60


def test_the_threshold_forgives_short_spans_only() -> None:
    occurrences = [
        ("a1", at(0), at(10), "READY", None),
        ("a1", at(10), at(11), "NOT_READY", "Smoke"),  # 60 s
        ("a1", at(11), at(20), "READY", None),
        ("a1", at(20), at(23), "NOT_READY", "Smoke"),  # 180 s
        ("a1", at(23), at(30), "READY", None),
    ]
    daily, exceptions = adherence(occurrences, [("a1", "Open", at(0), at(30))], threshold_s=120)
    assert spans(exceptions) == [("Open", 20, 3, "NOT_READY", "Smoke")]
    assert daily.iloc[0].out_of_adherence_s == 180


def test_unscheduled_time_is_ignored() -> None:
    occurrences = [("a1", at(0), at(120), "NOT_READY", "Smoke")]
    daily, exceptions = adherence(occurrences, [("a1", "Open", at(30), at(60))])
    assert spans(exceptions) == [("Open", 30, 30, "NOT_READY", "Smoke")]
    assert daily.iloc[0].scheduled_s == 30 * 60


def test_a_span_across_midnight_is_measured_whole_so_its_day_needs_the_next_partition() -> None:
    """A 2-minute span across midnight is forgiven at a 150 s threshold; without the next
    day's partition the agent looks logged out after midnight and the span is not."""
    segment = [("a1", "Open", MIDNIGHT - 10 * MIN, MIDNIGHT + 10 * MIN)]
    occurrences = [
        ("a1", MIDNIGHT - 10 * MIN, MIDNIGHT - MIN, "READY", None),
        ("a1", MIDNIGHT - MIN, MIDNIGHT + MIN, "NOT_READY", "Smoke"),
        ("a1", MIDNIGHT + MIN, MIDNIGHT + 10 * MIN, "READY", None),
    ]
    both_days, exceptions = adherence(occurrences, segment, threshold_s=150)
    assert exceptions.empty and (both_days["out_of_adherence_s"] == 0).all()
    first_partition = partitions(occurrences).filter(
        pc.field("partition_date") == date(2026, 3, 10)
    )
    con = build(first_partition, segment_table(segment), "UTC", threshold_s=150)
    first_day = frame(con, "SELECT * FROM mart_adherence_daily ORDER BY day").iloc[0]
    assert first_day.out_of_adherence_s == 60


def test_state_since_is_where_the_unbroken_run_began() -> None:
    """rta_snapshots' `state_since` walks back from the piece holding `as_of` (here 03:00, the
    latest end of the day) through pieces joined end to start in the same state and reason,
    across midnight; a gap, another reason or another state begins a run."""
    hour = 60 * MIN
    occurrences = [
        ("a1", MIDNIGHT - 2 * hour, MIDNIGHT - hour, "READY", None),
        ("a1", MIDNIGHT - hour, MIDNIGHT + hour, "NOT_READY", "Lunch"),  # split at midnight
        ("a1", MIDNIGHT + hour, MIDNIGHT + 3 * hour, "NOT_READY", "Lunch"),
        ("a2", MIDNIGHT + hour, MIDNIGHT + 2 * hour, "NOT_READY", "Break"),
        ("a2", MIDNIGHT + 2 * hour, MIDNIGHT + 3 * hour, "NOT_READY", "Lunch"),
        ("a3", MIDNIGHT, MIDNIGHT + hour, "READY", None),
        ("a3", MIDNIGHT + hour + 30 * MIN, MIDNIGHT + 3 * hour, "READY", None),  # after a gap
        ("a4", MIDNIGHT, MIDNIGHT + hour, "BUSY", None),
        ("a4", MIDNIGHT + hour, MIDNIGHT + 3 * hour, "BUSY", None),  # no reason on either
        ("a5", MIDNIGHT, MIDNIGHT + 2 * hour, "ACW", None),
        ("a5", MIDNIGHT + 2 * hour, MIDNIGHT + 3 * hour, "BUSY", None),
    ]
    con = build(partitions(occurrences), segment_table([]), "UTC")
    rta = frame(
        con,
        "SELECT agent_id, state, epoch_ms(state_since) AS since, epoch_ms(as_of) AS as_of "
        "FROM rta_snapshots WHERE partition_date = DATE '2026-03-11' ORDER BY agent_id",
    )
    assert (rta.as_of == MIDNIGHT + 3 * hour).all()
    assert list(zip(rta.agent_id, rta.state, rta.since, strict=True)) == [
        ("a1", "NOT_READY", MIDNIGHT - hour),
        ("a2", "NOT_READY", MIDNIGHT + 2 * hour),
        ("a3", "READY", MIDNIGHT + hour + 30 * MIN),
        ("a4", "BUSY", MIDNIGHT),
        ("a5", "BUSY", MIDNIGHT + 2 * hour),
    ]
