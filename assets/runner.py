"""Backfills through Dagster from Python (the CLI's `backfill` and `demo`).

One run per vendor tenant covers the whole date range (a single-run backfill, no
process start per partition) and is recorded in the instance at $DAGSTER_HOME, so the UI shows
it; a tenant's failure is reported and the next tenant runs all the same. The warehouse is
updated afterwards, for the days that landed, in a run of its own. Runs execute in this
process, or, when AGENTSTATE_EXECUTOR names a deployment's executor, on its workers (this
process then only orchestrates the steps).
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
from dagster._utils.error import SerializableErrorInfo

from agentstate_etl import pipeline, schedules
from agentstate_etl.config import Config, resolve_all
from agentstate_etl.errors import AgentStateError, ConfigError
from agentstate_etl.interrupts import stop_requested
from agentstate_etl.lake import PartitionKey
from agentstate_etl.marts.affected import landed_partitions
from agentstate_etl.settings import Settings, ensure_instance_config
from agentstate_etl.tenants import Tenant
from assets.executors import executor_name
from assets.origin import adopt, origin_tags
from assets.schedules import SOURCE_TAG, WAREHOUSE_JOB, tenant_job_name, tenant_tags
from assets.vendor_assets import PROGRESS, tenant_asset_keys
from assets.warehouse import VENDORS_TAG, WAREHOUSE

WAREHOUSE_STEP = WAREHOUSE.to_user_string()  # the warehouse asset's step in a run

# single-run backfill policies are marked beta; the CLI user cannot act on that warning
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

HOST_TAG, PID_TAG = "agentstate/host", "agentstate/pid"


def console(level: str) -> dict[str, object]:
    """Run config for Dagster's console logger: the CLI shows its own summary lines, and
    Dagster's (with their stack traces) only with --verbose."""
    return {"loggers": {"console": {"config": {"log_level": level}}}}


QUIET = console("CRITICAL")


@dataclass
class BackfillReport:
    days: list[date]
    run_ids: dict[str, str] = field(default_factory=dict)  # "vendor/tenant" or "warehouse"
    failures: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # checks that warned, one line each

    @property
    def ok(self) -> bool:
        return not self.failures


def backfill_days(start: date, end: date, first: date, today: date) -> list[date]:
    """The UTC days of `[start, end)`, checked against the partitions that exist: from `first`
    through `today` (today's partition is the intraday one), before anything runs."""
    if end <= start:
        raise ConfigError(f"--end ({end}) must be after --start ({start}); --end is exclusive")
    if start < first:
        raise ConfigError(
            f"--start {start} is before the first partition {first} (AGENTSTATE_START_DATE)"
        )
    if end > today + timedelta(days=1):
        raise ConfigError(
            f"--end {end} is in the future: the last partition is today, {today} (UTC), so "
            f"--end can be at most {today + timedelta(days=1)} (it is exclusive)"
        )
    return [start + timedelta(days=i) for i in range((end - start).days)]


def _warnings(result: RunResult) -> list[str]:
    """One line per warning check that did not pass in the run (quarantined records, UNKNOWN
    states, agents without a summary, reconciliation flags, ...), with its figures."""
    lines = []
    for event in result.all_events:
        evaluation = event.event_specific_data
        if not isinstance(evaluation, dg.AssetCheckEvaluation) or evaluation.passed:
            continue
        figures = ", ".join(
            f"{key} {value.value}"
            for key, value in evaluation.metadata.items()
            if isinstance(value.value, int | float) and not isinstance(value.value, bool)
        )
        summary = evaluation.metadata.get("summary")  # a check's words, where it has them
        if summary is not None and isinstance(summary.value, str):
            figures = f"{figures} ({summary.value})" if figures else summary.value
        asset = "/".join(evaluation.asset_key.path)
        lines.append(f"{asset} {evaluation.check_name}" + (f": {figures}" if figures else ""))
    return list(dict.fromkeys(lines))


RunResult = dg.ExecuteInProcessResult | dg.JobExecutionResult


INTERRUPTS = {"KeyboardInterrupt", "DagsterExecutionInterruptedError"}


def _stop_if_interrupted(result: RunResult) -> None:
    """Ctrl-C or SIGTERM ends the running run as failed inside Dagster, which then returns as
    from any failure; the backfill stops there instead of launching the next run."""
    if stop_requested() or any(
        error.cls_name in INTERRUPTS
        for event in result.all_events
        if event.is_failure
        for error in _error_chain(getattr(event.event_specific_data, "error", None))
    ):
        raise KeyboardInterrupt(f"run {result.run_id[:8]} was interrupted")


