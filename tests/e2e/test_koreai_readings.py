"""Kore.ai as its document leaves it open (docs/vendors.md, Kore.ai): `ReasonCode` is a code a
tenant's file names, and `EventTime` has no AM/PM, so a 12-hour clock is flagged, not guessed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import dagster as dg
import pandas as pd

from agentstate_etl import collect, lake
from agentstate_etl.simulator import truth
from agentstate_etl.simulator.config import Faults
from agentstate_etl.simulator.server import SimulatorServer
from agentstate_etl.tenants import environment_tenant
from tests.e2e.conftest import (
    DAYS,
    SIM_NOW,
    faulty_simulator_config,
    range_tags,
    tenant_assets,
    vendor_resources,
)
from tests.e2e.test_cxone_readings import at_sim_now
from tests.e2e.test_marts_match_truth import assert_same

NAMES = {"BRK": "Break (paid)", "LUNCH": "Lunch"}  # MTG and TRN left out: they stay codes
KEYS = ["partition_date", "agent_id", "start_ts", "end_ts", "state", "reason"]


def named(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(reason=frame["reason"].map(lambda r: NAMES.get(r, r)))


def check(
    instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult, name: str
) -> dg.AssetCheckEvaluation:
    """The run's evaluation of check `name`, as the UI reads it (the instance's event log,
    which holds a failed step's evaluations too)."""
    (evaluation,) = [
        event.event_specific_data
        for record in instance.get_records_for_run(result.run_id).records
        if (event := record.event_log_entry.dagster_event) is not None
        and isinstance(event.event_specific_data, dg.AssetCheckEvaluation)
        and event.event_specific_data.check_name == name
    ]
    return evaluation


def test_reason_codes_are_named_by_the_tenants_file_in_backfills_and_polls(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    codes = tmp_path / "koreai-reasons.csv"
    codes.write_text("code,name\n" + "".join(f"{c},{n}\n" for c, n in NAMES.items()))
    env = {**simulator.env(), "KOREAI_REASON_CODES_FILE": str(codes)}
    tenant = environment_tenant("koreai", env)
    days = DAYS[1:3]
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            tenant_assets(tenant),
            resources=vendor_resources(env, tmp_path / "backfill", [tenant]),
            instance=instance,
            tags=range_tags(days),
        )
        assert result.success
        assert check(instance, result, "hours_pass_twelve").passed  # 24-hour: hours pass 12
    settings = at_sim_now(tmp_path / "backfill")
    account = tenant.resolve(env).tenant_id
    actual = pd.concat(
        [
            settings.lake.read(lake.INTERVALS, lake.PartitionKey("koreai", account, d)).to_pandas()
            for d in days
        ]
    )
    expected = pd.concat(
        [
            truth.expected_intervals(simulator.world, "koreai", d, lookback_hours=12, as_of=SIM_NOW)
            for d in days
        ]
    )
    assert {"Break (paid)", "Lunch", "MTG", "TRN"} <= set(actual["reason"].dropna())
    assert_same(actual, named(expected), KEYS)

    # a poll lands the same names (continuous collection builds its own intervals)
    polled = at_sim_now(tmp_path / "collect")
    collect.poll_tenant(tenant.resolve(env), polled)
    today = SIM_NOW.date()
    reasons = polled.lake.read(lake.INTERVALS, lake.PartitionKey("koreai", account, today))
    assert "Break (paid)" in set(reasons.column("reason").to_pylist())
    assert "BRK" not in set(reasons.column("reason").to_pylist())


def test_a_day_on_a_twelve_hour_clock_is_flagged(tmp_path: Path) -> None:
    """Read as a 24-hour clock, the afternoon lands twelve hours early: outside the day's
    window, so quarantined, which fails the day at the default threshold; allowed to land,
    the day is flagged by a warning check."""
    config = replace(
        faulty_simulator_config(agents=4), koreai_clock=12, koreai_timezone="UTC", faults=Faults()
    )
    with SimulatorServer(config) as server, dg.DagsterInstance.ephemeral() as instance:
        env = server.env()
        tenant = environment_tenant("koreai", env)
        failed = dg.materialize(
            tenant_assets(tenant),
            resources=vendor_resources(env, tmp_path, [tenant]),
            instance=instance,
            partition_key=DAYS[2].isoformat(),
            raise_on_error=False,
        )
        assert not failed.success  # the default threshold: the misplaced afternoon fails it
        over = check(instance, failed, "quarantine_rate")
        assert not over.passed and over.metadata["days_over"].value == 1
        assert over.metadata["rates"].value[DAYS[2].isoformat()] > 0.1
        result = dg.materialize(
            tenant_assets(tenant),
            resources=vendor_resources(env, tmp_path, [tenant], max_quarantine_rate=1.0),
            instance=instance,
            partition_key=DAYS[2].isoformat(),
        )
        assert result.success  # flagged, not failed: the data cannot tell the clocks apart
        assert check(instance, result, "quarantine_rate").passed
        evaluation = check(instance, result, "hours_pass_twelve")
        assert not evaluation.passed
        assert evaluation.severity == dg.AssetCheckSeverity.WARN
        assert evaluation.metadata["days"].value == [DAYS[2].isoformat()]
