"""Ground truth is self-consistent: gapless timelines, partitions that add up."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import orjson
import pandas as pd
import pytest

from agentstate_etl.canonical import ACW, UNKNOWN, VENDORS
from agentstate_etl.simulator import truth
from agentstate_etl.simulator.config import Faults
from agentstate_etl.simulator.world import ALWAYS_NO_ACW_AGENT, DAY_MS, World, day_ms
from tests.simulator.conftest import NOW, START, config


@pytest.fixture(scope="module")
def world() -> World:
    return World(config(Faults.all(), agents=10))


@pytest.mark.parametrize("vendor", VENDORS)
def test_timelines_are_gapless_and_never_overlap(world: World, vendor: str) -> None:
    occurrences = world.occurrences(vendor)
    assert occurrences["agent_id"].nunique() == 10
    for _, agent in occurrences.groupby("agent_id"):
        starts = agent["start_ms"].to_numpy()
        ends = agent["end_ms"].to_numpy(dtype="float64", na_value=np.nan)
        assert (np.diff(starts) >= 0).all()
        np.testing.assert_array_equal(ends[:-1], starts[1:])  # each ends where the next begins
        assert np.isnan(ends[-1])  # only the state running at `now` is open
        assert starts[-1] < world.now_ms
    assert (occurrences["start_ms"] % DAY_MS != 0).all()  # nothing exactly at a partition bound


def test_vendor_specifics(world: World) -> None:
    kore = world.occurrences("koreai")
    assert (kore["start_ms"] % 1000 == 0).all()  # whole seconds
    zero = kore[kore["end_ms"] == kore["start_ms"]]
    assert len(zero) > 0 and set(zero["state"]) == {ACW}  # wrap-ups ending in the same second
    for vendor in VENDORS:
        occurrences = world.occurrences(vendor)
        no_acw = occurrences[occurrences["agent_index"] == ALWAYS_NO_ACW_AGENT]
        assert ACW not in set(no_acw["state"])
        assert UNKNOWN in set(occurrences["state"])
        assert (occurrences["start_ms"] < day_ms(START) + DAY_MS).any()


def test_same_seed_same_world_and_other_seed_other_world() -> None:
    first = World(config(Faults.all())).data("cxengage").stream.encoded
    again = World(config(Faults.all())).data("cxengage").stream.encoded
    other = World(config(Faults.all(), seed=12)).data("cxengage").stream.encoded
    assert first == again
    assert first != other


@pytest.mark.parametrize("vendor", VENDORS)
def test_partitions_lie_inside_their_day_and_add_up(world: World, vendor: str) -> None:
    day = START + timedelta(days=2)
    intervals = truth.expected_intervals(world, vendor, day, lookback_hours=12, as_of=NOW)
    d0 = pd.Timestamp(day, tz="UTC")
    assert (intervals["start_ts"] >= d0).all() and (
        intervals["end_ts"] <= d0 + pd.Timedelta(days=1)
    ).all()
    for _, agent in intervals.sort_values(["start_ts", "end_ts"]).groupby("agent_id"):
        assert (agent["start_ts"].iloc[1:].to_numpy() >= agent["end_ts"].iloc[:-1].to_numpy()).all()
        covered = (agent["end_ts"].max() - agent["start_ts"].min()).total_seconds()
        assert agent["duration_s"].sum() == pytest.approx(covered, abs=1e-6)


def test_totals_add_up_to_logged_in_time(world: World) -> None:
    days = [START + timedelta(days=i) for i in range(5)]
    totals = truth.expected_totals(
        world, "cxone", days, report_tz="America/New_York", lookback_hours=12, as_of=NOW
    )
    parts = totals[["ready_s", "not_ready_s", "busy_s", "acw_s", "unknown_s"]].sum(axis=1)
    np.testing.assert_allclose(parts, totals["logged_in_s"], atol=1e-6)
    assert (totals["logged_in_s"] <= 25 * 3600).all()


def test_reconciliation_truth_has_every_status(world: World) -> None:
    days = [START + timedelta(days=i) for i in range(4)]
    expected = truth.expected_reconciliation(
        world, days, tolerance_s=2.0, lookback_hours=12, as_of=NOW
    )
    assert set(expected["status"]) == {"ok", "drift", "missing_summary", "missing_events"}
    drift = expected[expected["status"] == "drift"]
    assert set(drift["diff_s"].round(3)) <= {-7.5, 30.0}


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_malformed_record_is_served_with_its_expected_reason(
    world: World, vendor: str
) -> None:
    stream = world.data(vendor).stream
    served = b"\n".join(stream.encoded)
    junk = world.junk(vendor)
    assert len(junk) >= 5
    for marker in junk["marker"]:
        assert f'"{marker}"'.encode() in served
    assert set(junk["reason"]) >= {"missing_required", "bad_timestamp"}
    records = [orjson.loads(r) for r in stream.encoded]
    assert len(records) == len(world.occurrences(vendor)) + len(junk) + _repeats(stream.encoded)


def _repeats(encoded: list[bytes]) -> int:
    return sum(1 for a, b in zip(encoded, encoded[1:], strict=False) if a == b)


def test_agents_without_any_shift_yet() -> None:
    from datetime import UTC, datetime

    world = World(config(Faults.all(), start=START, now=datetime(2026, 3, 6, 0, 30, tzinfo=UTC)))
    for vendor in VENDORS:
        assert world.occurrences(vendor)["agent_id"].nunique() < 6  # most have not logged in yet
    assert world.summary(world.data("cxone").agents[0].agent_id, 0, world.now_ms) is not None
