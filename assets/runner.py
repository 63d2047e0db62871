"""Backfills through Dagster from Python (the CLI's `backfill` and `demo`).

One run per vendor covers the whole date range (a single-run backfill, no process start per
partition) and is recorded in the instance at $DAGSTER_HOME, so the UI shows it; the
warehouse is rebuilt afterwards in a run of its own. Runs execute in this process, or, when
AGENTSTATE_EXECUTOR names a deployment's executor, on its workers (this process then only
orchestrates the steps).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from agentstate_etl.errors import ConfigError
from agentstate_etl.settings import Settings, vendor_config
from assets.executors import executor_name
from assets.partitions import START_DATE

# single-run backfill policies are marked beta; the CLI user cannot act on that warning
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

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
    """The instance at $DAGSTER_HOME (default: under AGENTSTATE_HOME), created on first use."""
    os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home))
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").touch()  # an empty config: Dagster's defaults, without its warning
    return dg.DagsterInstance.get()


def deployment_job(name: str) -> dg.JobDefinition:
    """A job rebuilt by name in any process: workers rebuild a run's job through this."""
    from assets.definitions import defs

    return defs().resolve_job_def(name)


def execute(
    definitions: dg.Definitions,
    name: str,
    instance: dg.DagsterInstance,
    tags: dict[str, str] | None = None,
) -> RunResult:
    """Run a job in this process, or through the deployment's executor (steps on workers)."""
    if executor_name() == "default":
        return definitions.resolve_job_def(name).execute_in_process(
            instance=instance, tags=tags, run_config=QUIET, raise_on_error=False
        )
    job = dg.build_reconstructable_job("assets.runner", "deployment_job", (name,))
    return dg.execute_job(job, instance, run_config=QUIET, tags=tags, raise_on_error=False)


def run_backfill(
    vendors: list[str],
    start: date,
    end: date,
    settings: Settings,
    progress: Callable[[str], None] = print,
) -> BackfillReport:
    """Materialize `[start, end)` for each vendor, then rebuild the marts."""
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
    }
    for vendor in vendors:
        progress(f"{vendor}: {days[0]} .. {days[-1]} ({len(days)} day(s)) ...")
        result = execute(definitions, f"{vendor}_daily", instance, tags)
        report.run_ids[vendor] = result.run_id
        if result.success:
            progress(f"{vendor}: ok (run {result.run_id[:8]})")
        else:
            report.failures[vendor] = _failure_message(result)
            progress(f"{vendor}: FAILED (run {result.run_id[:8]})")
    progress("warehouse: building marts ...")
    result = execute(definitions, "warehouse_build", instance)
    report.run_ids["warehouse"] = result.run_id
    if result.success:
        progress(f"warehouse: ok ({settings.warehouse})")
    else:
        report.failures["warehouse"] = _failure_message(result)
        progress("warehouse: FAILED")
    return report
