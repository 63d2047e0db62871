"""One vendor partition, end to end, without Dagster: fetch → validate → land → intervals.

Each step reads what the previous one landed, so Dagster can run them as separate assets and
an operator can re-run any of them alone. Every step replaces its partition's files
atomically; a step that fails writes nothing.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, NamedTuple, TypeVar

import httpx
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from agentstate_etl import lake, roster
from agentstate_etl.canonical import UNKNOWN
from agentstate_etl.completeness import ChainGaps, chain_gaps
from agentstate_etl.errors import (
    AgentStateError,
    BeyondRetention,
    ConfigError,
    QuarantineRateExceeded,
)
from agentstate_etl.http import FetchStats, WindowMemo
from agentstate_etl.intervals import (
    NO_NAMES,
    day_bounds,
    fetch_window,
    find_overlaps,
    horizon_for,
    plain,
    vendor_intervals,
)
from agentstate_etl.lake_schemas import AGENT_SITES_SCHEMA, SUMMARY_REQUEST_SCHEMA, SUMMARY_SCHEMA
from agentstate_etl.settings import Settings, VendorSettings
from agentstate_etl.validation import (
    QUARANTINE_COLUMNS,
    WIRE_ERROR,
    Split,
    reject_sample,
    split_valid,
)
from agentstate_etl.vendors.registry import VendorSpec, describe, through_client, vendor_spec
from agentstate_etl.wire import empty_table

EXTRACTED_AT = lake.EXTRACTED_AT
# an intervals landing names the raw landing it was built from: one built from an older raw
# landing (a run stopped between the two) is rebuilt by the next collection
BUILT_FROM = "agentstate.built_from_raw"
KEPT_FROM_LAKE = "kept from the lake, beyond the vendor's retention"
LANDED_BY_ANOTHER_RUN = (
    "another run landed this partition at the same time, as fresh: its landing is kept"
)
T = TypeVar("T")
F = TypeVar("F")
# What one partition's failure may raise; `each_day` hands these back instead of stopping.
DAY_ERRORS = (AgentStateError, OSError, ValueError)
# Interval building is Arrow/numpy work that releases the GIL: days run side by side in threads.
INTERVAL_WORKERS = min(4, os.cpu_count() or 1)
QUARANTINE_SCHEMA = pa.schema(
    [
        ("vendor", pa.string()),
        ("tenant_id", pa.string()),
        ("partition_date", pa.date32()),
        ("reason", pa.string()),
        ("raw_record", pa.string()),
    ]
)
assert tuple(QUARANTINE_SCHEMA.names) == QUARANTINE_COLUMNS


@dataclass(frozen=True)
class RawLanding:
    vendor: str
    day: date
    fetched: int
    valid: int
    quarantined: int
    quarantine_rate: float
    quarantine_reasons: dict[str, int]
    fetch_stats: dict[str, int]
    extracted_at: datetime
    key: lake.PartitionKey
    cross_check: dict[str, object] = field(default_factory=dict)
    chain_gaps: ChainGaps | None = None  # None: the vendor's records name no successors
    note: str = ""  # what a person should know of this landing beyond its figures


@dataclass(frozen=True)
class IntervalLanding:
    key: lake.PartitionKey
    rows: int
    seconds_by_state: dict[str, float]
    unknown_vendor_states: dict[str, int]
    carry_in_rows: int
    open_rows: int
    agents: int
    overlaps: pd.DataFrame = field(repr=False)  # rows overlapping their predecessor (none)
    preview: pd.DataFrame = field(repr=False)


@dataclass(frozen=True)
class SummaryLanding:
    key: lake.PartitionKey
    agents_asked: int
    agents_without_summary: int
    intervals: int
    quarantined: int
    fetch_stats: dict[str, int]


def _reason_counts(split: Split) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for reasons in split.quarantine["reason"]:
        for reason in str(reasons).split("; "):
            counts[reason.split(":")[0]] += 1
    return dict(counts)


def check_quarantine_rate(split: Split, what: str, settings: Settings) -> None:
    if split.quarantine_rate <= settings.max_quarantine_rate:
        return
    sample = reject_sample(split.quarantine)
    raise QuarantineRateExceeded(
        f"{what}: {len(split.quarantine)} of {split.total} records failed validation "
        f"({split.quarantine_rate:.2%} > AGENTSTATE_MAX_QUARANTINE_RATE="
        f"{settings.max_quarantine_rate:.2%}); nothing was landed. "
        f"Reasons: {_reason_counts(split)}; first rejects: {sample}",
        split.quarantine_rate,
    )


def _validate(
    spec: VendorSpec,
    table: pa.Table,
    tenant: VendorSettings,
    day: date,
    window: tuple[datetime, datetime] | None = None,
) -> tuple[pd.DataFrame, Split]:
    """Only the columns the Pandera model checks go to pandas; the rest stay Arrow."""
    checked = [c for c in spec.model.to_schema().columns if c not in spec.parsed_from]
    columns = dict.fromkeys([*checked, *spec.parsed_from.values(), WIRE_ERROR])
    frame = spec.parse(table.select(list(columns)).to_pandas(), tenant.zone)
    return frame, split_valid(
        frame,
        spec.model,
        vendor=spec.name,
        tenant_id=tenant.tenant_id,
        partition_date=day,
        raw_fields=list(spec.raw_fields),
        parsed_from=spec.parsed_from,
        raw=table,
        window=window,
    )


@dataclass(frozen=True)
class FetchedRaw:
    """A partition's records as fetched, before validation: what `fetch_raw` hands `finish_raw`."""

    tenant: VendorSettings
    key: lake.PartitionKey
    table: pa.Table = field(repr=False)
    stats: FetchStats
    window: tuple[datetime, datetime]
    extracted_at: datetime  # the horizon: everything before it was settled when fetched
    kept: bool = False  # beyond the vendor's retention: the lake's landing stands
    roster: dict[str, int] = field(default_factory=dict)  # a per-agent vendor's roster


