"""Schedule files from the workforce-management tool (docs/warehouse.md, adherence): read, validate, land.

The tool drops one file per report day, `YYYY-MM-DD.csv` or `YYYY-MM-DD.parquet`, into
AGENTSTATE_SCHEDULES_DIR; re-exports replace a day's file. Each file is validated with Pandera
on its own: rows with a missing field, a timestamp without a zone, an end before the start, or
overlapping another segment of the same agent are quarantined with the reason, and a file
with more than AGENTSTATE_MAX_QUARANTINE_RATE of its rows quarantined fails and lands nothing.
A landed day is replaced whole, so a re-export never leaves rows of the old file behind.

Storage is four small functions at the end of this module (the inbox reader and the landed
files' writer and readers), so a different lake only has to replace those.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pandera.typing import Series

from agentstate_etl import lake
from agentstate_etl.activities import activity_mapping
from agentstate_etl.canonical import END_BEFORE_START, OVERLAPPING_SEGMENT, VENDORS
from agentstate_etl.errors import ValidationError
from agentstate_etl.settings import Settings
from agentstate_etl.timestamps import UTC_MS, parse_iso_utc
from agentstate_etl.validation import QUARANTINE_COLUMNS, Split, split_valid

SCHEDULE_FILE_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.(csv|parquet)$")
SCHEDULE_COLUMNS = ("vendor", "tenant_id", "agent_id", "activity", "start_ts", "end_ts")
AGENT_KEY = ["vendor", "tenant_id", "agent_id"]
# the file's start_ts/end_ts stay as given (quarantine shows them); parsed, they are these
PARSED_FROM = {"start_utc": "start_ts", "end_utc": "end_ts"}
# a time of day with an explicit zone: `Z` or an offset such as +01:00, +0100 or -05
EXPLICIT_ZONE = re.compile(
    r"[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE
)

SEGMENTS = lake.SCHEDULES
QUARANTINE = lake.SCHEDULE_QUARANTINE
SOURCE_SHA256 = "agentstate.source_sha256"
SOURCE_FILE = "agentstate.source_file"
# the UTC days a landed file's segments cover, first and last: segments belong to the days they
# cover, whatever the file's name, so the warehouse finds a day's segments in any file
COVERS_FROM = "agentstate.covers_from"
COVERS_TO = "agentstate.covers_to"
SEGMENT_SCHEMA = pa_arrow.schema(
    [
        ("vendor", pa_arrow.string()),
        ("tenant_id", pa_arrow.string()),
        ("agent_id", pa_arrow.string()),
        ("activity", pa_arrow.string()),
        ("start_ts", pa_arrow.timestamp("ms", tz="UTC")),
        ("end_ts", pa_arrow.timestamp("ms", tz="UTC")),
        ("schedule_day", pa_arrow.date32()),  # the file it came from
    ]
)
UTC_TIMESTAMP = pa_arrow.timestamp("ms", tz="UTC")
QUARANTINE_SCHEMA = pa_arrow.schema(
    [
        ("schedule_day", pa_arrow.date32()),
        ("source_file", pa_arrow.string()),
        ("reason", pa_arrow.string()),
        ("raw_record", pa_arrow.string()),
    ]
)


@dataclass(frozen=True)
class ScheduleFile:
    """One file of the inbox: the report day it schedules, where it is, what it contains."""

    day: date
    path: Path
    sha256: str


@dataclass(frozen=True)
class ScheduleLanding:
    day: date
    source: Path
    rows: int
    valid: int
    quarantined: int
    agents: int
    quarantine_reasons: Counter[str]
    unknown_activities: Counter[str]  # segments per activity the activity mapping lacks
    # report days whose marts the landing changes: the file's own, and each landed UTC day its
    # segments cover, now or before this landing replaced them (and the day before: a report
    # zone west of UTC starts there)
    report_days: tuple[date, ...] = ()
    # valid segments that count as 0 % adherence for want of state data: of a tenant with
    # nothing landed (`unknown_tenant`), or of an agent with no state record on the landed days
    # they start on (`agent_without_records`: an id the vendor does not know, or a no-show)
    unmatched: Counter[str] = field(default_factory=Counter)

    @property
    def quarantine_rate(self) -> float:
        return self.quarantined / self.rows if self.rows else 0.0


def overlapping(frame: pd.DataFrame, start: str = "start_utc", end: str = "end_utc") -> pd.Series:
    """True for every segment that overlaps another segment of the same agent.

    Segments `[s, e)` overlap when each starts before the other ends. Rows missing a key or a
    time, or ending before they start, are left to their own checks (False here).
    """
    usable = frame[AGENT_KEY].notna().all(axis=1) & (frame[end] >= frame[start])
    part = frame.loc[usable, [*AGENT_KEY, start, end]].sort_values([*AGENT_KEY, start, end])
    keys = [part[column] for column in AGENT_KEY]
    latest_end_before = part.groupby(keys, sort=False)[end].cummax().groupby(keys).shift(1)
    next_start = part.groupby(keys, sort=False)[start].shift(-1)
    hits = (part[start] < latest_end_before) | (part[end] > next_start)
    result = pd.Series(False, index=frame.index)
    result.loc[part.index] = hits.to_numpy(dtype=bool)
    return result


class ScheduleSegment(pa.DataFrameModel):
    """A row of a schedule file, its times parsed to UTC (`start_utc`, `end_utc`)."""

    vendor: Series[str] = pa.Field(nullable=False, isin=list(VENDORS))
    tenant_id: Series[str] = pa.Field(nullable=False)
    agent_id: Series[str] = pa.Field(nullable=False)
    activity: Series[str] = pa.Field(nullable=False)
    start_utc: Series[pd.DatetimeTZDtype("ms", "UTC")] = pa.Field(nullable=False)  # type: ignore[valid-type]
    end_utc: Series[pd.DatetimeTZDtype("ms", "UTC")] = pa.Field(nullable=False)  # type: ignore[valid-type]

    @pa.dataframe_check(name=END_BEFORE_START)
    def end_not_before_start(cls, df: pd.DataFrame) -> pd.Series:
        return df["end_utc"].isna() | df["start_utc"].isna() | (df["end_utc"] >= df["start_utc"])

    @pa.dataframe_check(name=OVERLAPPING_SEGMENT)
    def no_overlap(cls, df: pd.DataFrame) -> pd.Series:
        return ~overlapping(df)

    class Config:
        strict = False


def parse_schedule_time(values: pd.Series) -> pd.Series:
    """ISO-8601 text with `Z` or an offset (or zoned Parquet timestamps) → UTC ms.

    A time without a zone cannot be placed on the timeline, so it becomes NaT (quarantined
    as a bad timestamp) rather than being read as UTC.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").astype(UTC_MS)
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return pd.Series(pd.NaT, index=values.index, dtype=UTC_MS)
    text = values.astype("string").str.strip()
    zoned = text.str.contains(EXPLICIT_ZONE, na=False).astype(bool)
    return parse_iso_utc(text.where(zoned))


