"""Gaps from `nextEventId` chains, per agent-day (docs/vendors.md, CxEngage): a closed interval of the day whose
successor never arrived is reported; one still open, ending after the horizon or before the day
is not this partition's to report."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from agentstate_etl.completeness import SAMPLE_SIZE, ChainGaps, chain_gaps
from agentstate_etl.vendors.cxengage.records import CHAIN

DAY_START = datetime(2026, 3, 8, tzinfo=UTC)
HORIZON = datetime(2026, 3, 8, 15, tzinfo=UTC)


def at(hour: float) -> datetime:
    return DAY_START + timedelta(hours=hour)


def table(*rows: tuple[str, str, float | None, str | None]) -> pa.Table:
    """(agent, eventId, end hour of 2026-03-08 (negative: the day before) or None, next)."""
    return pa.table(
        {
            "agentId": [r[0] for r in rows],
            "eventId": [r[1] for r in rows],
            "end_ts": pa.array(
                [None if r[2] is None else at(r[2]) for r in rows], pa.timestamp("ms", tz="UTC")
            ),
            "nextEventId": [r[3] for r in rows],
        }
    )


def gaps(records: pa.Table) -> ChainGaps:
    return chain_gaps(records, CHAIN, DAY_START, HORIZON)


def test_a_complete_chain_has_no_gap() -> None:
    found = gaps(table(("a", "e1", 9, "e2"), ("a", "e2", 10, "e3"), ("a", "e3", None, None)))
    assert found.count == 0 and found.metadata() == {"chain_gaps": 0, "chain_gap_agents": 0}


def test_a_successor_that_never_arrived_is_a_gap_of_its_agent_day() -> None:
    found = gaps(
        table(
            ("a", "e1", 9, "e2"),
            ("a", "e2", 10, "lost-a"),
            ("b", "f1", 11, "lost-b1"),
            ("b", "f2", 8, "lost-b2"),
            ("c", "g1", 12, "g2"),
            ("c", "g2", None, None),
        )
    )
    assert found.per_agent == Counter({"b": 2, "a": 1})
    assert found.metadata() == {
        "chain_gaps": 3,
        "chain_gap_agents": 2,
        "chain_gap_sample": ["b f2 → lost-b2", "a e2 → lost-a", "b f1 → lost-b1"],
    }


def test_only_intervals_that_ended_within_the_day_and_before_the_horizon_count() -> None:
    found = gaps(
        table(
            ("a", "before", -1, "lost-1"),  # the lookback: the previous day reports it
            ("a", "open", None, None),  # still running: names no successor yet
            ("a", "late", 15.5, "lost-2"),  # ends after the horizon: its successor is unsettled
            ("a", "edge", 15, "lost-3"),  # ends at the horizon: the same
            ("a", "first", 0, "lost-4"),  # ends at the day's start: the day's own
        )
    )
    assert found.metadata()["chain_gap_sample"] == ["a first → lost-4"]


def test_the_sample_is_bounded_and_the_count_is_true() -> None:
    rows = [("a", f"e{i}", 1 + i / 100, f"lost{i}") for i in range(50)]
    found = gaps(table(*rows))
    assert found.count == 50 and len(found.sample) == SAMPLE_SIZE