class Reach(NamedTuple):
    """What of a partition its vendor may be asked at a given moment."""

    start: datetime  # the day's lookback, cut where the vendor's retention begins
    settled: datetime  # the fetch's end and the partition's horizon: day end or settled data
    kept: bool = False  # the day began before the retention and the lake holds it: ask nothing


def vendor_reach(
    tenant: VendorSettings, key: lake.PartitionKey, settings: Settings, now: datetime
) -> Reach:
    """The part of partition `key`'s window (day plus lookback) the vendor can be asked for at
    `now`, from the tenant's capabilities alone (docs/vendors.md, CxEngage): nothing older than its
    retention (plus the clock allowance: our clock may run behind the vendor's), nothing in the
    last `delay + clock allowance`, which is not settled yet. A day that began before the
    retention is kept from the lake when the lake holds it; else BeyondRetention, naming the
    retention and its variable, before anything is asked."""
    limits = tenant.limits
    start, end = fetch_window(key.day, settings.lookback_hours)
    day_start = day_bounds(key.day)[0]
    if now <= day_start:
        raise ConfigError(
            f"partition {key.label} has not started yet (now is {now:%Y-%m-%dT%H:%M:%SZ})"
        )
    oldest = limits.oldest_kept(now)
    if oldest is not None:
        oldest += limits.clock_allowance
        if day_start < oldest:
            if settings.lake.manifest(lake.RAW, key) is not None:
                return Reach(start, start, kept=True)
            raise BeyondRetention(
                f"{key.label}: beyond the vendor's retention of {_days(limits.retention)} "
                f"({_retention_variable(tenant)}it serves nothing before "
                f"{oldest:%Y-%m-%dT%H:%M:%SZ}) and not in the lake: nothing can land it, and "
                f"nothing was asked for (a tenant whose contract keeps more sets its retention)"
            )
        start = max(start, oldest)
    return Reach(start, min(end, limits.settled_until(now)))