def _error_chain(error: SerializableErrorInfo | None) -> Iterator[SerializableErrorInfo]:
    while error is not None:
        yield error
        error = error.cause or error.context


def _failed_steps(result: RunResult) -> set[str]:
    return {event.step_key for event in result.get_step_failure_events() if event.step_key}


def _materialized(result: RunResult, key: dg.AssetKey) -> bool:
    return any(event.asset_key == key for event in result.get_asset_materialization_events())


def _failure_message(result: RunResult, steps: set[str]) -> str:
    """What failed in `steps` (and the run itself, when it failed before any step), from each
    failure's innermost error (ours, not Dagster's wrapper)."""
    messages: dict[str, str] = {}  # error -> where (the run's failure repeats its step's)
    for event in result.all_events:
        if event.is_failure and event.event_specific_data is not None:
            if event.step_key and event.step_key not in steps:
                continue
            error = getattr(event.event_specific_data, "error", None)
            while error is not None and error.cause is not None:
                error = error.cause
            if error is not None:
                messages.setdefault(_without_class(error), event.step_key or "")
    lines = [f"{step}: {message}" if step else message for message, step in messages.items()]
    return "\n".join(lines) or "the run failed (see the Dagster UI for its logs)"


def _without_class(error: SerializableErrorInfo) -> str:
    """The error's message without the `package.module.ClassName: ` Dagster puts first: the
    message is the product's own words, the class name is noise to an operator."""
    message = error.message.strip()
    head, separator, rest = message.partition(": ")
    if separator and error.cls_name and head.split(".")[-1] == error.cls_name:
        return rest.strip()
    return message


def dagster_instance(settings: Settings, fail_abandoned: bool = True) -> dg.DagsterInstance:
    """The instance at $DAGSTER_HOME (default: under AGENTSTATE_HOME), created on first use.

    Creation runs under an exclusive file lock: two first runs into a fresh DAGSTER_HOME would
    otherwise race creating SQLite's tables (`table secondary_indexes already exists`).
    """
    os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home))
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".agentstate-init.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ensure_instance_config(home)  # Dagster's defaults, without telemetry or its banner
        instance = dg.DagsterInstance.get()
        instance.get_runs(limit=1)  # creates the run, event-log and schedule storage now
        instance.get_asset_keys()
        if fail_abandoned:
            fail_abandoned_runs(instance)
    return instance


def fail_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark FAILED the runs this host's CLI created or started in a process that no longer
    exists, and return their ids: a backfill killed with SIGKILL leaves its run STARTED, or
    NOT_STARTED when killed between creating and starting it, forever otherwise."""
    unfinished = instance.get_runs(
        dg.RunsFilter(
            statuses=[
                dg.DagsterRunStatus.NOT_STARTED,
                dg.DagsterRunStatus.STARTING,
                dg.DagsterRunStatus.STARTED,
            ],
            tags={HOST_TAG: socket.gethostname()},
        )
    )
    failed = []
    for run in unfinished:
        pid = int(run.tags.get(PID_TAG, "0"))
        if pid and pid != os.getpid() and not _alive(pid):
            instance.report_run_failed(
                run, f"the agentstate process (pid {pid}) that ran it is gone; marked failed"
            )
            failed.append(run.run_id)
    return failed


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
    run_config: dict[str, object] = QUIET,
    only: list[dg.AssetKey] | None = None,
) -> RunResult:
    """Run a job (less the asset `without`, or `only` some of its assets) in this process, or
    through the deployment's executor (steps on workers)."""
    job_def = definitions.resolve_job_def(name)
    # an op job (collection) has no assets to select
    selection = [
        k
        for k in job_def.asset_layer.executable_asset_keys
        if k != without and (only is None or k in only)
    ] or None
    tags = {**(tags or {}), **origin_tags()}
    result: RunResult
    if executor_name() == "default":
        result = job_def.execute_in_process(
            instance=instance,
            tags=tags,
            run_config=run_config,
            raise_on_error=False,
            asset_selection=selection,
        )
    else:
        result = dg.execute_job(
            dg.build_reconstructable_job("assets.runner", "deployment_job", (name,)),
            instance,
            run_config=run_config,
            tags=tags,
            raise_on_error=False,
            asset_selection=selection,
        )
    adopt(instance, result.run_id, name)  # listed under its job in the UI, as if launched there
    return result


