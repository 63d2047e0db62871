"""The schedule the simulated agents were given, and the files a WFM tool would export of it.

The schedule is derived from the timelines (which stay exactly as they are, so every other
truth is unchanged): each shift is scheduled from its login to its logout in quarter-hours,
with its breaks, lunch and meetings where they happened, rounded to five minutes and at their
planned lengths. Agents then follow it imperfectly, some of it on purpose:

- `late_login`: the shift was scheduled to begin a quarter-hour before the agent logged in;
- `early_logout`: scheduled to end half an hour after the agent logged out;
- `late_from_lunch`: lunch is scheduled for 30 minutes and lasts 30 to 60;
- `wrong_reason`: a meeting scheduled as training (or the other way round);
- `unknown_activity`: half an hour of `Coaching`, which the activity mapping does not know;
- `no_show`: a shift scheduled on a day the agent never logged in; `day_off`: an `Off` day.

Segments are in UTC milliseconds; files are split by the report day of each segment's start.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from agentstate_etl.canonical import VENDORS
from agentstate_etl.simulator.config import TENANT_IDS
from agentstate_etl.simulator.world import DAY_MS, EPOCH, HOUR_MS, Timeline, World, iso_ms

MINUTE_MS = 60_000
QUARTER_MS = 15 * MINUTE_MS
SHIFT_MS = 8 * HOUR_MS  # a shift scheduled where the timeline has none (no-show, day off)
BLOCK_ACTIVITY = {"break": "Break", "lunch": "Lunch", "meeting": "Meeting", "training": "Training"}
PLANNED_LENGTH_MS = {"break": 15 * MINUTE_MS, "lunch": 30 * MINUTE_MS}
SWAPPED = {"Meeting": "Training", "Training": "Meeting"}
UNKNOWN_ACTIVITY = "Coaching"
SEGMENT_COLUMNS = ["vendor", "tenant_id", "agent_id", "activity", "start_ms", "end_ms", "deviation"]
FILE_COLUMNS = ["vendor", "tenant_id", "agent_id", "activity", "start_ts", "end_ts"]
JUNK_MIN_ROWS = 200  # a file this long absorbs a malformed row within the 1% quarantine rate


def _round(ms: int, step: int) -> int:
    return (ms + step // 2) // step * step


def _shifts(timeline: Timeline, now_ms: int) -> list[tuple[int, int, list[tuple[str, int, int]]]]:
    """(login, logout or None, [(kind, start, end)] of its breaks, lunch and meetings)."""
    ends = [*timeline.starts[1:], now_ms]
    shifts: list[tuple[int, int, list[tuple[str, int, int]]]] = []
    for start, end, kind in zip(timeline.starts, ends, timeline.kinds, strict=True):
        if kind == "login":
            shifts.append((start, -1, []))
        elif kind == "logout" and shifts:
            shifts[-1] = (shifts[-1][0], start, shifts[-1][2])
        elif kind in BLOCK_ACTIVITY and shifts:
            shifts[-1][2].append((kind, start, end))
    return shifts


def _shift_segments(
    rng: random.Random,
    login: int,
    logout: int,
    blocks: list[tuple[str, int, int]],
    not_before: int,
) -> list[tuple[str, int, int, str]]:
    """Gapless (activity, start, end, deviation) of one shift; `logout` -1 while still on."""
    start = _round(login, QUARTER_MS)
    deviation_start = ""
    if rng.random() < 0.15:
        start, deviation_start = login // QUARTER_MS * QUARTER_MS - QUARTER_MS, "late_login"
    start = max(start, not_before)
    end = _round(logout, QUARTER_MS) if logout >= 0 else start + SHIFT_MS
    deviation_end = ""
    if logout >= 0 and rng.random() < 0.15:
        end, deviation_end = end + 30 * MINUTE_MS, "early_logout"
    planned: list[tuple[str, int, int, str]] = []
    for kind, block_start, block_end in blocks:
        at = _round(block_start, 5 * MINUTE_MS)
        activity, deviation = BLOCK_ACTIVITY[kind], ""
        if kind in PLANNED_LENGTH_MS:
            until = at + PLANNED_LENGTH_MS[kind]
            if kind == "lunch" and block_end - block_start > 35 * MINUTE_MS:
                deviation = "late_from_lunch"
        else:
            until = _round(block_end, 5 * MINUTE_MS)
            if rng.random() < 0.3:
                activity, deviation = SWAPPED[activity], "wrong_reason"
        planned.append((activity, at, until, deviation))
    if rng.random() < 0.1:
        at = start + HOUR_MS
        planned.append((UNKNOWN_ACTIVITY, at, at + 30 * MINUTE_MS, "unknown_activity"))
    planned.sort(key=lambda block: block[1])
    segments: list[tuple[str, int, int, str]] = []
    clock = start
    for activity, at, until, deviation in planned:
        at, until = max(at, clock), min(until, end)
        if until <= at:
            continue
        if at > clock:
            segments.append(("Open", clock, at, deviation_start if clock == start else ""))
        segments.append((activity, at, until, deviation))
        clock = until
    if clock < end:
        segments.append(("Open", clock, end, deviation_start if clock == start else ""))
    if segments and deviation_end:
        activity, at, until, deviation = segments[-1]
        segments[-1] = (activity, at, until, deviation or deviation_end)
    return segments


def schedule_segments(world: World, vendor: str) -> pd.DataFrame:
    """Every scheduled segment of one vendor's agents (SEGMENT_COLUMNS, times in UTC ms)."""
    data = world.data(vendor)
    first_day, last_day = world.config.first_day, (world.now - timedelta(days=1)).date()
    days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    rows: list[tuple[str, str, str, str, int, int, str]] = []
    for agent, timeline in zip(data.agents, data.timelines, strict=True):
        rng = random.Random(f"{world.config.seed}/{vendor}/{agent.index}/schedule")
        segments: list[tuple[str, int, int, str]] = []
        not_before = 0
        for login, logout, blocks in _shifts(timeline, world.now_ms):
            shift = _shift_segments(rng, login, logout, blocks, not_before)
            segments.extend(shift)
            not_before = shift[-1][2] if shift else not_before
        if timeline.logins:
            usual = _round(timeline.logins[0] % DAY_MS, QUARTER_MS)
            worked = {(EPOCH + timedelta(milliseconds=login)).date() for login in timeline.logins}
            for day in days:
                draw = rng.random()
                if day in worked or draw >= 0.7:
                    continue
                at = (day - EPOCH.date()).days * DAY_MS + usual
                if any(at < until and start < at + SHIFT_MS for _, start, until, _ in segments):
                    continue
                activity = "Open" if draw < 0.5 else "Off"
                segments.append(
                    (activity, at, at + SHIFT_MS, "no_show" if draw < 0.5 else "day_off")
                )
        tenant = TENANT_IDS[vendor]
        rows.extend(
            (vendor, tenant, agent.agent_id, *segment)
            for segment in sorted(segments, key=lambda s: s[1])
        )
    frame = pd.DataFrame(
        [(v, t, a, activity, start, end, dev) for v, t, a, activity, start, end, dev in rows],
        columns=SEGMENT_COLUMNS,
    )
    return frame


