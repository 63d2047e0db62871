"""The warehouse (docs/warehouse.md), updated incrementally: only the days a run touched are
recomputed, and published in one DuckLake transaction.

An update reads, per vendor, the lake partitions of every tenant that the touched days need
(`days.plan_days`), computes each slice of days (`compute`), checks it, and hands its rows to
the run's transaction (`publish`), which commits once at the end. A full rebuild is the same
computation over every partition in the lake, in slices of `CHUNK_DAYS`, so it gives the
identical warehouse; an update of a warehouse whose tables are missing or from another version
is a full rebuild. One writer at a time (`warehouse.writer`).
"""

from __future__ import annotations

import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from agentstate_etl import lake
from agentstate_etl.lake import PartitionKey
from agentstate_etl.marts.build_settings import build_settings, changes, recorded_settings
from agentstate_etl.marts.checks import CHECKS, CheckOutcome, check_sql
from agentstate_etl.marts.compute import MEMORY_LIMIT, compute_slice
from agentstate_etl.marts.days import DayPlan, plan_days
from agentstate_etl.marts.publish import NeedsRebuild, Publication, published_tables
from agentstate_etl.marts.tables import PUBLISHED, derived_names
from agentstate_etl.settings import Settings, parse_zone
from agentstate_etl.warehouse import legacy
from agentstate_etl.warehouse.location import WarehouseLocation
from agentstate_etl.warehouse.session import open_session
from agentstate_etl.warehouse.writer import writer_lock

CHUNK_DAYS = 7  # UTC days per slice of a rebuild: memory stays bounded by a week of data


@dataclass
class WarehouseBuild:
    location: WarehouseLocation
    partitions: int
    rebuilt: bool = False
    report_days: list[date] = field(default_factory=list)
    rows_published: Counter[str] = field(default_factory=Counter)
    reconciliation_status: Counter[str] = field(default_factory=Counter)
    checks: dict[str, CheckOutcome] = field(
        default_factory=lambda: {c: CheckOutcome() for c in CHECKS}
    )
    warnings: list[str] = field(default_factory=list)
    settings_changed: list[str] = field(default_factory=list)  # forcing this rebuild


def _slices(settings: Settings, touched: list[PartitionKey]) -> list[tuple[str, DayPlan]]:
    zone = parse_zone(settings.report_tz, "AGENTSTATE_REPORT_TZ")
    days_by_vendor: dict[str, set[date]] = defaultdict(set)
    for key in touched:
        days_by_vendor[key.vendor].add(key.day)
    slices = [
        (vendor, plan)
        for vendor, days in sorted(days_by_vendor.items())
        for plan in plan_days(days, zone, CHUNK_DAYS)
    ]
    # with nothing to compute, one empty slice still creates every table
    return slices or [("", DayPlan((), (), ()))]


def _compute(
    settings: Settings,
    touched: list[PartitionKey],
    rebuild: bool,
    spill: Path,
    recorded: dict[str, str],
) -> tuple[WarehouseBuild, Publication]:
    """Every slice computed, checked and staged for the commit, which records `recorded`
    (the settings the numbers depend on)."""
    build = WarehouseBuild(settings.warehouse, len(touched), rebuilt=rebuild)
    staging = Path(tempfile.mkdtemp(prefix="staged-", dir=spill))
    publication = Publication(staging, rebuild, recorded)
    for vendor, plan in _slices(settings, touched):
        con = compute_slice(settings, spill, vendor, plan)
        try:
            staged = publication.stage(con, vendor, plan.utc_days, plan.report_days)
            build.rows_published.update(staged)
            # over the rows published (the neighbours' are gone)
            build.reconciliation_status.update(
                dict(
                    con.execute(
                        "SELECT status, count(*) FROM mart_reconciliation GROUP BY status"
                    ).fetchall()
                )
            )
            for check in CHECKS:
                build.checks[check].add(con.sql(check_sql(check)).to_arrow_table().to_pandas())
        finally:
            con.close()
        build.report_days.extend(plan.report_days)
    return build, publication


def _update(settings: Settings, partitions: list[PartitionKey] | None) -> WarehouseBuild:
    location = settings.warehouse
    settings.home.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix=".warehouse-spill-", dir=settings.home) as spill,
        closing(
            open_session(location, False, {"temp_directory": spill, "memory_limit": MEMORY_LIMIT})
        ) as con,
    ):
        incremental = partitions is not None and published_tables(con) == set(PUBLISHED)
        current = build_settings(settings)  # recorded with the commit
        changed = changes(recorded_settings(con), current) if incremental else []
        if incremental and not changed:
            build, publication = _compute(settings, partitions or [], False, Path(spill), current)
            try:
                publication.commit(con, f"update from {build.partitions} partition(s)")
                return build
            except NeedsRebuild:
                pass  # the tables are another version's: rebuilt below
        every = settings.lake.partitions(lake.INTERVALS)
        build, publication = _compute(settings, every, True, Path(spill), current)
        publication.commit(con, f"rebuild from {build.partitions} partition(s)")
    if changed:  # no table mixes the two
        build.settings_changed = changed
        build.warnings.append(
            "settings changed since the warehouse was built ("
            + "; ".join(changed)
            + "): every day was recomputed, so no mart mixes the two"
        )
    build.warnings.extend(legacy.migrate(location, derived_names()))
    return build


def update_warehouse(
    settings: Settings, partitions: Iterable[PartitionKey] | None = None
) -> WarehouseBuild:
    """Recompute the days `partitions` touch (every partition in the lake when None)."""
    touched = None if partitions is None else sorted(set(partitions))
    with writer_lock(settings.warehouse):
        return _update(settings, touched)


def build_warehouse(settings: Settings) -> WarehouseBuild:
    """A full rebuild from the lake (no vendor calls); equals the incrementally kept warehouse."""
    return update_warehouse(settings, None)