def fetch_raw(
    tenant: VendorSettings,
    day: date,
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    memo: WindowMemo | None = None,
) -> FetchedRaw:
    """Every record of the partition's window (day plus lookback) that the vendor has settled;
    windows `memo` holds from the run's previous day are not asked for again.

    The vendor's capabilities bound the window: nothing older than its retention is asked for
    (a day that began before it is kept from the lake, or fails naming the retention), and the
    last `delay + clock allowance` before now is not settled yet, so the partition's horizon
    stops there (docs/vendors.md, CxEngage; docs/DESIGN.md, occurrence semantics)."""
    spec = vendor_spec(tenant.vendor)
    key = lake.PartitionKey(tenant.vendor, tenant.tenant_id, day)
    now = settings.now()
    start, settled, kept = vendor_reach(tenant, key, settings, now)
    if kept:
        empty = empty_table(spec.raw_fields)
        return FetchedRaw(tenant, key, empty, FetchStats(), (start, start), now, kept=True)
    table, stats, asked = fetch_records(tenant, key, start, settled, settings, transport, memo)
    return FetchedRaw(tenant, key, table, stats, (start, settled), settled, roster=asked)


def fetch_records(
    tenant: VendorSettings,
    key: lake.PartitionKey,
    start: datetime,
    end: datetime,
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None = None,
    memo: WindowMemo | None = None,
) -> tuple[pa.Table, FetchStats, dict[str, int]]:
    """The tenant's raw records starting in `[start, end)`, the fetch counters, and (for a
    per-agent vendor) how many agents each roster source named; `key` names the partition the
    fetch is for in errors and is where the roster looks for agents already landed."""
    spec = vendor_spec(tenant.vendor)
    asked: list[roster.Roster] = []

    async def read(client: Any) -> pa.Table:
        if not tenant.limits.per_agent:
            return await spec.read(client, start, end, spec.raw_fields)
        agents = await roster.gather(
            spec.roster, client, settings.lake, key, spec.events.agent_id, tenant.roster_file
        )
        asked.append(agents)
        return await spec.read(client, start, end, spec.raw_fields, agents.agents)

    options = replace(settings.client_options(key.label, transport), window_memo=memo)
    table, stats = asyncio.run(through_client(tenant, read, options))
    return table, stats, asked[0].stats() if asked else {}


def _days(span: Any) -> str:
    days = span.total_seconds() / 86_400
    return f"{days:g} day{'s' if days != 1 else ''}"


def _retention_variable(tenant: VendorSettings) -> str:
    variable = type(tenant).variables().get("retention_days")
    return f"{variable.env} or `retention_days` in the tenants file; " if variable else ""


def finish_raw(fetched: FetchedRaw, settings: Settings) -> RawLanding:
    """Validate the fetched records, land raw and quarantine."""
    if fetched.kept:
        return _kept_landing(fetched.key, settings)
    spec = vendor_spec(fetched.key.vendor)
    key = fetched.key
    raw, split = validated_raw(fetched.tenant, fetched.table, key, fetched.window, settings)
    cross_check = {
        **(spec.cross_check(raw) if spec.cross_check else {}),
        **_lookback(fetched, settings),
    }
    gaps = (
        chain_gaps(raw, spec.chains, day_bounds(key.day)[0], fetched.window[1])
        if spec.chains
        else None
    )
    metadata = {EXTRACTED_AT: fetched.extracted_at.astimezone(UTC).isoformat()}
    committed = settings.lake.commit(
        lake.RAW,
        key,
        {lake.RAW: raw, lake.QUARANTINE: quarantine_table(split)},
        metadata,
        supersedes=lake.fresher_raw(metadata),
    )
    del raw
    pa.default_memory_pool().release_unused()  # the next partition starts from a small heap
    return RawLanding(
        vendor=key.vendor,
        day=key.day,
        fetched=split.total,
        valid=len(split.valid),
        quarantined=len(split.quarantine),
        quarantine_rate=split.quarantine_rate,
        quarantine_reasons=_reason_counts(split),
        fetch_stats={**describe(fetched.stats), **fetched.roster},
        extracted_at=fetched.extracted_at,
        key=key,
        cross_check=cross_check,
        chain_gaps=gaps,
        note=LANDED_BY_ANOTHER_RUN if committed.concurrent else "",
    )


