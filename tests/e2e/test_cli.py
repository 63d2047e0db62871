"""`agentstate backfill` as a user runs it: exit status, messages, runs in DAGSTER_HOME."""

from __future__ import annotations

import errno
import os
import socket
import sqlite3
import subprocess
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.utils import make_new_run_id
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget, WorkspaceFileTarget
from dagster_graphql.test.utils import execute_dagster_graphql
from typer.testing import CliRunner

from agentstate_etl.cli import app
from agentstate_etl.simulator.server import SimulatorServer
from agentstate_etl.vendors.registry import VENDOR_SPECS
from assets.origin import WORKSPACE
from tests.e2e.conftest import DAYS, SIM_NOW

VARIABLES = {  # the required ones: optional settings have a default
    vendor: [v.env for v in spec.settings.variables().values() if v.default is None]
    for vendor, spec in VENDOR_SPECS.items()
}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("AGENTSTATE_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.setenv("AGENTSTATE_START_DATE", "2026-03-01")
    monkeypatch.setenv("AGENTSTATE_NOW", SIM_NOW.isoformat())
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_missing_vendor_variables_are_named_before_anything_runs(home: Path) -> None:
    code, output = run(
        "backfill", "--vendor", "cxone", "--start", "2026-03-06", "--end", "2026-03-07"
    )
    assert code == 1
    for name in VARIABLES["cxone"]:
        assert name in output
    assert not (home / "dagster").exists() or not list((home / "dagster").rglob("*.db"))


def test_bad_range_is_a_clear_error(home: Path) -> None:
    code, output = run(
        "backfill", "--vendor", "all", "--start", "2026-03-07", "--end", "2026-03-07"
    )
    assert code == 1 and "exclusive" in output
    code, output = run(
        "backfill", "--vendor", "all", "--start", "2025-12-01", "--end", "2026-03-07"
    )
    assert code == 1 and "AGENTSTATE_START_DATE" in output
    # AGENTSTATE_NOW is 2026-03-10: today's partition is the last one, so --end <= 03-11
    code, output = run(
        "backfill", "--vendor", "all", "--start", "2026-03-09", "--end", "2026-03-12"
    )
    assert code == 1 and "--end 2026-03-12 is in the future" in output
    assert "at most 2026-03-11" in output
    assert not (home / "dagster").exists() or not list((home / "dagster").rglob("*.db"))


def test_backfill_all_vendors_records_runs_in_dagster_home(
    home: Path, simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in simulator.env().items():
        monkeypatch.setenv(name, value)
    code, output = run(
        "backfill", "--vendor", "all", "--start", DAYS[0].isoformat(), "--end", DAYS[2].isoformat()
    )
    assert code == 0, output
    assert "Telemetry" not in output  # the instance the CLI creates sends no usage statistics
    assert "enabled: false" in (home / "dagster" / "dagster.yaml").read_text()
    assert (home / "data" / "warehouse.sqlite").exists()
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    runs = instance.get_runs()
    assert len(runs) == 4  # one single run per vendor tenant for the whole range, then the marts
    assert all(r.is_success for r in runs)
    # the UI lists each run under its job, as if launched there
    for each in runs:
        assert {r["runId"] for r in ui_job_runs(instance, each.job_name)} == {each.run_id}
    for secret in ("sim-pass", "sim-secret", "sim-kore-secret"):
        assert secret not in output
    # what a person reads: one line per warning, with its figures, and no stack traces
    lines = output.splitlines()
    assert (
        "warning: cxone/sim-client: cxone/default/raw_records records_valid: quarantined "
        in "\n".join(lines)
    )
    assert any(
        line.startswith("warning: warehouse: warehouse reconciliation_flags: offending_rows ")
        for line in lines
    )
    assert "Traceback" not in output
    # and a line per partition as it lands, with its pace
    progress = [line for line in lines if line.startswith(f"  cxone/sim-client {DAYS[0]} ")]
    assert progress and "records/s" in progress[0], output


JOB_RUNS = """
query ($job: String!, $repository: String!, $location: String!) {
  pipelineOrError(params: {pipelineName: $job, repositoryName: $repository,
                           repositoryLocationName: $location}) {
    __typename
    ... on Pipeline { runs { runId } }
  }
}
"""


def ui_job_runs(instance: dg.DagsterInstance, job: str) -> list[dict[str, str]]:
    """A job's runs as the UI's job page asks its GraphQL API, over the code location that
    workspace.yaml declares (read as the webserver reads it, loaded in this process)."""
    (declared,) = WorkspaceFileTarget([str(WORKSPACE)]).create_origins()
    location = InProcessCodeLocationOrigin(
        declared.loadable_target_origin, location_name=declared.location_name
    )
    with WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(location)) as workspace:
        answer = execute_dagster_graphql(
            workspace.create_request_context(),
            JOB_RUNS,
            {"job": job, "repository": "__repository__", "location": location.location_name},
        )
    assert not answer.errors, answer.errors
    found = answer.data["pipelineOrError"]
    assert found["__typename"] == "Pipeline", found
    return found["runs"]


def test_failed_partitions_are_named_and_exit_non_zero(
    home: Path, simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in simulator.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AGENTSTATE_MAX_QUARANTINE_RATE", "0")  # every day has junk records
    code, output = run(
        "backfill",
        "--vendor",
        "koreai",
        "--start",
        DAYS[0].isoformat(),
        "--end",
        DAYS[2].isoformat(),
    )
    assert code == 1
    assert f"koreai/acct-sim {DAYS[0]}: " in output and f"koreai/acct-sim {DAYS[1]}: " in output
    assert "AGENTSTATE_MAX_QUARANTINE_RATE" in output
    assert "Traceback" not in output  # the causes, not Dagster's logs (those with --verbose)


def test_one_tenant_updates_the_marts_in_its_own_run(
    home: Path, simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one tenant and no schedule file to land, the marts follow in the same run: no
    second run to launch, and the run shows both the tenant's assets and the warehouse."""
    for name, value in simulator.env().items():
        monkeypatch.setenv(name, value)
    code, output = run(
        "backfill", "--vendor", "cxengage", "--start", str(DAYS[0]), "--end", str(DAYS[2])
    )
    assert code == 0, output
    assert "warehouse: ok" in output
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    (only,) = instance.get_runs()
    assert only.is_success and only.tags["agentstate/vendors"] == "cxengage"
    records = instance.fetch_materializations(dg.AssetKey("warehouse"), limit=10).records
    assert {r.partition_key for r in records} == {str(DAYS[0]), str(DAYS[1])}
    assert {r.run_id for r in records} == {only.run_id}


def test_a_home_named_with_an_apostrophe_backfills_and_reports(
    home: Path, simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paths reach SQL quoted (ATTACH, LOAD, COPY, the lake's files), never pasted in."""
    quoted = home / "o'brien's data"
    monkeypatch.setenv("AGENTSTATE_HOME", str(quoted))
    for name, value in simulator.env().items():
        monkeypatch.setenv(name, value)
    code, output = run(
        "backfill", "--vendor", "cxengage", "--start", str(DAYS[0]), "--end", str(DAYS[1])
    )
    assert code == 0, output
    code, output = run("report")
    assert code == 0, output
    assert Path(output.strip()).is_file() and Path(output.strip()).is_relative_to(quoted)
    code, output = run("sql", "-c", "SELECT count(*) AS days FROM mart_state_totals_daily")
    assert code == 0 and "days" in output, output


def test_a_cxone_backfill_of_past_days_without_a_roster_file_warns(
    home: Path, simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snapshot names the agents logged in now: a finished day fetched without a roster
    file may miss agents, and the run says so in one warning line."""
    for name, value in simulator.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CXONE_AGENTS_FILE")
    code, output = run(
        "backfill",
        "--vendor",
        "cxone",
        "--start",
        DAYS[0].isoformat(),
        "--end",
        DAYS[1].isoformat(),
    )
    assert code == 0, output
    assert (
        "warning: cxone/sim-client: cxone/default/raw_records roster_has_a_file: "
        "days_without_roster_file 1" in output
    ), output


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("database or disk is full"),
        OSError(errno.ENOSPC, "No space left on device"),
    ],
)
def test_a_full_disk_under_dagster_home_is_one_line(
    home: Path, simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    """Dagster's SQLite storage failing for want of space: one line naming DAGSTER_HOME and
    "no space left", exit 1, no traceback (simulated: the storage layer raises ENOSPC)."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    for name, value in simulator.env().items():
        monkeypatch.setenv(name, value)
    original = SqliteEventLogStorage.store_event
    stored = []

    def store_event(self: SqliteEventLogStorage, event: object) -> None:
        stored.append(event)
        if len(stored) > 3:  # the run has begun
            raise error
        original(self, event)  # type: ignore[arg-type]

    monkeypatch.setattr(SqliteEventLogStorage, "store_event", store_event)
    code, output = run(
        "backfill",
        "--vendor",
        "cxone",
        "--start",
        DAYS[0].isoformat(),
        "--end",
        DAYS[1].isoformat(),
    )
    assert code == 1, output
    assert "Traceback" not in output and "disk is full" not in output, output
    (line,) = [x for x in output.splitlines() if "no space left" in x]
    assert f"no space left on the device holding {home / 'dagster'}" in line, output


def test_sweep_marks_runs_of_gone_processes_failed_and_leaves_live_ones(home: Path) -> None:
    """A backfill killed between creating its run and starting it left it NOT_STARTED forever;
    `agentstate sweep` marks it (and a STARTED one of a gone process) failed."""
    from dagster._core.storage.dagster_run import DagsterRun

    from agentstate_etl.settings import Settings
    from assets.runner import HOST_TAG, PID_TAG, dagster_instance

    gone = subprocess.Popen(["true"])
    gone.wait()
    instance = dagster_instance(Settings.from_env(), fail_abandoned=False)
    runs = {
        name: DagsterRun(
            job_name="cxone_default_daily",
            run_id=make_new_run_id(),
            status=status,
            tags={HOST_TAG: socket.gethostname(), PID_TAG: str(pid)},
        )
        for name, status, pid in [
            ("killed_before_start", dg.DagsterRunStatus.NOT_STARTED, gone.pid),
            ("killed_while_running", dg.DagsterRunStatus.STARTED, gone.pid),
            ("still_running", dg.DagsterRunStatus.NOT_STARTED, os.getppid()),
        ]
    }
    for run_record in runs.values():
        instance.add_run(run_record)
    code, output = run("sweep")
    assert code == 0, output
    assert "2 unfinished run(s)" in output and "removed 0 object(s)" in output, output
    status = {name: instance.get_run_by_id(r.run_id).status for name, r in runs.items()}  # type: ignore[union-attr]
    assert status == {
        "killed_before_start": dg.DagsterRunStatus.FAILURE,
        "killed_while_running": dg.DagsterRunStatus.FAILURE,
        "still_running": dg.DagsterRunStatus.NOT_STARTED,
    }
    code, output = run("sweep", "--grace-hours", "0")
    assert code == 1 and "--grace-hours must be at least 0.25" in output
