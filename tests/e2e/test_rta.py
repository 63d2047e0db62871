"""Real-time adherence (docs/collection.md, rta_now): as of a finished day's end, the agents
`rta_snapshots` finds out of adherence are exactly those whose exception in
`mart_adherence_exceptions` runs through that instant, out since the exception's start; the
view `rta_now` keeps each tenant's latest instant, the last poll."""

from __future__ import annotations

import pandas as pd

from agentstate_etl.intervals import day_bounds
from agentstate_etl.vendors.registry import vendor_spec
from tests.e2e.conftest import DAYS, SIM_NOW, Backfill


def test_a_finished_day_agrees_with_the_exceptions(backfill: Backfill) -> None:
    day = DAYS[2]
    end = pd.Timestamp(day_bounds(day)[1])
    rta = backfill.query(
        f"SELECT * FROM rta_snapshots WHERE partition_date = DATE '{day}' AND NOT in_adherence"
    )
    exceptions = backfill.query(
        f"SELECT * FROM mart_adherence_exceptions WHERE start_ts < TIMESTAMPTZ '{end}' "
        f"AND end_ts >= TIMESTAMPTZ '{end}'"
    )
    assert not exceptions.empty, "no exception runs through midnight: the test proves nothing"
    assert (rta["as_of"] == end).all()
    key = ["vendor", "tenant_id", "agent_id"]
    got = rta[[*key, "out_of_adherence_since"]].rename(columns={"out_of_adherence_since": "since"})
    want = exceptions[[*key, "start_ts"]].rename(columns={"start_ts": "since"})
    pd.testing.assert_frame_equal(
        got.sort_values(key).reset_index(drop=True), want.sort_values(key).reset_index(drop=True)
    )


def test_rta_now_is_as_of_the_last_extraction(backfill: Backfill) -> None:
    now = backfill.query(
        "SELECT vendor, min(as_of) AS first, max(as_of) AS last FROM rta_now GROUP BY vendor"
    )
    assert sorted(now["vendor"]) == ["cxengage", "cxone", "koreai"]
    for row in now.itertuples():
        settled = vendor_spec(row.vendor).capabilities.settled_until(SIM_NOW)
        assert row.first == row.last == pd.Timestamp(settled)
    # an agent logged out is listed only when scheduled now; one in a state, since its start
    unscheduled_out = backfill.query(
        "SELECT * FROM rta_now WHERE state = 'LOGGED_OUT' AND scheduled_activity IS NULL"
    )
    assert unscheduled_out.empty
    assert backfill.query("SELECT * FROM rta_now WHERE state_since >= as_of").empty


def test_adherence_counts_only_extracted_time(backfill: Backfill) -> None:
    """The last day is landed up to the extraction's horizon: no exception, no scheduled second
    reaches past it (time not extracted is unknown, not LOGGED_OUT), and its rows say they are
    incomplete while a finished day's say complete."""
    for vendor in ("cxengage", "cxone", "koreai"):
        settled = pd.Timestamp(vendor_spec(vendor).capabilities.settled_until(SIM_NOW))
        late = backfill.query(
            f"SELECT * FROM mart_adherence_exceptions WHERE vendor = '{vendor}' "
            f"AND end_ts > TIMESTAMPTZ '{settled}'"
        )
        assert late.empty, late
    complete = backfill.query(
        "SELECT day, bool_and(is_complete) AS complete FROM mart_adherence_daily GROUP BY day"
    ).set_index("day")["complete"]
    assert not complete[DAYS[-1]] and complete[DAYS[2]]
    exceptions = backfill.query(
        "SELECT day, bool_and(is_complete) AS complete FROM mart_adherence_exceptions GROUP BY day"
    ).set_index("day")["complete"]
    assert not exceptions[DAYS[-1]] and exceptions[DAYS[2]]