def validated_raw(
    tenant: VendorSettings,
    table: pa.Table,
    key: lake.PartitionKey,
    window: tuple[datetime, datetime],
    settings: Settings,
    *,
    check_rate: bool = True,
) -> tuple[pa.Table, Split]:
    """The valid records of `table` (fetched for `window`) as they land: the wire columns plus
    the parsed UTC timestamps, Arrow throughout; raises when too many failed validation
    (unless `check_rate` is off: a collector judges the rate over the day, not one poll)."""
    spec = vendor_spec(tenant.vendor)
    frame, split = _validate(spec, table, tenant, key.day, window)
    if check_rate:
        check_quarantine_rate(split, key.label, settings)
    parsed = [pa.Array.from_pandas(frame[column]) for column in spec.parsed_from]
    raw = pa.Table.from_arrays(
        [*table.select(list(spec.raw_fields)).columns, *parsed], schema=spec.raw_schema()
    )
    if not split.valid_mask.all():
        raw = raw.filter(pa.array(split.valid_mask))
    return raw, split


def quarantine_table(split: Split) -> pa.Table:
    return pa.Table.from_pandas(split.quarantine, schema=QUARANTINE_SCHEMA, preserve_index=False)


def _lookback(fetched: FetchedRaw, settings: Settings) -> dict[str, str]:
    """Where the fetch began when the vendor's retention cut the lookback short: states that
    began before it cannot be carried in (docs/vendors.md, CxEngage)."""
    asked_from = fetch_window(fetched.key.day, settings.lookback_hours)[0]
    cut = fetched.window[0] > asked_from
    return {"lookback_cut_at_retention": fetched.window[0].isoformat()} if cut else {}


def _kept_landing(key: lake.PartitionKey, settings: Settings) -> RawLanding:
    """The landing already in the lake for a day the vendor no longer keeps."""
    manifest = settings.lake.committed(lake.RAW, key)
    valid, quarantined = manifest.rows[lake.RAW], manifest.rows.get(lake.QUARANTINE, 0)
    return RawLanding(
        vendor=key.vendor,
        day=key.day,
        fetched=0,
        valid=valid,
        quarantined=quarantined,
        quarantine_rate=quarantined / (valid + quarantined) if valid + quarantined else 0.0,
        quarantine_reasons={},
        fetch_stats={"kept_from_lake": 1},
        note=KEPT_FROM_LAKE,
        extracted_at=datetime.fromisoformat(manifest.metadata[EXTRACTED_AT]),
        key=key,
    )


