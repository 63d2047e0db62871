"""Backfills through Dagster from Python (the CLI's `backfill` and `demo`).

One in-process run per vendor tenant covers the whole date range (a single-run backfill, no
process start per partition) and is recorded in the instance at $DAGSTER_HOME, so the UI shows
it; a tenant's failure is reported and the next tenant runs all the same. The warehouse is
rebuilt afterwards in a run of its own.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from agentstate_etl.config import Config, resolve_all
from agentstate_etl.errors import AgentStateError, ConfigError
from agentstate_etl.settings import Settings
from assets.schedules import SOURCE_TAG, WAREHOUSE_JOB, tenant_job_name, tenant_tags

# single-run backfill policies are marked beta; the CLI user cannot act on that warning
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class BackfillReport:
    days: list[date]
    run_ids: dict[str, str] = field(default_factory=dict)  # "vendor/tenant" or "warehouse"
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


def backfill_days(start: date, end: date, first: date) -> list[date]:
    """The UTC days of `[start, end)`, checked against the partitions that exist from `first`."""
    if end <= start:
        raise ConfigError(f"--end ({end}) must be after --start ({start}); --end is exclusive")
    if start < first:
        raise ConfigError(
            f"--start {start} is before the first partition {first} (AGENTSTATE_START_DATE)"
        )
    return [start + timedelta(days=i) for i in range((end - start).days)]


def _failure_message(result: dg.ExecuteInProcessResult) -> str:
    """What failed, from each failed step's innermost error (ours, not Dagster's wrapper)."""
    messages: dict[str, str] = {}  # error -> where (the run's failure repeats its step's)
    for event in result.all_events:
        if event.is_failure and event.event_specific_data is not None:
            error = getattr(event.event_specific_data, "error", None)
            while error is not None and error.cause is not None:
                error = error.cause
            if error is not None:
                messages.setdefault(error.message.strip(), event.step_key or "")
    lines = [f"{step}: {message}" if step else message for message, step in messages.items()]
    return "\n".join(lines) or "the run failed (see the Dagster UI for its logs)"


def dagster_instance(settings: Settings) -> dg.DagsterInstance:
    """The instance at $DAGSTER_HOME (default: under AGENTSTATE_HOME), created on first use."""
    os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home))
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").touch()  # an empty config: Dagster's defaults, without its warning
    return dg.DagsterInstance.get()


def run_backfill(
    config: Config,
    vendors: list[str],
    start: date,
    end: date,
    tenant: str | None = None,
    progress: Callable[[str], None] = print,
    source: str = "cli-backfill",
) -> BackfillReport:
    """Materialize `[start, end)` for every tenant of `vendors` (or the one named), then
    rebuild the marts. Every missing or invalid variable of every tenant fails at once."""
    settings = config.settings
    days = backfill_days(start, end, settings.start_date)
    tenants = config.select(vendors, tenant)
    resolved = resolve_all(tenants)
    from assets.definitions import build_definitions

    definitions = build_definitions(config)
    instance = dagster_instance(settings)
    report = BackfillReport(days=days)
    span = {
        "dagster/asset_partition_range_start": days[0].isoformat(),
        "dagster/asset_partition_range_end": days[-1].isoformat(),
    }
    for chosen, settings_of in zip(tenants, resolved, strict=True):
        label = f"{chosen.vendor}/{settings_of.tenant_id}"
        progress(f"{label}: {days[0]} .. {days[-1]} ({len(days)} day(s)) ...")
        tags = {
            **span,
            **tenant_tags(chosen, source),
            "agentstate/tenant_id": settings_of.tenant_id,
        }
        try:
            result = definitions.resolve_job_def(tenant_job_name(chosen)).execute_in_process(
                instance=instance, tags=tags, run_config=QUIET, raise_on_error=False
            )
        except (AgentStateError, dg.DagsterError) as exc:  # one tenant never stops the others
            report.failures[label] = f"{label}: {exc}"
            progress(f"{label}: FAILED before its run started")
            continue
        report.run_ids[label] = result.run_id
        if result.success:
            progress(f"{label}: ok (run {result.run_id[:8]})")
        else:
            report.failures[label] = _failure_message(result)
            progress(f"{label}: FAILED (run {result.run_id[:8]})")
    progress("warehouse: building marts ...")
    result = definitions.resolve_job_def(WAREHOUSE_JOB).execute_in_process(
        instance=instance,
        tags={SOURCE_TAG: source},
        run_config=QUIET,
        raise_on_error=False,
    )
    report.run_ids["warehouse"] = result.run_id
    if result.success:
        progress(f"warehouse: ok ({settings.warehouse})")
    else:
        report.failures["warehouse"] = _failure_message(result)
        progress("warehouse: FAILED")
    return report
