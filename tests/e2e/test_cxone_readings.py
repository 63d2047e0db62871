"""CXone's ambiguities, every reading served and read (docs/vendors.md, CXone): `duration` as the previous
state's length or the record's own, and history pages ended by a short page or by
`nextPageToken`. Whatever the vendor does, the intervals equal the simulator's truth."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from agentstate_etl import lake, pipeline
from agentstate_etl.errors import VendorError
from agentstate_etl.settings import Settings
from agentstate_etl.simulator import truth
from agentstate_etl.simulator.server import SimulatorServer
from agentstate_etl.tenants import environment_tenant
from tests.e2e.conftest import DAYS, SIM_NOW, faulty_simulator_config
from tests.e2e.test_marts_match_truth import assert_same
from tests.engine.landed_days import engine_settings


def at_sim_now(home: Path) -> Settings:
    """The engine's settings for a home, at the simulated now (the tests land days directly)."""
    return engine_settings(home, max_quarantine_rate=0.2, now_override=SIM_NOW)


@pytest.mark.parametrize(("duration", "paging"), [("own", "token"), ("previous", "numbers")])
def test_intervals_equal_truth_whatever_the_reading(
    duration: str, paging: str, tmp_path: Path
) -> None:
    config = replace(
        faulty_simulator_config(agents=5), cxone_duration=duration, cxone_paging=paging
    )
    home = at_sim_now(tmp_path)
    days = DAYS[2:4]
    with SimulatorServer(config) as server:
        env = server.env()
        tenant = environment_tenant("cxone", env).resolve(env)
        for day in days:
            landing = pipeline.land_raw(tenant, day, home)
            assert landing.cross_check["duration_reading"] == duration
            assert landing.fetch_stats["agents_queried"] == 5
            pipeline.land_intervals(landing.key, home)
        actual = [
            home.lake.read(lake.INTERVALS, lake.PartitionKey("cxone", tenant.tenant_id, d))
            for d in days
        ]
        expected = [
            truth.expected_intervals(server.world, "cxone", d, lookback_hours=12, as_of=SIM_NOW)
            for d in days
        ]
    assert_same(
        pd.concat([a.to_pandas() for a in actual], ignore_index=True),
        pd.concat(expected, ignore_index=True),
        ["partition_date", "agent_id", "start_ts", "end_ts", "state"],
    )


def test_the_token_and_snapshot_as_the_snapshot_document_says(tmp_path: Path) -> None:
    """A token endpoint taking only Basic and a snapshot requiring its scope (403 without):
    the form-only client is refused, naming the URL; Basic without the scope still lands the
    day's history (the roster's other sources), and says the snapshot failed; Basic with the
    scope gets the snapshot too."""
    scope = "urn:nice:cxone:agent:state:read"
    config = replace(
        faulty_simulator_config(agents=3), cxone_token_auth="basic", cxone_snapshot_scope=scope
    )
    home = at_sim_now(tmp_path)
    with SimulatorServer(config) as server:
        env = server.env()
        form = environment_tenant("cxone", env).resolve(env)
        with pytest.raises(VendorError, match="oauth/token") as refused:
            pipeline.land_raw(form, DAYS[3], home)
        assert "sim-secret" not in str(refused.value)
        basic = {**env, "CXONE_TOKEN_AUTH": "basic"}
        no_scope = environment_tenant("cxone", basic).resolve(basic)
        landing = pipeline.land_raw(no_scope, DAYS[3], home)
        assert landing.fetch_stats["roster_snapshot_failed"] == 1
        assert landing.fetch_stats["agents_queried"] == 3 and landing.valid > 0
        scoped = {**basic, "CXONE_SCOPE": scope}
        landing = pipeline.land_raw(
            environment_tenant("cxone", scoped).resolve(scoped), DAYS[3], home
        )
        assert landing.fetch_stats["roster_snapshot_failed"] == 0
        assert landing.fetch_stats["roster_from_snapshot"] > 0