def land_raw(
    tenant: VendorSettings,
    day: date,
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> RawLanding:
    """Fetch the partition's window (day plus lookback), validate, land raw and quarantine."""
    return finish_raw(fetch_raw(tenant, day, settings, transport=transport), settings)


def land_raw_days(
    tenant: VendorSettings, days: Iterable[date], settings: Settings
) -> Iterator[tuple[date, RawLanding | Exception]]:
    """`land_raw` for each day, in day order, the next day fetched while this one is validated
    and written: one fetch at a time, so the vendor sees the concurrency of one partition. A
    day's lookback windows that the day before read (its last hours) are not asked again."""
    memo = WindowMemo()
    yield from each_day_overlapped(
        lambda day: fetch_raw(tenant, day, settings, memo=memo),
        lambda fetched: finish_raw(fetched, settings),
        days,
    )


def intervals_behind(lk: lake.Lake, key: lake.PartitionKey) -> bool:
    """Whether a partition's raw landing is newer than the intervals built from it (a run that
    stopped, or failed on another day, between the two steps)."""
    raw = lk.manifest(lake.RAW, key)
    if raw is None:
        return False
    built = lk.manifest(lake.INTERVALS, key)
    return built is None or built.metadata.get(BUILT_FROM) != raw.version


def _built_from_newer(
    lk: lake.Lake, key: lake.PartitionKey, raw: lake.Manifest, theirs: lake.Manifest
) -> bool:
    """Whether intervals built from `raw` should replace those another run committed meanwhile:
    only when `raw` is the landing in the lake and theirs were built from another (built from
    the same landing, the two are equal)."""
    current = lk.manifest(lake.RAW, key)
    return (
        current is not None
        and current.version == raw.version
        and theirs.metadata.get(BUILT_FROM) != raw.version
    )


def land_intervals(
    key: lake.PartitionKey, settings: Settings, reason_names: Mapping[str, str] = NO_NAMES
) -> IntervalLanding:
    """Canonical occurrences of the partition, from its landed raw records and the tenant's
    reason names (`VendorSettings.reason_names`: its codes' names, if its vendor sends codes).

    The manifest is read once: its extraction time and its data object belong to the same
    landing even if another run re-lands the partition meanwhile."""
    raw = settings.lake.committed(lake.RAW, key)
    extracted_at = datetime.fromisoformat(raw.metadata[EXTRACTED_AT])
    intervals = vendor_intervals(
        vendor_spec(key.vendor).events,
        lambda **options: settings.lake.read_object(raw.objects[lake.RAW], **options),
        key.tenant,
        key.day,
        horizon_for(key.day, extracted_at),
        reason_names,
    )
    settings.lake.commit(
        lake.INTERVALS,
        key,
        {lake.INTERVALS: intervals},
        {BUILT_FROM: raw.version or ""},
        supersedes=lambda theirs: _built_from_newer(settings.lake, key, raw, theirs),
    )
    by_state = intervals.group_by("state").aggregate([("duration_s", "sum")])
    unknown = intervals.filter(pc.equal(intervals.column("state"), UNKNOWN))
    unknown_counts = unknown.group_by("vendor_state").aggregate([("vendor_state", "count")])
    return IntervalLanding(
        key=key,
        rows=intervals.num_rows,
        seconds_by_state={
            str(k): round(float(v), 3)
            for k, v in zip(
                by_state.column("state").to_pylist(),
                by_state.column("duration_s_sum").to_pylist(),
                strict=True,
            )
        },
        unknown_vendor_states={
            str(k): int(v)
            for k, v in zip(
                unknown_counts.column("vendor_state").to_pylist(),
                unknown_counts.column("vendor_state_count").to_pylist(),
                strict=True,
            )
        },
        carry_in_rows=int(pc.sum(intervals.column("is_carry_in")).as_py() or 0),
        open_rows=int(pc.sum(intervals.column("is_open")).as_py() or 0),
        agents=len(pc.unique(intervals.column("agent_id"))),
        overlaps=plain(find_overlaps(intervals)).to_pandas(),
        preview=plain(intervals.slice(0, 10)).to_pandas(),
    )


def land_summary(
    tenant: VendorSettings,
    day: date,
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> SummaryLanding:
    """Ask the vendor's summary report for every agent seen in the partition, for its UTC day."""
    report = vendor_spec(tenant.vendor).summary
    if report is None:
        raise ConfigError(f"{tenant.vendor} has no summary report to reconcile against")
    vendor, tenant_id = tenant.vendor, tenant.tenant_id
    key = lake.PartitionKey(vendor, tenant_id, day)
    intervals = settings.lake.read(lake.INTERVALS, key, columns=["agent_id"])
    agents = sorted(set(intervals.column("agent_id").to_pylist()))
    start, end = day_bounds(day)
    snapshot: list[Any] = []

    async def read(client: Any) -> pa.Table:
        if report.snapshot is not None:
            snapshot.extend(await report.snapshot(client))
        return await report.read(client, agents, start, end, report.fields)

    table, fetched = asyncio.run(
        through_client(tenant, read, settings.client_options(key.label, transport))
    )
    stats = describe(fetched)
    frame = report.parse(table.to_pandas())
    split = split_valid(
        frame,
        report.model,
        vendor=vendor,
        tenant_id=tenant_id,
        partition_date=day,
        raw_fields=list(report.fields),
        parsed_from=report.parsed_from,
    )
    check_quarantine_rate(split, f"{key.label} summary", settings)
    summary = report.to_canonical(split.valid, tenant_id)
    summary.insert(3, "partition_date", day)
    per_agent = summary.groupby("agent_id").size()
    requests = pd.DataFrame(
        {
            "vendor": vendor,
            "tenant_id": tenant_id,
            "agent_id": agents,
            "partition_date": day,
            "intervals": [int(per_agent.get(a, 0)) for a in agents],
        }
    )
    settings.lake.commit(
        lake.SUMMARY,
        key,
        {
            lake.SUMMARY: pa.Table.from_pandas(
                summary, schema=SUMMARY_SCHEMA, preserve_index=False
            ),
            lake.SUMMARY_REQUESTS: pa.Table.from_pandas(
                requests, schema=SUMMARY_REQUEST_SCHEMA, preserve_index=False
            ),
            lake.SUMMARY_QUARANTINE: quarantine_table(split),
            lake.AGENT_SITES: agent_sites(snapshot, vendor, tenant_id, day),
        },
    )
    return SummaryLanding(
        agents_asked=len(agents),
        agents_without_summary=int((requests["intervals"] == 0).sum()),
        intervals=len(summary),
        quarantined=len(split.quarantine),
        fetch_stats=stats,
        key=key,
    )


def agent_sites(snapshot: list[Any], vendor: str, tenant_id: str, day: date) -> pa.Table:
    """Each agent's site as the snapshot gives it (`dim_agents.site_id`); entries without an
    agent or a site say nothing about one and are left out."""
    sites = {
        str(entry["agentId"]): str(entry["siteId"])
        for entry in snapshot
        if isinstance(entry, dict)
        and entry.get("agentId") is not None
        and entry.get("siteId") is not None
    }
    return pa.Table.from_pydict(
        {
            "vendor": [vendor] * len(sites),
            "tenant_id": [tenant_id] * len(sites),
            "agent_id": list(sites),
            "partition_date": [day] * len(sites),
            "site_id": list(sites.values()),
        },
        schema=AGENT_SITES_SCHEMA,
    )


def each_day(
    step: Callable[[date], T], days: Iterable[date], workers: int = 1
) -> Iterator[tuple[date, T | Exception]]:
    """(day, what `step` returned or the error it raised) for each day, in day order.

    `workers` > 1 runs days in threads; only steps whose heavy work releases the GIL gain.
    """

    def attempt(day: date) -> tuple[date, T | Exception]:
        try:
            return day, step(day)
        except DAY_ERRORS as exc:
            return day, exc

    if workers <= 1:
        yield from map(attempt, days)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="agentstate-day") as pool:
        yield from pool.map(attempt, days)


def each_day_overlapped(
    fetch: Callable[[date], F], finish: Callable[[F], T], days: Iterable[date]
) -> Iterator[tuple[date, T | Exception]]:
    """Like `each_day` for a step in two halves: day n+1's `fetch` (waiting on a vendor) runs in
    a thread while day n's `finish` (CPU work) runs here. Never two fetches at once."""

    def attempt(day: date) -> F | Exception:
        try:
            return fetch(day)
        except DAY_ERRORS as exc:
            return exc

    days = list(days)
    with ThreadPoolExecutor(1, thread_name_prefix="agentstate-fetch") as pool:
        upcoming = [pool.submit(attempt, day) for day in days[:1]]
        for number, day in enumerate(days):
            fetched = upcoming.pop().result()
            if number + 1 < len(days):
                upcoming.append(pool.submit(attempt, days[number + 1]))
            if isinstance(fetched, Exception):
                yield day, fetched
                continue
            try:
                outcome: T | Exception = finish(fetched)
            except DAY_ERRORS as exc:
                outcome = exc
            del fetched
            yield day, outcome


def run_partition(
    tenant: VendorSettings, day: date, settings: Settings
) -> tuple[RawLanding, IntervalLanding, SummaryLanding | None]:
    """Every landing step of one tenant's partition, in order (the engine without Dagster)."""
    raw = land_raw(tenant, day, settings)
    intervals = land_intervals(raw.key, settings, tenant.reason_names)
    has_summary = vendor_spec(tenant.vendor).has_summary
    summary = land_summary(tenant, day, settings) if has_summary else None
    return raw, intervals, summary