def _as_text(column: pd.Series) -> pd.Series:
    """Text as given (stripped); blanks are missing values."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        text = column.map(lambda t: None if pd.isna(t) else t.isoformat()).astype(object)
    else:
        text = column.astype("string").str.strip().astype(object)
    return text.where(text.notna() & (text != ""), None)


def validate(raw: pd.DataFrame, source: str, day: date) -> tuple[pd.DataFrame, Split]:
    """Parse and validate one file's rows; failing rows go to quarantine with every reason."""
    missing = [c for c in SCHEDULE_COLUMNS if c not in raw.columns]
    if missing:
        raise ValidationError(
            f"schedule file {source} lacks the columns {', '.join(missing)}; expected "
            f"{', '.join(SCHEDULE_COLUMNS)} (nothing was landed)"
        )
    frame = pd.DataFrame({c: _as_text(raw[c]) for c in SCHEDULE_COLUMNS}, index=raw.index)
    for parsed, given in PARSED_FROM.items():
        frame[parsed] = parse_schedule_time(raw[given])
    if frame.empty:  # a day with nothing scheduled: Pandera cannot type empty text columns
        no_rows = pd.DataFrame(columns=list(QUARANTINE_COLUMNS))
        return frame, Split(valid=frame, quarantine=no_rows, total=0, valid_mask=np.ones(0, bool))
    split = split_valid(
        frame,
        ScheduleSegment,
        vendor=f"schedule file {source}",
        tenant_id="",
        partition_date=day,
        raw_fields=list(SCHEDULE_COLUMNS),
        parsed_from=PARSED_FROM,
    )
    return frame, split


def reason_counts(reasons: pd.Series) -> Counter[str]:
    """Quarantined rows per reason code (`missing_required`, not `missing_required:agent_id`)."""
    return Counter(reason.split(":")[0] for joined in reasons for reason in str(joined).split("; "))


