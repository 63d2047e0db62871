"""Backfills through Dagster from Python (the CLI's `backfill` and `demo`).

One run per vendor covers the whole date range (a single-run backfill, no process start per
partition) and is recorded in the instance at $DAGSTER_HOME, so the UI shows it; the
warehouse is rebuilt afterwards in a run of its own. Runs execute in this process, or, when
AGENTSTATE_EXECUTOR names a deployment's executor, on its workers (this process then only
orchestrates the steps).
"""

from __future__ import annotations

import fcntl
import os
import socket
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from agentstate_etl import schedules
from agentstate_etl.errors import ConfigError
from agentstate_etl.marts import landed_partitions
from agentstate_etl.settings import Settings, vendor_config
from assets.executors import executor_name
from assets.partitions import START_DATE
from assets.warehouse import VENDORS_TAG, WAREHOUSE

# single-run backfill policies are marked beta; the CLI user cannot act on that warning
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

HOST_TAG, PID_TAG = "agentstate/host", "agentstate/pid"
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class BackfillReport:
    days: list[date]
    run_ids: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


def backfill_days(start: date, end: date) -> list[date]:
    """The UTC days of `[start, end)`, checked against the partitions that exist."""
    if end <= start:
        raise ConfigError(f"--end ({end}) must be after --start ({start}); --end is exclusive")
    if start < START_DATE:
        raise ConfigError(
            f"--start {start} is before the first partition {START_DATE} (AGENTSTATE_START_DATE)"
        )
    return [start + timedelta(days=i) for i in range((end - start).days)]


RunResult = dg.ExecuteInProcessResult | dg.JobExecutionResult


def _failure_message(result: RunResult) -> str:
    messages = []
    for event in result.all_events:
        if event.is_failure and event.event_specific_data is not None:
            error = getattr(event.event_specific_data, "error", None)
            if error is not None:
                step = f"{event.step_key}: " if event.step_key else ""
                messages.append(f"{step}{error.message.strip()}")
    return "\n".join(dict.fromkeys(messages)) or "the run failed (see the Dagster UI for its logs)"


def dagster_instance(settings: Settings) -> dg.DagsterInstance:
    """The instance at $DAGSTER_HOME (default: under AGENTSTATE_HOME), created on first use.

    Creation runs under an exclusive file lock: two first runs into a fresh DAGSTER_HOME would
    otherwise race creating SQLite's tables (`table secondary_indexes already exists`).
    """
    os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home))
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".agentstate-init.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        config = home / "dagster.yaml"
        if not config.exists():
            config.touch()  # an empty config: Dagster's defaults, without its warning
        instance = dg.DagsterInstance.get()
        instance.get_runs(limit=1)  # creates the run, event-log and schedule storage now
        instance.get_asset_keys()
        _fail_abandoned_runs(instance)
    return instance


def _fail_abandoned_runs(instance: dg.DagsterInstance) -> None:
    """Mark FAILED the runs this host's CLI started in a process that no longer exists (a
    backfill killed with SIGKILL leaves its runs STARTED forever otherwise)."""
    started = instance.get_runs(
        dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING],
            tags={HOST_TAG: socket.gethostname()},
        )
    )
    for run in started:
        pid = int(run.tags.get(PID_TAG, "0"))
        if pid and pid != os.getpid() and not _alive(pid):
            instance.report_run_failed(
                run, f"the agentstate process (pid {pid}) that ran it is gone; marked failed"
            )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def deployment_job(name: str) -> dg.JobDefinition:
    """A job rebuilt by name in any process: workers rebuild a run's job through this."""
    from assets.definitions import defs

    return defs().resolve_job_def(name)


def execute(
    definitions: dg.Definitions,
    name: str,
    instance: dg.DagsterInstance,
    tags: dict[str, str] | None = None,
    without: dg.AssetKey | None = None,
) -> RunResult:
    """Run a job (less the asset `without`) in this process, or through the deployment's
    executor (steps on workers)."""
    job_def = definitions.resolve_job_def(name)
    selection = [k for k in job_def.asset_layer.executable_asset_keys if k != without]
    if executor_name() == "default":
        return job_def.execute_in_process(
            instance=instance,
            tags=tags,
            run_config=QUIET,
            raise_on_error=False,
            asset_selection=selection,
        )
    job = dg.build_reconstructable_job("assets.runner", "deployment_job", (name,))
    return dg.execute_job(
        job,
        instance,
        run_config=QUIET,
        tags=tags,
        raise_on_error=False,
        asset_selection=selection,
    )


def run_backfill(
    vendors: list[str],
    start: date,
    end: date,
    settings: Settings,
    progress: Callable[[str], None] = print,
) -> BackfillReport:
    """Materialize `[start, end)` for each vendor, land new schedule files, then rebuild the
    marts."""
    days = backfill_days(start, end)
    for vendor in vendors:
        vendor_config(vendor)  # fails at once, naming every missing variable
    from assets.definitions import defs  # after the environment is final

    definitions = defs()
    instance = dagster_instance(settings)
    report = BackfillReport(days=days)
    tags = {
        "dagster/asset_partition_range_start": days[0].isoformat(),
        "dagster/asset_partition_range_end": days[-1].isoformat(),
        "agentstate/source": "cli-backfill",
        HOST_TAG: socket.gethostname(),
        PID_TAG: str(os.getpid()),
    }
    for vendor in vendors:
        progress(f"{vendor}: {days[0]} .. {days[-1]} ({len(days)} day(s)) ...")
        # the marts follow once, for every vendor, in the warehouse run below
        result = execute(definitions, f"{vendor}_daily", instance, tags, without=WAREHOUSE)
        report.run_ids[vendor] = result.run_id
        if result.success:
            progress(f"{vendor}: ok (run {result.run_id[:8]})")
        else:
            report.failures[vendor] = _failure_message(result)
            progress(f"{vendor}: FAILED (run {result.run_id[:8]})")
    pending = schedules.pending(settings)
    if pending:  # landing them also brings the adherence marts of their days up to date
        progress(f"schedules: {len(pending)} new or changed file(s) in {settings.schedules} ...")
        result = execute(definitions, "schedule_files_job", instance, tags)
        report.run_ids["schedules"] = result.run_id
        if result.success:
            progress(f"schedules: ok (run {result.run_id[:8]})")
        else:
            report.failures["schedules"] = _failure_message(result)
            progress("schedules: FAILED (the marts use the schedules landed before)")
    if not landed_partitions(settings.lake, days, vendors):
        progress("warehouse: nothing landed, marts left as they were")
        return report
    progress("warehouse: updating the marts for these days ...")
    result = execute(
        definitions, "warehouse_build", instance, {**tags, VENDORS_TAG: ",".join(vendors)}
    )
    report.run_ids["warehouse"] = result.run_id
    if result.success:
        progress(f"warehouse: ok ({settings.warehouse})")
    else:
        report.failures["warehouse"] = _failure_message(result)
        progress("warehouse: FAILED")
    return report
