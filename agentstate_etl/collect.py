"""Continuous collection (docs/collection.md): poll each tenant from its high-water mark.

A poll asks the vendor for every record starting in `[high-water mark − overlap, settled)`
(`settled` = now less the vendor's publication delay and the clock allowance), in the windows
its capabilities allow, and lands them into the UTC-day partitions their start falls in. A
partition's raw landing after a poll is the previous landing's records from before the poll's
window, the poll's records, and the previous landing's records from after it (a backfill may
have read further): the vendor's latest word replaces what the overlap re-read, so an interval
served open and later closed, or a late record, counts once. The day's intervals are rebuilt
from that landing, as a backfill builds them.

The high-water mark is not stored beside the lake but read from it: the horizon
(`agentstate.extracted_at`) of the tenant's latest raw partition, capped at that day's end.
It therefore moves with the landing that justifies it, atomically, on a local disk and on S3
alike; a poll stopped between two days' landings leaves the mark at the last day it finished.
Each partition is committed only over the landing it merged with (compare-and-swap): of two
collectors of one tenant, the later committer re-reads and polls again instead of replacing
records it never saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import httpx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from agentstate_etl import lake
from agentstate_etl.errors import LakeConflictError
from agentstate_etl.intervals import day_bounds
from agentstate_etl.lake import COLLECT_OVERLAP, COVERED_FROM
from agentstate_etl.pipeline import (
    EXTRACTED_AT,
    QUARANTINE_SCHEMA,
    IntervalLanding,
    check_quarantine_rate,
    fetch_records,
    intervals_behind,
    land_intervals,
    quarantine_table,
    validated_raw,
)
from agentstate_etl.settings import Settings, VendorSettings
from agentstate_etl.validation import Split
from agentstate_etl.vendors.registry import describe

CONFLICT_RETRIES = 3  # another collector committed first: re-read and poll again


@dataclass(frozen=True)
class TenantPoll:
    """What one poll of one tenant did, for the CLI's line and the run's metadata."""

    vendor: str
    tenant: str
    window: tuple[datetime, datetime]  # asked of the vendor: [start, settled)
    high_water_mark: datetime  # after the poll
    now: datetime
    records: int = 0  # valid records fetched
    quarantined: int = 0
    fetch_stats: dict[str, int] = field(default_factory=dict)
    partitions: list[lake.PartitionKey] = field(default_factory=list)  # landed (raw, intervals)
    intervals: list[IntervalLanding] = field(default_factory=list, repr=False)
    gap: tuple[datetime, datetime] | None = None  # collected too late: the vendor had expired it

    @property
    def lag_s(self) -> float:
        """How far behind now the warehouse's data for this tenant ends."""
        return (self.now - self.high_water_mark).total_seconds()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _day_end(day: date) -> datetime:
    return day_bounds(day)[1]


def high_water_mark(lk: lake.Lake, vendor: str, tenant: str) -> datetime | None:
    """Until when the tenant's records are landed: its latest raw partition's horizon, capped
    at that day's end (a poll that read past midnight but stopped before landing the next day
    has not landed it). None when nothing is landed."""
    keys = lk.partitions(lake.RAW, vendor, tenant)
    for key in reversed(keys):
        manifest = lk.manifest(lake.RAW, key)
        if manifest is not None and EXTRACTED_AT in manifest.metadata:
            extracted = datetime.fromisoformat(manifest.metadata[EXTRACTED_AT])
            return min(extracted, _day_end(key.day))
    return None


def first_start(tenant: VendorSettings, settings: Settings, now: datetime) -> datetime:
    """Where a tenant never landed starts: all the vendor still keeps, or, for a vendor that
    keeps more, today with its lookback (so today's first partition is whole)."""
    oldest = tenant.limits.oldest_kept(now)
    if oldest is not None:
        return oldest + tenant.limits.clock_allowance
    today = day_bounds(now.date())[0]
    return today - timedelta(hours=settings.lookback_hours)