class _ProgressLines(logging.Handler):
    """Hands the assets' per-day progress lines to the caller's `progress` as they happen."""

    def __init__(self, progress: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        self.progress(f"  {record.getMessage()}")


@contextmanager
def _progress_lines(progress: Callable[[str], None]) -> Iterator[None]:
    handler = _ProgressLines(progress)
    PROGRESS.addHandler(handler)
    PROGRESS.setLevel(logging.INFO)
    try:
        yield
    finally:
        PROGRESS.removeHandler(handler)


def _stretches(days: list[date]) -> list[list[date]]:
    """Consecutive runs of days (a ranged run covers one)."""
    stretches: list[list[date]] = []
    for day in days:
        if stretches and stretches[-1][-1] + timedelta(days=1) == day:
            stretches[-1].append(day)
        else:
            stretches.append([day])
    return stretches


def _finish_landed_days(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    tenant: Tenant,
    tenant_id: str,
    settings: Settings,
    days: list[date],
    tags: dict[str, str],
    logs: dict[str, object],
    progress: Callable[[str], None],
) -> None:
    """After a tenant run failed on some days: the days whose raw records did land get their
    intervals (and summary) in a run of their own, so their marts follow; one bad day never
    withholds the good ones."""
    behind = [
        day
        for day in days
        if pipeline.intervals_behind(settings.lake, PartitionKey(tenant.vendor, tenant_id, day))
    ]
    for stretch in _stretches(behind):
        progress(
            f"{tenant.vendor}/{tenant_id}: {stretch[0]} .. {stretch[-1]} landed: their intervals "
            "and marts follow"
        )
        span = {
            **tags,
            "dagster/asset_partition_range_start": stretch[0].isoformat(),
            "dagster/asset_partition_range_end": stretch[-1].isoformat(),
        }
        with _progress_lines(progress):
            result = execute(
                definitions,
                tenant_job_name(tenant),
                instance,
                span,
                run_config=logs,
                only=tenant_asset_keys(tenant)[1:],
            )
        _stop_if_interrupted(result)


def run_backfill(
    config: Config,
    vendors: list[str],
    start: date,
    end: date,
    tenant: str | None = None,
    progress: Callable[[str], None] = print,
    source: str = "cli-backfill",
    verbose: bool = False,
) -> BackfillReport:
    """Materialize `[start, end)` for every tenant of `vendors` (or the one named), then
    rebuild the marts. Every missing or invalid variable of every tenant fails at once."""
    settings = config.settings
    days = backfill_days(start, end, settings.start_date, settings.now().date())
    logs = console("INFO") if verbose else QUIET
    tenants = config.select(vendors, tenant)
    resolved = resolve_all(tenants)
    from assets.definitions import build_definitions

    definitions = build_definitions(config)
    instance = dagster_instance(settings)
    report = BackfillReport(days=days)
    span = {
        "dagster/asset_partition_range_start": days[0].isoformat(),
        "dagster/asset_partition_range_end": days[-1].isoformat(),
        HOST_TAG: socket.gethostname(),
        PID_TAG: str(os.getpid()),
    }
    chosen_vendors = sorted({t.vendor for t in tenants})
    marts_tags = {VENDORS_TAG: ",".join(chosen_vendors)}
    # one tenant and no schedule to land first: the marts follow in the tenant's own run,
    # which saves launching a second run; otherwise one warehouse run after them all
    marts_in_run = len(tenants) == 1 and not schedules.pending(settings)
    for chosen, settings_of in zip(tenants, resolved, strict=True):
        label = f"{chosen.vendor}/{settings_of.tenant_id}"
        progress(f"{label}: {days[0]} .. {days[-1]} ({len(days)} day(s)) ...")
        tags = {
            **span,
            **tenant_tags(chosen, source),
            "agentstate/tenant_id": settings_of.tenant_id,
            **(marts_tags if marts_in_run else {}),
        }
        try:
            with _progress_lines(progress):
                result = execute(
                    definitions,
                    tenant_job_name(chosen),
                    instance,
                    tags,
                    None if marts_in_run else WAREHOUSE,
                    logs,
                )
        except (AgentStateError, dg.DagsterError) as exc:  # one tenant never stops the others
            report.failures[label] = f"{label}: {exc}"
            progress(f"{label}: FAILED before its run started")
            continue
        _stop_if_interrupted(result)
        report.run_ids[label] = result.run_id
        for line in _warnings(result):
            where = "warehouse" if line.startswith(f"{WAREHOUSE_STEP} ") else label
            report.warnings.append(f"{where}: {line}")
        failed = _failed_steps(result)
        if failed - {WAREHOUSE_STEP} or not (result.success or failed):
            report.failures[label] = _failure_message(result, failed - {WAREHOUSE_STEP})
            progress(f"{label}: FAILED (run {result.run_id[:8]})")
            _finish_landed_days(
                definitions,
                instance,
                chosen,
                settings_of.tenant_id,
                settings,
                days,
                tags,
                logs,
                progress,
            )
        else:
            progress(f"{label}: ok (run {result.run_id[:8]})")
        if marts_in_run and _materialized(result, WAREHOUSE):
            report.run_ids["warehouse"] = result.run_id
            progress(f"warehouse: ok ({settings.warehouse})")
            return report
        if WAREHOUSE_STEP in failed:
            report.failures["warehouse"] = _failure_message(result, {WAREHOUSE_STEP})
            progress("warehouse: FAILED")
            return report
    report.warnings += [
        f"schedules: {name} is not named after a calendar day (YYYY-MM-DD): ignored"
        for name in schedules.misnamed(settings.schedules)
    ]
    pending = schedules.pending(settings)
    if pending:  # landing them also brings the adherence marts of their days up to date
        progress(f"schedules: {len(pending)} new or changed file(s) in {settings.schedules} ...")
        result = execute(
            definitions, "schedule_files_job", instance, {**span, SOURCE_TAG: source}, None, logs
        )
        _stop_if_interrupted(result)
        report.run_ids["schedules"] = result.run_id
        report.warnings += [f"schedules: {line}" for line in _warnings(result)]
        if result.success:
            progress(f"schedules: ok (run {result.run_id[:8]})")
        else:
            report.failures["schedules"] = _failure_message(result, _failed_steps(result))
            progress(
                "schedules: FAILED (the other files landed; a failed file keeps its day as landed before)"
            )
    if not landed_partitions(settings.lake, days, chosen_vendors):
        progress("warehouse: nothing landed, marts left as they were")
        return report
    progress("warehouse: updating the marts for these days ...")
    result = execute(
        definitions,
        WAREHOUSE_JOB,
        instance,
        {**span, SOURCE_TAG: source, **marts_tags},
        run_config=logs,
    )
    _stop_if_interrupted(result)
    report.run_ids["warehouse"] = result.run_id
    report.warnings += [f"warehouse: {line}" for line in _warnings(result)]
    if result.success:
        progress(f"warehouse: ok ({settings.warehouse})")
    else:
        report.failures["warehouse"] = _failure_message(result, _failed_steps(result))
        progress("warehouse: FAILED")
    return report


def run_collect(
    config: Config,
    vendors: list[str],
    tenant: str | None = None,
    progress: Callable[[str], None] = print,
    verbose: bool = False,
) -> BackfillReport:
    """One poll of every tenant of `vendors` (or the one named): one `collect_<vendor>` run
    per vendor, each refreshing the marts of the days its poll touched."""
    settings = config.settings
    tenants = config.select(vendors, tenant)
    resolve_all(tenants)  # every missing or invalid variable, at once, before any request
    from assets.collect import collect_job_name
    from assets.definitions import build_definitions

    definitions = build_definitions(config)
    instance = dagster_instance(settings)
    report = BackfillReport(days=[])
    logs = console("INFO") if verbose else QUIET
    tags = {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid()), SOURCE_TAG: "cli-collect"}
    for vendor in sorted({t.vendor for t in tenants}):
        name = collect_job_name(vendor)
        run_config = {**logs, "ops": {f"poll_{vendor}": {"config": {"tenant": tenant or ""}}}}
        with _progress_lines(progress):
            result = execute(definitions, name, instance, tags, run_config=run_config)
        _stop_if_interrupted(result)
        report.run_ids[vendor] = result.run_id
        if result.success:
            progress(f"{vendor}: ok (run {result.run_id[:8]})")
        else:
            report.failures[vendor] = _failure_message(result, _failed_steps(result))
            progress(f"{vendor}: FAILED (run {result.run_id[:8]})")
    return report
