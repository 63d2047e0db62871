"""Backfills through Dagster from Python (the CLI's `backfill` and `demo`).

One in-process run per vendor covers the whole date range (a single-run backfill, no process
start per partition) and is recorded in the instance at $DAGSTER_HOME, so the UI shows it;
the warehouse is rebuilt afterwards in a run of its own.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from agentstate_etl import schedules
from agentstate_etl.errors import ConfigError
from agentstate_etl.settings import Settings, vendor_config
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


def _failure_message(result: dg.ExecuteInProcessResult) -> str:
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
    }
    for vendor in vendors:
        progress(f"{vendor}: {days[0]} .. {days[-1]} ({len(days)} day(s)) ...")
        job = definitions.resolve_job_def(f"{vendor}_daily")
        result = job.execute_in_process(
            instance=instance, tags=tags, run_config=QUIET, raise_on_error=False
        )
        report.run_ids[vendor] = result.run_id
        if result.success:
            progress(f"{vendor}: ok (run {result.run_id[:8]})")
        else:
            report.failures[vendor] = _failure_message(result)
            progress(f"{vendor}: FAILED (run {result.run_id[:8]})")
    pending = schedules.pending(settings)
    if pending:  # the adherence marts read the schedule files present, landed first
        progress(f"schedules: {len(pending)} new or changed file(s) in {settings.schedules} ...")
        result = definitions.resolve_job_def("schedule_files_job").execute_in_process(
            instance=instance, run_config=QUIET, raise_on_error=False
        )
        report.run_ids["schedules"] = result.run_id
        if result.success:
            progress(f"schedules: ok (run {result.run_id[:8]})")
        else:
            report.failures["schedules"] = _failure_message(result)
            progress("schedules: FAILED (the marts use the schedules landed before)")
    progress("warehouse: building marts ...")
    result = definitions.resolve_job_def("warehouse_build").execute_in_process(
        instance=instance, run_config=QUIET, raise_on_error=False
    )
    report.run_ids["warehouse"] = result.run_id
    if result.success:
        progress(f"warehouse: ok ({settings.warehouse})")
    else:
        report.failures["warehouse"] = _failure_message(result)
        progress("warehouse: FAILED")
    return report
