"""Every table of the warehouse equals the simulator's ground truth to the millisecond.

The backfill ran through Dagster against a simulator with every fault on (429s, 5xx, dropped
connections, token revocation, duplicates, late events, malformed records, unknown states,
summary drift), in UTC and in a DST zone.
"""

from __future__ import annotations

import orjson
import pandas as pd
import pytest

from agentstate_etl import lake
from agentstate_etl.canonical import VENDORS
from agentstate_etl.intervals import fetch_window
from agentstate_etl.simulator import truth
from agentstate_etl.simulator.server import SimulatorServer
from agentstate_etl.warehouse.location import WarehouseLocation
from tests.e2e.conftest import DAYS, DST_ZONE, SIM_NOW, Backfill


def normalized(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if column in {"start_ts", "end_ts"}:
            out[column] = (
                pd.to_datetime(out[column], utc=True)
                .dt.tz_convert("UTC")
                .astype("datetime64[ms, UTC]")
            )
        elif column in {"day", "partition_date"}:
            out[column] = pd.to_datetime(out[column]).dt.date
        elif pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(3)
        elif pd.api.types.is_bool_dtype(out[column]) or pd.api.types.is_integer_dtype(out[column]):
            out[column] = out[column].astype("int64")
        else:
            out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out.sort_values(keys).reset_index(drop=True)


def assert_same(actual: pd.DataFrame, expected: pd.DataFrame, keys: list[str]) -> None:
    columns = list(expected.columns)
    assert not expected.empty, "ground truth is empty: the test would prove nothing"
    pd.testing.assert_frame_equal(
        normalized(actual[columns], keys), normalized(expected, keys), check_dtype=False
    )


@pytest.mark.parametrize("vendor", VENDORS)
def test_intervals_equal_truth(backfill: Backfill, vendor: str) -> None:
    expected = pd.concat(
        [
            truth.expected_intervals(backfill.world, vendor, day, lookback_hours=12, as_of=SIM_NOW)
            for day in DAYS
        ],
        ignore_index=True,
    )
    actual = backfill.query(f"SELECT * FROM agent_state_intervals WHERE vendor = '{vendor}'")
    assert_same(actual, expected, ["partition_date", "agent_id", "start_ts", "end_ts", "state"])


@pytest.mark.parametrize("zone", ["UTC", DST_ZONE])
@pytest.mark.parametrize("vendor", VENDORS)
def test_daily_marts_equal_truth(
    backfill: Backfill, dst_warehouse: WarehouseLocation, vendor: str, zone: str
) -> None:
    path = backfill.warehouse if zone == "UTC" else dst_warehouse
    where = f"WHERE vendor = '{vendor}'"
    args = dict(report_tz=zone, lookback_hours=12, as_of=SIM_NOW)
    keys = ["agent_id", "day"]
    assert_same(
        backfill.query(f"SELECT * FROM mart_state_totals_daily {where}", path),
        truth.expected_totals(backfill.world, vendor, DAYS, **args),
        keys,
    )
    assert_same(
        backfill.query(f"SELECT * FROM mart_not_ready_reasons_daily {where}", path),
        truth.expected_not_ready_reasons(backfill.world, vendor, DAYS, **args),
        [*keys, "reason"],
    )
    assert_same(
        backfill.query(f"SELECT * FROM mart_acw_daily {where}", path),
        truth.expected_acw(backfill.world, vendor, DAYS, **args),
        keys,
    )


def test_dst_day_has_23_hours(dst_warehouse: WarehouseLocation, backfill: Backfill) -> None:
    hours = backfill.query(
        "SELECT day, max(logged_in_s) / 3600 AS h FROM mart_state_totals_daily GROUP BY day",
        dst_warehouse,
    )
    assert len(hours) >= 4  # the zone shifts days; the DST day itself is covered fully


def test_reconciliation_equals_truth(backfill: Backfill) -> None:
    expected = truth.expected_reconciliation(
        backfill.world, DAYS, tolerance_s=2.0, lookback_hours=12, as_of=SIM_NOW
    )
    assert {"drift", "missing_summary", "missing_events", "ok"} <= set(expected["status"])
    assert_same(
        backfill.query("SELECT * FROM mart_reconciliation"),
        expected,
        ["agent_id", "day", "state"],
    )


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_malformed_record_is_quarantined_with_its_reason(
    backfill: Backfill, vendor: str
) -> None:
    landed = lake.Lake.from_url(backfill.home / "lake")
    quarantined = pd.concat(
        [
            landed.read(lake.QUARANTINE, key).to_pandas()
            for key in landed.partitions(lake.RAW, vendor)
        ],
        ignore_index=True,
    )
    found: dict[str, set[str]] = {}
    for raw, reason in zip(quarantined["raw_record"], quarantined["reason"], strict=True):
        text = orjson.dumps(orjson.loads(raw)).decode()
        for marker in {m for m in text.split('"') if m.startswith("JUNK-")}:
            found.setdefault(marker, set()).update(r.split(":")[0] for r in reason.split("; "))
    for day in DAYS:
        start, end = fetch_window(day, 12)
        expected = truth.expected_quarantine(backfill.world, vendor, start, min(end, SIM_NOW))
        assert not expected.empty
        for marker, reason in zip(expected["marker"], expected["reason"], strict=True):
            assert reason in found.get(marker, set()), f"{marker} ({reason}) not quarantined"


def test_every_request_fault_was_injected_during_the_backfill(
    backfill: Backfill, simulator: SimulatorServer
) -> None:
    injected = simulator.simulator.plan.injected
    assert set(injected) == {
        "rate_limit",
        "server_errors",
        "drop_connections",
        "slow",
        "revoke_tokens",
    }


def test_dim_agents_has_each_cxone_agents_site_from_the_snapshot(backfill: Backfill) -> None:
    snapshot = {str(e["agentId"]): str(e["siteId"]) for e in backfill.world.snapshot()}
    agents = backfill.query("SELECT vendor, agent_id, site_id FROM dim_agents")
    cxone = agents[agents["vendor"] == "cxone"]
    sites = {a: s for a, s in zip(cxone["agent_id"], cxone["site_id"], strict=True) if pd.notna(s)}
    assert sites, "no agent was logged in at the simulated now: the test would prove nothing"
    assert sites == {a: s for a, s in snapshot.items() if a in set(cxone["agent_id"])}
    assert agents.loc[agents["vendor"] != "cxone", "site_id"].isna().all()