def report_day(ms: pd.Series, report_tz: str) -> pd.Series:
    """The day in `report_tz` of each UTC-ms instant."""
    return pd.to_datetime(ms, unit="ms", utc=True).dt.tz_convert(report_tz).dt.date


def schedule(
    world: World, report_tz: str, days: Iterable[date], vendors: Iterable[str] = VENDORS
) -> pd.DataFrame:
    """The segments of every vendor starting on `days` of `report_tz`, with their `day`."""
    frame = pd.concat([schedule_segments(world, v) for v in vendors], ignore_index=True)
    frame["day"] = report_day(frame["start_ms"], report_tz)
    return frame[frame["day"].isin(set(days))].reset_index(drop=True)


def _junk(day: date, kind: str, zone: ZoneInfo) -> list[dict[str, object]]:
    """Malformed rows of an agent no vendor has, for the quarantine reason `kind`."""
    noon = datetime.combine(day, datetime.min.time(), zone) + timedelta(hours=12)

    def text(at: datetime) -> str:
        return at.astimezone(UTC).isoformat()

    row: dict[str, object] = {
        "vendor": "cxone",
        "tenant_id": TENANT_IDS["cxone"],
        "agent_id": f"junk-{day.isoformat()}",
        "activity": "Open",
        "start_ts": text(noon),
        "end_ts": text(noon + timedelta(hours=1)),
    }
    if kind == "missing_required":
        return [{**row, "activity": None}]
    if kind == "end_before_start":
        return [{**row, "start_ts": row["end_ts"], "end_ts": row["start_ts"]}]
    if kind == "bad_timestamp":
        return [{**row, "start_ts": noon.replace(tzinfo=None).isoformat()}]  # no zone
    later = noon + timedelta(minutes=30)
    return [row, {**row, "start_ts": text(later), "end_ts": text(later + timedelta(hours=1))}]