def _window_start(day: date, settings: Settings) -> datetime:
    return day_bounds(day)[0] - timedelta(hours=settings.lookback_hours)


def _days(start: datetime, end: datetime) -> list[date]:
    """The UTC days whose own time `[start, end)` touches."""
    first, last = start.date(), (end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _starts(table: pa.Table) -> pa.ChunkedArray:
    return table.column("start_ts")


def _between(table: pa.Table, low: datetime | None, high: datetime | None) -> pa.Table:
    """Rows whose start lies in `[low, high)` (an open side when None)."""
    mask = None
    if low is not None:
        mask = pc.greater_equal(_starts(table), pa.scalar(low, _starts(table).type))
    if high is not None:
        upper = pc.less(_starts(table), pa.scalar(high, _starts(table).type))
        mask = upper if mask is None else pc.and_(mask, upper)
    return table if mask is None else table.filter(mask)


@dataclass(frozen=True)
class _Previous:
    """What a partition held before this poll (or, new, what its predecessor lends it)."""

    manifest: lake.Manifest | None
    raw: pa.Table | None
    quarantine: pa.Table | None
    extracted_at: datetime | None
    covered_from: datetime | None


def _previous(lk: lake.Lake, key: lake.PartitionKey, settings: Settings) -> _Previous:
    manifest = lk.manifest(lake.RAW, key)
    if manifest is not None:
        meta = manifest.metadata
        covered = meta.get(COVERED_FROM)
        return _Previous(
            manifest,
            lk.read_object(manifest.objects[lake.RAW]),
            lk.read_object(manifest.objects[lake.QUARANTINE])
            if lake.QUARANTINE in manifest.objects
            else None,
            datetime.fromisoformat(meta[EXTRACTED_AT]),
            datetime.fromisoformat(covered) if covered else None,
        )
    # a new day: its lookback is the end of the previous day's window
    before = lk.manifest(lake.RAW, replace(key, day=key.day - timedelta(days=1)))
    if before is None:
        return _Previous(None, None, None, None, None)
    lent = _between(
        lk.read_object(before.objects[lake.RAW]), _window_start(key.day, settings), None
    )
    covered = before.metadata.get(COVERED_FROM)
    return _Previous(
        None,
        lent,
        None,
        datetime.fromisoformat(before.metadata[EXTRACTED_AT]),
        datetime.fromisoformat(covered)
        if covered
        else _window_start(key.day - timedelta(1), settings),
    )


def _merge_partition(
    key: lake.PartitionKey,
    fetched: pa.Table,
    quarantine: pa.Table | None,
    window: tuple[datetime, datetime],
    settings: Settings,
) -> None:
    """Land one day's share of a poll over what the partition held, compare-and-swap."""
    lk = settings.lake
    start, settled = window
    day_end = day_bounds(key.day)[1]
    own = _between(fetched, _window_start(key.day, settings), day_end)
    previous = _previous(lk, key, settings)
    pieces, horizon = [own], settled
    covered = previous.covered_from if previous.raw is not None else start
    if previous.raw is not None:
        pieces = [_between(previous.raw, None, start), own]
        if previous.extracted_at is not None and previous.extracted_at > settled:
            pieces.append(_between(previous.raw, settled, day_end))  # a backfill read further
            horizon = previous.extracted_at
        if previous.extracted_at is not None and previous.extracted_at < start:
            covered = start  # the vendor no longer had what lies between: a gap
    raw = pa.concat_tables([p.cast(own.schema) for p in pieces])
    # a malformed record the overlap re-read is one quarantine row, not one per poll
    quarantined = pa.concat_tables(
        [QUARANTINE_SCHEMA.empty_table()]
        + [q for q in (previous.quarantine, quarantine) if q is not None]
    )
    quarantined = quarantined.group_by(QUARANTINE_SCHEMA.names, use_threads=False).aggregate([])
    # the quarantine rate is the day's (a poll of a few records with one malformed is not 20%
    # bad), judged before anything lands
    check_quarantine_rate(
        Split(
            valid=pd.DataFrame(),
            quarantine=quarantined.to_pandas(),
            total=raw.num_rows + quarantined.num_rows,
            valid_mask=np.ones(0, dtype=bool),
        ),
        key.label,
        settings,
    )
    metadata = {
        EXTRACTED_AT: _iso(horizon),
        COLLECT_OVERLAP: f"{settings.collect_overlap_s:g}",
    }
    if covered is not None and covered > _window_start(key.day, settings):
        metadata[COVERED_FROM] = _iso(covered)
    lk.commit(
        lake.RAW,
        key,
        {lake.RAW: raw, lake.QUARANTINE: quarantined.select(QUARANTINE_SCHEMA.names)},
        metadata,
        replaces=previous.manifest,
    )


def poll_tenant(
    tenant: VendorSettings,
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> TenantPoll:
    """One poll of one tenant (see the module docstring); retried from a fresh read of the
    lake when another collector committed a partition first."""
    for attempt in range(CONFLICT_RETRIES + 1):
        try:
            return _poll_once(tenant, settings, transport)
        except LakeConflictError:
            if attempt == CONFLICT_RETRIES:
                raise
    raise AssertionError("unreachable")


def _poll_once(
    tenant: VendorSettings, settings: Settings, transport: httpx.AsyncBaseTransport | None
) -> TenantPoll:
    lk = settings.lake
    vendor, tenant_id = tenant.vendor, tenant.tenant_id
    now = settings.now()
    limits = tenant.limits
    settled = limits.settled_until(now)
    mark = high_water_mark(lk, vendor, tenant_id)
    repaired = repair_intervals(lk, tenant, settings, mark)
    start = (
        mark - timedelta(seconds=settings.collect_overlap_s)
        if mark is not None
        else first_start(tenant, settings, now)
    )
    gap = None
    oldest = limits.oldest_kept(now)
    if oldest is not None and start < oldest + limits.clock_allowance:
        if mark is not None and mark < oldest + limits.clock_allowance:
            gap = (mark, oldest + limits.clock_allowance)
        start = oldest + limits.clock_allowance
    if start >= settled:
        return TenantPoll(
            vendor, tenant_id, (start, settled), mark or start, now, intervals=repaired
        )
    days = _days(start, settled)
    last = lake.PartitionKey(vendor, tenant_id, days[-1])
    table, stats, roster = fetch_records(tenant, last, start, settled, settings, transport)
    raw, split = validated_raw(tenant, table, last, (start, settled), settings, check_rate=False)
    quarantine = quarantine_table(split)
    keys = [lake.PartitionKey(vendor, tenant_id, day) for day in days]
    for key in keys:  # day order: the mark never passes a day not landed
        _merge_partition(key, raw, quarantine if key == last else None, (start, settled), settings)
    landed = [land_intervals(key, settings, tenant.reason_names) for key in keys]
    return TenantPoll(
        vendor=vendor,
        tenant=tenant_id,
        window=(start, settled),
        high_water_mark=min(settled, _day_end(days[-1])),
        now=now,
        records=raw.num_rows,
        quarantined=len(split.quarantine),
        fetch_stats={**describe(stats), **roster},
        partitions=keys,
        intervals=[*repaired, *landed],
        gap=gap,
    )


def repair_intervals(
    lk: lake.Lake, tenant: VendorSettings, settings: Settings, mark: datetime | None
) -> list[IntervalLanding]:
    """Rebuild the intervals of the days around the mark whose raw landing is newer than the
    intervals built from it (a poll stopped between the two)."""
    if mark is None:
        return []
    keys = [
        lake.PartitionKey(tenant.vendor, tenant.tenant_id, mark.date() - timedelta(days=n))
        for n in (1, 0)
    ]
    return [
        land_intervals(key, settings, tenant.reason_names)
        for key in keys
        if intervals_behind(lk, key)
    ]
