"""The code location: built from the configuration when it loads, one set of assets, one
resource and one job per tenant, schedules that launch one run per tenant."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from agentstate_etl.config import load_config
from agentstate_etl.settings import Settings
from assets.resources import RESOURCE_NAMES, SETTINGS_TYPES, AgentStateSettings

EXAMPLE = Path(__file__).parents[2] / "examples" / "tenants.toml"


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGENTSTATE_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("AGENTSTATE_START_DATE", "2026-02-01")


def test_the_code_location_loads_while_vendor_variables_are_unset(clean_env: None) -> None:
    from assets.definitions import defs

    definitions = defs()
    dg.Definitions.validate_loadable(definitions)
    graph = definitions.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert "cxengage/default/raw_records" in keys and "cxone/default/status_summary" in keys
    job = definitions.resolve_job_def("koreai_default_daily")  # raises when there is none
    assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} == {
        "koreai/default/raw_records",
        "koreai/default/state_intervals",
        "warehouse",  # a lone tenant updates the marts in its own run
    }
    node = graph.get(dg.AssetKey(["cxone", "default", "raw_records"]))
    assert node.partitions_def.start.date().isoformat() == "2026-02-01"  # type: ignore[union-attr]
    resource = definitions.resources["cxone_default"]
    assert isinstance(resource.client_secret, dg.EnvVar)  # type: ignore[attr-defined]


def test_schedules_launch_one_run_per_tenant_tagged_with_it(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTSTATE_TENANTS", str(EXAMPLE))
    from assets.definitions import build_definitions

    config = load_config()
    definitions = build_definitions(config)
    dg.Definitions.validate_loadable(definitions)
    schedule = definitions.resolve_schedule_def("settled_daily")
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime(2026, 3, 8, 2, 30, tzinfo=UTC),
            repository_def=definitions.get_repository_def(),
        )
        requests = list(schedule.evaluate_tick(context).run_requests or [])
    assert len(requests) == len(config.tenants) == 4
    for request, tenant in zip(requests, config.tenants, strict=True):
        assert request.partition_key == "2026-03-07"
        assert request.tags["agentstate/vendor"] == tenant.vendor
        assert request.tags["agentstate/tenant"] == tenant.slug
        assert request.tags["agentstate/source"] == "schedule:settled_daily"
        assert {key.path[1] for key in request.asset_selection or []} == {tenant.slug}


def test_the_code_location_loads_without_warning_noise(tmp_path: Path) -> None:
    """What the UI's code server logs on load: no BetaWarning or PreviewWarning lines."""
    loaded = subprocess.run(
        [sys.executable, "-W", "default", "-c", "from assets.definitions import defs; defs()"],
        env={**os.environ, "AGENTSTATE_HOME": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "BetaWarning" not in loaded.stderr and "PreviewWarning" not in loaded.stderr


def test_collect_sensors_poll_every_cadence_one_poll_at_a_time(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`collect_<vendor>` (docs/collection.md): RUNNING by default, every
    AGENTSTATE_COLLECT_EVERY_S, a run of its job unless one is still in progress."""
    monkeypatch.setenv("AGENTSTATE_COLLECT_EVERY_S", "120")
    from assets.definitions import build_definitions

    definitions = build_definitions(load_config())
    sensor = definitions.resolve_sensor_def("collect_cxengage")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 120
    assert sensor.job_name == "collect_cxengage"
    with dg.DagsterInstance.ephemeral() as instance:
        request = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        assert [r.tags["agentstate/source"] for r in request.run_requests] == [
            "sensor:collect_cxengage"
        ]
        instance.add_run(
            dg.DagsterRun(job_name="collect_cxengage", status=dg.DagsterRunStatus.STARTED)
        )
        skipped = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        assert not skipped.run_requests and "still runs" in (skipped.skip_message or "")


def test_the_settings_resource_carries_every_setting_and_gives_it_back(tmp_path: Path) -> None:
    """AgentStateSettings declares Settings' fields for Dagster's UI: a field added to one and
    not the other, or a different default, fails here."""
    declared = dict(AgentStateSettings.model_fields)
    assert set(declared) == {"home", *(RESOURCE_NAMES.get(n, n) for n in SETTINGS_TYPES)}
    defaults = {  # those Settings has (the others get theirs from the variables' defaults)
        f.name: f.default
        for f in dataclasses.fields(Settings)
        if f.default is not dataclasses.MISSING
    }
    for name in SETTINGS_TYPES.keys() & defaults.keys():
        default = declared[RESOURCE_NAMES.get(name, name)].default
        assert default == defaults[name] or (default == "" and defaults[name] is None), name
    settings = dataclasses.replace(
        AgentStateSettings(home=str(tmp_path)).settings(),
        report_tz="Asia/Kolkata",
        now_override=datetime(2026, 3, 10, 15, 30, tzinfo=UTC),
        schedules_dir=tmp_path / "inbox",
        interval_minutes=60,
    )
    assert AgentStateSettings.from_settings(settings).settings() == settings