def land_file(schedule: ScheduleFile, settings: Settings) -> ScheduleLanding:
    """Validate one inbox file and replace its day's landed segments and quarantine.

    The file is read once: its checksum and its rows come from the same bytes, so a file
    rewritten after the inbox was scanned lands whole under its own checksum (and one caught
    half-written lands under a checksum the finished file will not match: it is pending again).
    """
    payload = schedule.path.read_bytes()
    schedule = replace(schedule, sha256=hashlib.sha256(payload).hexdigest())
    frame, split = validate(
        parse_schedule_file(payload, schedule.path.suffix), schedule.path.name, schedule.day
    )
    reasons = reason_counts(split.quarantine["reason"])
    if split.quarantine_rate > settings.max_quarantine_rate:
        sample = split.quarantine.head(3)[["reason", "raw_record"]].to_dict("records")
        raise ValidationError(
            f"schedule file {schedule.path.name}: {len(split.quarantine)} of {split.total} rows "
            f"failed validation ({split.quarantine_rate:.2%} > AGENTSTATE_MAX_QUARANTINE_RATE="
            f"{settings.max_quarantine_rate:.2%}); the landed schedule of {schedule.day} was "
            f"kept. Reasons: {dict(reasons)}; first rejects: {sample}"
        )
    valid = frame[split.valid_mask]
    segments = pd.DataFrame(
        {
            **{c: valid[c] for c in ("vendor", "tenant_id", "agent_id", "activity")},
            "start_ts": valid["start_utc"],
            "end_ts": valid["end_utc"],
            "schedule_day": schedule.day,
        }
    )
    quarantine = pd.DataFrame(
        {
            "schedule_day": schedule.day,
            "source_file": schedule.path.name,
            "reason": split.quarantine["reason"],
            "raw_record": split.quarantine["raw_record"],
        }
    )
    landed = pa_arrow.Table.from_pandas(segments, schema=SEGMENT_SCHEMA, preserve_index=False)
    before = landed_coverage(settings, schedule.day)
    write_landed(
        settings,
        schedule,
        landed,
        pa_arrow.Table.from_pandas(quarantine, schema=QUARANTINE_SCHEMA, preserve_index=False),
    )
    known = set(activity_mapping(settings.activity_mapping).column("activity").to_pylist())
    covered = [c for c in (before, coverage(landed)) if c is not None]
    landed_utc_days = {key.day for key in settings.lake.partitions(lake.INTERVALS)}
    touched = {d for d in landed_utc_days if any(first <= d <= last for first, last in covered)}
    return ScheduleLanding(
        day=schedule.day,
        source=schedule.path,
        rows=split.total,
        valid=len(valid),
        quarantined=len(split.quarantine),
        agents=len(valid[AGENT_KEY].drop_duplicates()),
        quarantine_reasons=reasons,
        unknown_activities=Counter(a for a in valid["activity"] if a not in known),
        report_days=tuple(
            sorted({schedule.day} | {d + timedelta(days=k) for d in touched for k in (-1, 0)})
        ),
        unmatched=unmatched_segments(settings, valid),
    )


def unmatched_segments(settings: Settings, segments: pd.DataFrame) -> Counter[str]:
    """Segments no state data can match (see `ScheduleLanding.unmatched`). An agent is judged
    only on the landed days its segments start on: a schedule ahead of the data is not."""
    found: Counter[str] = Counter()
    lk = settings.lake
    for (vendor, tenant), group in segments.groupby(["vendor", "tenant_id"], sort=True):
        if tenant not in lk.tenants(lake.INTERVALS, vendor):
            found["unknown_tenant"] += len(group)
            continue
        landed = {k.day for k in lk.partitions(lake.INTERVALS, vendor, tenant)}
        start_days = group["start_utc"].dt.date
        judged = set(start_days) & landed
        if not judged:
            continue
        days = sorted(judged | {d + timedelta(days=1) for d in judged} & landed)
        agents = {
            agent
            for day in days
            for agent in lk.read(
                lake.INTERVALS, lake.PartitionKey(vendor, tenant, day), columns=["agent_id"]
            )
            .column("agent_id")
            .to_pylist()
        }
        found["agent_without_records"] += int(
            (start_days.isin(judged) & ~group["agent_id"].isin(agents)).sum()
        )
    return found


