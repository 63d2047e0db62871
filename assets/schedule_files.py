"""Schedule files (docs/warehouse.md, adherence): a sensor that notices new and re-exported files in
AGENTSTATE_SCHEDULES_DIR, and the asset that validates and lands them, then updates the marts
of the days they schedule (under the warehouse's single-writer lock)."""

import hashlib
from collections import Counter
from typing import Any

import dagster as dg
import pandas as pd

from agentstate_etl import schedules
from agentstate_etl.marts.affected import update_schedule_days
from agentstate_etl.pipeline import DAY_ERRORS
from agentstate_etl.schedules import ScheduleLanding
from assets.resources import AgentStateSettings
from assets.vendor_assets import PartitionsFailed


def _per_file(landings: list[ScheduleLanding]) -> dg.MetadataValue:
    rows: list[dict[str, Any]] = [
        {
            "day": str(x.day),
            "file": x.source.name,
            "rows": x.rows,
            "valid": x.valid,
            "quarantined": x.quarantined,
            "agents": x.agents,
            "unknown_activities": ", ".join(sorted(x.unknown_activities)),
            "unmatched": ", ".join(f"{k} {v}" for k, v in sorted(x.unmatched.items())),
        }
        for x in landings
    ]
    return dg.MetadataValue.md(pd.DataFrame(rows).to_markdown(index=False) if rows else "(none)")


@dg.asset(
    description="The schedule files of AGENTSTATE_SCHEDULES_DIR (one per report day, CSV or "
    "Parquet), validated with Pandera: valid segments in lake/schedules, rejected rows with "
    "their reason in lake/schedule_quarantine. Lands new and re-exported files only; a "
    "re-export replaces its day.",
    kinds={"parquet", "pandera"},
    group_name="schedules",
    check_specs=[
        dg.AssetCheckSpec(
            "segments_valid",
            asset="schedule_files",
            description="Warns when rows of the files just landed were quarantined",
        ),
        dg.AssetCheckSpec(
            "segments_match_state_data",
            asset="schedule_files",
            description="Warns on segments of the files just landed that no state data can "
            "match (they show as 0 % adherence): of a tenant with nothing landed, or of an "
            "agent with no state record on the landed days they start on (unknown, or a no-show)",
        ),
        dg.AssetCheckSpec(
            "no_overlaps_across_files",
            asset="schedule_files",
            description="No landed segment overlaps a segment of the same agent from another "
            "day's file (each file is checked on its own when it lands)",
        ),
    ],
)
def schedule_files(
    context: dg.AssetExecutionContext, agentstate: AgentStateSettings
) -> dg.MaterializeResult:
    settings = agentstate.settings()
    landings: list[ScheduleLanding] = []
    failures: dict[str, str] = {}
    for name in schedules.misnamed(settings.schedules):
        context.log.warning(f"{name}: not named after a calendar day (YYYY-MM-DD): ignored")
    for schedule in schedules.pending(settings):
        try:
            landings.append(schedules.land_file(schedule, settings))
        except DAY_ERRORS as exc:
            failures[schedule.path.name] = f"{type(exc).__name__}: {exc}"
            context.log.error(f"schedule file {schedule.path.name} failed: {exc}")
    if landings:  # the adherence marts of those days follow now, whatever vendor runs do
        build = update_schedule_days(settings, sorted({d for x in landings for d in x.report_days}))
        context.log.info(f"warehouse: updated report days {build.report_days}")
    if failures:  # only now: a bad file never withholds the good files' marts
        landed = ", ".join(x.source.name for x in landings) or "none"
        lines = "\n".join(f"  {name}: {why}" for name, why in sorted(failures.items()))
        raise PartitionsFailed(
            f"schedule_files: {len(failures)} file(s) failed (landed, marts updated: "
            f"{landed}); fix or replace them and the sensor lands them\n{lines}"
        )
    overlaps = schedules.cross_file_overlaps(schedules.landed_segments(settings))
    quarantined = sum(x.quarantined for x in landings)
    reasons = sum((x.quarantine_reasons for x in landings), Counter())
    unknown = sum((x.unknown_activities for x in landings), Counter())
    unmatched = sum((x.unmatched for x in landings), Counter())
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(x.valid for x in landings),
            "files_landed": len(landings),
            "rows": sum(x.rows for x in landings),
            "agents": max((x.agents for x in landings), default=0),
            "quarantined": quarantined,
            "quarantine_reasons": dict(reasons),
            "unknown_activities": dict(unknown),
            "unmatched_segments": dict(unmatched),
            "per_file": _per_file(landings),
            "schedules_dir": dg.MetadataValue.path(str(settings.schedules)),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="segments_valid",
                passed=quarantined == 0,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"quarantined": quarantined, "reasons": dict(reasons)},
            ),
            dg.AssetCheckResult(
                check_name="segments_match_state_data",
                passed=not unmatched,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "unknown_tenant": unmatched["unknown_tenant"],
                    "agent_without_records": unmatched["agent_without_records"],
                },
            ),
            dg.AssetCheckResult(
                check_name="no_overlaps_across_files",
                passed=overlaps.empty,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "overlapping_segments": len(overlaps),
                    "sample": dg.MetadataValue.md(overlaps.head(10).to_markdown(index=False)),
                },
            ),
        ],
    )


schedule_files_job = dg.define_asset_job(
    "schedule_files_job",
    selection=dg.AssetSelection.assets(schedule_files),
    description="Validate and land new or re-exported schedule files.",
)


@dg.sensor(
    job=schedule_files_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests a schedule_files run when a schedule file is new or its content "
    "changed since it was landed (one request per distinct set of pending files).",
)
def schedule_files_sensor(
    context: dg.SensorEvaluationContext, agentstate: AgentStateSettings
) -> dg.SensorResult:
    pending = schedules.pending(agentstate.settings())
    if not pending:
        return dg.SensorResult(skip_reason="no new or changed schedule files")
    digest = hashlib.sha256("".join(f"{f.path.name}:{f.sha256}" for f in pending).encode())
    names = ", ".join(f.path.name for f in pending)
    context.log.info(f"pending schedule files: {names}")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"schedules-{digest.hexdigest()[:16]}")]
    )