JUNK_REASONS = ("missing_required", "end_before_start", "bad_timestamp", "overlapping_segment")


def schedule_files(
    world: World, report_tz: str, days: Iterable[date], vendors: Iterable[str] = VENDORS
) -> dict[date, pd.DataFrame]:
    """The content of each day's schedule file: ISO-8601 text, UTC `Z` for most rows and the
    report zone's offset for every third one, plus (with the `malformed` fault, in files long
    enough) a malformed row whose kind cycles with the day (JUNK_REASONS)."""
    zone = ZoneInfo(report_tz)
    days = sorted(set(days))
    segments = schedule(world, report_tz, days, vendors)
    files: dict[date, pd.DataFrame] = {}
    for number, day in enumerate(days):
        part = segments[segments["day"] == day]
        utc_text = (
            iso_ms(part["start_ms"].to_numpy(np.int64)),
            iso_ms(part["end_ms"].to_numpy(np.int64)),
        )
        local_text = [
            [datetime.fromtimestamp(ms / 1000, zone).isoformat() for ms in part[column]]
            for column in ("start_ms", "end_ms")
        ]
        every_third = np.arange(len(part)) % 3 == 2
        frame = pd.DataFrame(
            {
                **{c: part[c].to_numpy() for c in ("vendor", "tenant_id", "agent_id", "activity")},
                "start_ts": np.where(every_third, local_text[0], utc_text[0]),
                "end_ts": np.where(every_third, local_text[1], utc_text[1]),
            },
            columns=FILE_COLUMNS,
        )
        if world.config.faults.malformed and len(frame) >= JUNK_MIN_ROWS:
            kind = JUNK_REASONS[number % len(JUNK_REASONS)]
            junk = pd.DataFrame(_junk(day, kind, zone), columns=FILE_COLUMNS)
            frame = pd.concat([frame, junk], ignore_index=True)
        files[day] = frame
    return files


def write_schedule_files(
    world: World,
    folder: Path,
    report_tz: str,
    days: Iterable[date],
    vendors: Iterable[str] = VENDORS,
) -> list[Path]:
    """Write each day's file into `folder` as `YYYY-MM-DD.csv` (every third day `.parquet`),
    the way a WFM export lands; returns the paths. Only `vendors`' agents are simulated for it."""
    return write_files(schedule_files(world, report_tz, days, vendors), folder)


def write_files(files: dict[date, pd.DataFrame], folder: Path) -> list[Path]:
    """Each day's frame into `folder` as `write_schedule_files` names it, atomically (a
    temporary file renamed into place); the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, (day, frame) in enumerate(sorted(files.items())):
        path = folder / f"{day.isoformat()}.{'parquet' if number % 3 == 2 else 'csv'}"
        temp = path.with_name(f".{path.name}.tmp")
        if path.suffix == ".csv":
            frame.to_csv(temp, index=False)
        else:
            frame.to_parquet(temp, index=False)
        temp.replace(path)
        paths.append(path)
    return paths