def inbox(folder: Path) -> list[ScheduleFile]:
    """The schedule files in `folder`, one per day (the newest where a day has a CSV and a
    Parquet file); other names are not schedule files and are left alone."""
    newest: dict[date, Path] = {}
    for path in sorted(folder.glob("*")) if folder.is_dir() else []:
        match = SCHEDULE_FILE_NAME.match(path.name)
        if not match or not path.is_file():
            continue
        try:
            day = date.fromisoformat(match.group(1))
        except ValueError:  # 2026-02-30.csv: not a day (`misnamed` says so); the rest go on
            continue
        if day not in newest or path.stat().st_mtime_ns > newest[day].stat().st_mtime_ns:
            newest[day] = path
    return [
        ScheduleFile(day, path, hashlib.sha256(path.read_bytes()).hexdigest())
        for day, path in sorted(newest.items())
    ]


def misnamed(folder: Path) -> list[str]:
    """Files named like a schedule file whose name is not a calendar day (`2026-02-30.csv`)."""
    names = []
    for path in sorted(folder.glob("*")) if folder.is_dir() else []:
        match = SCHEDULE_FILE_NAME.match(path.name)
        if match:
            try:
                date.fromisoformat(match.group(1))
            except ValueError:
                names.append(path.name)
    return names


def pending(settings: Settings) -> list[ScheduleFile]:
    """Inbox files not landed yet, or whose content differs from what was landed for the day."""
    return [f for f in inbox(settings.schedules) if landed_sha256(settings, f.day) != f.sha256]


def cross_file_overlaps(segments: pa_arrow.Table) -> pd.DataFrame:
    """Landed segments that overlap a segment of the same agent from another day's file.

    Each file is checked on its own when it lands; a segment running past midnight can still
    overlap the next day's first segment, which only shows once both are landed.
    """
    frame = segments.to_pandas()
    frame = frame[overlapping(frame, "start_ts", "end_ts")]
    return frame.sort_values([*AGENT_KEY, "start_ts"]).reset_index(drop=True)


def coverage(segments: pa_arrow.Table) -> tuple[date, date] | None:
    """The first and last UTC day segments cover (None without segments)."""
    if segments.num_rows == 0:
        return None
    first, last = pc.min(segments["start_ts"]).as_py(), pc.max(segments["end_ts"]).as_py()
    if first is None or last is None:
        return None
    return first.date(), max(first, last - timedelta(milliseconds=1)).date()


def _window(days: Iterable[date]) -> tuple[datetime, datetime] | None:
    wanted = sorted(days)
    if not wanted:
        return None
    return (
        datetime.combine(wanted[0], time(), UTC),
        datetime.combine(wanted[-1] + timedelta(days=1), time(), UTC),
    )


def warehouse_inputs(
    settings: Settings, days: Iterable[date] | None = None
) -> dict[str, pa_arrow.Table]:
    """What the adherence SQL reads besides `agent_state_intervals`, by table name:
    `schedule_segments` (every landed segment that covers any of these days, from whichever
    file; one copy of a segment two files both hold) and `activity_mapping` (the rules in
    force).

    Segments are cut to a day more on each side of `days`: a segment to the year 2999 counts
    only its part within each computed day, and no calendar reaches further than the build."""
    days = None if days is None else sorted(days)
    segments = landed_segments(settings, days)
    window = None if days is None else _window(days)
    if window is not None and segments.num_rows:
        first = pa_arrow.scalar(window[0] - timedelta(days=1), UTC_TIMESTAMP)
        last = pa_arrow.scalar(window[1] + timedelta(days=1), UTC_TIMESTAMP)
        start = pc.if_else(pc.less(segments["start_ts"], first), first, segments["start_ts"])
        end = pc.if_else(pc.greater(segments["end_ts"], last), last, segments["end_ts"])
        segments = segments.set_column(
            segments.schema.get_field_index("start_ts"), "start_ts", start
        ).set_column(segments.schema.get_field_index("end_ts"), "end_ts", end)
    if segments.num_rows:  # a re-export into another day's file as well: counted once
        frame = segments.to_pandas()
        frame = frame.drop_duplicates(subset=[*AGENT_KEY, "activity", "start_ts", "end_ts"])
        segments = pa_arrow.Table.from_pandas(frame, schema=SEGMENT_SCHEMA, preserve_index=False)
    return {
        "schedule_segments": segments,
        "activity_mapping": activity_mapping(settings.activity_mapping),
    }


# --- storage: the only functions that read or write schedule files ---------------------------


def parse_schedule_file(payload: bytes, suffix: str) -> pd.DataFrame:
    """A schedule file's bytes as given: CSV cells as text, Parquet columns as typed."""
    if suffix == ".csv":
        return pd.read_csv(io.BytesIO(payload), dtype=str, keep_default_na=False)
    return pq.read_table(pa_arrow.BufferReader(payload)).to_pandas()


def schedule_key(day: date) -> lake.PartitionKey:
    return lake.PartitionKey(lake.SCHEDULE_SOURCE, "all", day)


def write_landed(
    settings: Settings, schedule: ScheduleFile, segments: pa_arrow.Table, quarantine: pa_arrow.Table
) -> None:
    """Replace the day's landed segments and quarantine together (all or nothing), with the
    days its segments cover; unless the file changed since this run read it and another run
    already landed it as it is now (an older read never replaces a newer one)."""
    landed = settings.lake.manifest(lake.SCHEDULES, schedule_key(schedule.day))
    theirs = landed.metadata.get(SOURCE_SHA256) if landed is not None else None
    if theirs not in (None, schedule.sha256) and _sha256_now(schedule) == theirs:
        return
    covered = coverage(segments)
    span = (
        {COVERS_FROM: covered[0].isoformat(), COVERS_TO: covered[1].isoformat()} if covered else {}
    )
    settings.lake.commit(
        lake.SCHEDULES,
        schedule_key(schedule.day),
        {SEGMENTS: segments, QUARANTINE: quarantine},
        {SOURCE_SHA256: schedule.sha256, SOURCE_FILE: schedule.path.name, **span},
        supersedes=lambda theirs: _read_later(schedule, theirs),
    )


def _read_later(schedule: ScheduleFile, theirs: lake.Manifest) -> bool:
    """Whether this landing of `schedule` should replace the one another run committed
    meanwhile: only when they differ and the file still holds what this run read (else the
    other run read the file as it is now, or the file changed again and is pending)."""
    theirs_sha = theirs.metadata.get(SOURCE_SHA256)
    return theirs_sha != schedule.sha256 and _sha256_now(schedule) == schedule.sha256


def _sha256_now(schedule: ScheduleFile) -> str | None:
    """The checksum of the file as it is now (None when it is gone)."""
    try:
        return hashlib.sha256(schedule.path.read_bytes()).hexdigest()
    except OSError:
        return None


def landed_coverage(settings: Settings, day: date) -> tuple[date, date] | None:
    """The UTC days the landed file of `day` covers (read from its segments when it was landed
    before the landing recorded them)."""
    manifest = settings.lake.manifest(lake.SCHEDULES, schedule_key(day))
    if manifest is None or SEGMENTS not in manifest.objects:
        return None
    if COVERS_FROM in manifest.metadata:
        return (
            date.fromisoformat(manifest.metadata[COVERS_FROM]),
            date.fromisoformat(manifest.metadata[COVERS_TO]),
        )
    if manifest.rows.get(SEGMENTS, 1) == 0:
        return None
    return coverage(settings.lake.read_object(manifest.objects[SEGMENTS], schema=SEGMENT_SCHEMA))


def landed_sha256(settings: Settings, day: date) -> str | None:
    manifest = settings.lake.manifest(lake.SCHEDULES, schedule_key(day))
    return manifest.metadata.get(SOURCE_SHA256) if manifest else None


def landed_days(settings: Settings) -> list[date]:
    return [key.day for key in settings.lake.partitions(lake.SCHEDULES)]


def landed_segments(settings: Settings, days: Iterable[date] | None = None) -> pa_arrow.Table:
    """The landed segments that cover any of these UTC days, from whichever file (every landed
    segment when None)."""
    window = None if days is None else _window(days)
    tables = []
    for day in landed_days(settings):
        covered = landed_coverage(settings, day)
        if covered is None:
            continue
        if window is not None and not (
            covered[0] <= window[1].date() and window[0].date() <= covered[1]
        ):
            continue
        table = settings.lake.read(SEGMENTS, schedule_key(day), schema=SEGMENT_SCHEMA)
        if window is not None:
            first, end = (pa_arrow.scalar(t, UTC_TIMESTAMP) for t in window)
            table = table.filter(
                pc.and_(pc.less(table["start_ts"], end), pc.greater(table["end_ts"], first))
            )
        tables.append(table)
    return pa_arrow.concat_tables(tables) if tables else SEGMENT_SCHEMA.empty_table()
