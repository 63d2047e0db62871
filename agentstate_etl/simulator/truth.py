"""What the warehouse must contain, computed from the simulator's own timelines.

Deliberately written as plain per-row Python, independent of the engine's vectorized
interval builder and of the DuckDB SQL, following docs/DESIGN.md (occurrence semantics) and docs/warehouse.md:
an occurrence belongs to a UTC-day partition when it overlaps it (or, zero-length, starts in
it); only occurrences that began within the lookback are visible; pieces are clipped to the
partition and to the horizon `min(day end, settled)`, where `settled` is now less the vendor's
publication delay and a clock allowance.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from agentstate_etl.canonical import ACW, BUSY, LOGGED_OUT, NOT_READY, READY, UNKNOWN
from agentstate_etl.simulator.world import (
    DAY_MS,
    EPOCH,
    HOUR_MS,
    SUMMARY_CANONICAL,
    World,
    day_ms,
    to_ms,
)
from agentstate_etl.vendors.registry import vendor_spec

TOTAL_COLUMNS = {
    READY: "ready_s",
    NOT_READY: "not_ready_s",
    BUSY: "busy_s",
    ACW: "acw_s",
    UNKNOWN: "unknown_s",
}


def _ts(ms: int) -> pd.Timestamp:
    return pd.Timestamp(ms, unit="ms", tz="UTC")


def _check_as_of(world: World, as_of: datetime) -> None:
    if to_ms(as_of) != world.now_ms:
        raise ValueError(f"the simulator served data as of {world.now}, not {as_of}")


def settled_ms(world: World, vendor: str) -> int:
    """The horizon of data extracted at the world's now: the vendor's last `delay + clock
    allowance` is not settled yet (docs/vendors.md, CxEngage; docs/DESIGN.md, occurrence semantics), whatever the vendor served of it."""
    return to_ms(vendor_spec(vendor).capabilities.settled_until(world.now))


def expected_intervals(
    world: World, vendor: str, day: date, *, lookback_hours: float, as_of: datetime
) -> pd.DataFrame:
    """`agent_state_intervals` rows of one vendor partition."""
    _check_as_of(world, as_of)
    d0 = day_ms(day)
    d1 = d0 + DAY_MS
    bound = min(d1, settled_ms(world, vendor))
    visible_from = d0 - int(lookback_hours * HOUR_MS)
    rows = []
    for o in world.occurrences(vendor).itertuples():
        start = int(o.start_ms)
        end = None if pd.isna(o.end_ms) else int(o.end_ms)
        if start < visible_from or start >= bound:
            continue  # not fetched by this partition
        piece_start = max(start, d0)
        piece_end = bound if end is None else min(end, bound)
        zero_length = end == start and d0 <= start < d1
        if not (piece_end > piece_start or zero_length):
            continue
        rows.append(
            {
                "vendor": vendor,
                "tenant_id": world.credentials.tenant_id(vendor),
                "agent_id": o.agent_id,
                "agent_name": o.agent_name,
                "state": o.state,
                "vendor_state": o.vendor_state,
                "reason": o.reason,
                "start_ts": _ts(piece_start),
                "end_ts": _ts(piece_end),
                "duration_s": (piece_end - piece_start) / 1000,
                "partition_date": day,
                "is_carry_in": start < d0,
                "is_open": end is None or end > bound,
            }
        )
    return pd.DataFrame(rows)


def _all_intervals(
    world: World, vendor: str, days: Iterable[date], lookback_hours: float, as_of: datetime
) -> pd.DataFrame:
    return pd.concat(
        [
            expected_intervals(world, vendor, d, lookback_hours=lookback_hours, as_of=as_of)
            for d in days
        ],
        ignore_index=True,
    )


def _next_local_midnight(ms: int, zone: ZoneInfo) -> int:
    local = (EPOCH + timedelta(milliseconds=ms)).astimezone(zone)
    return to_ms(datetime.combine(local.date() + timedelta(days=1), time(), tzinfo=zone))


def _local_day(ms: int, zone: ZoneInfo) -> date:
    return (EPOCH + timedelta(milliseconds=ms)).astimezone(zone).date()


def _pieces(intervals: pd.DataFrame, zone: ZoneInfo) -> list[dict]:
    """Intervals split at the report zone's midnights; `began` marks an occurrence's start."""
    pieces = []
    for row in intervals.itertuples():
        start, end = row.start_ts.value // 1_000_000, row.end_ts.value // 1_000_000
        base = {"agent_id": row.agent_id, "state": row.state, "reason": row.reason}
        if start == end:
            pieces.append(
                {**base, "day": _local_day(start, zone), "ms": 0, "began": not row.is_carry_in}
            )
        at = start
        while at < end:
            stop = min(end, _next_local_midnight(at, zone))
            pieces.append(
                {
                    **base,
                    "day": _local_day(at, zone),
                    "ms": stop - at,
                    "began": not row.is_carry_in and at == start,
                }
            )
            at = stop
    return pieces


def _daily(
    world: World,
    vendor: str,
    days: Iterable[date],
    report_tz: str,
    lookback_hours: float,
    as_of: datetime,
) -> list[dict]:
    intervals = _all_intervals(world, vendor, days, lookback_hours, as_of)
    return _pieces(intervals, ZoneInfo(report_tz))


def expected_totals(
    world: World,
    vendor: str,
    days: Iterable[date],
    *,
    report_tz: str,
    lookback_hours: float,
    as_of: datetime,
) -> pd.DataFrame:
    """`mart_state_totals_daily` of one vendor: agent-days with logged-in time."""
    return _totals(world, vendor, _daily(world, vendor, days, report_tz, lookback_hours, as_of))


def _totals(world: World, vendor: str, pieces: list[dict]) -> pd.DataFrame:
    sums: dict[tuple[str, date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for piece in pieces:
        if piece["state"] != LOGGED_OUT:
            sums[(piece["agent_id"], piece["day"])][piece["state"]] += piece["ms"]
    rows = []
    for (agent_id, day), by_state in sums.items():
        logged_in = sum(by_state.values())
        if logged_in > 0:
            rows.append(
                {
                    "vendor": vendor,
                    "tenant_id": world.credentials.tenant_id(vendor),
                    "agent_id": agent_id,
                    "day": day,
                    **{
                        column: by_state.get(state, 0) / 1000
                        for state, column in TOTAL_COLUMNS.items()
                    },
                    "logged_in_s": logged_in / 1000,
                }
            )
    return pd.DataFrame(rows)


def expected_not_ready_reasons(
    world: World,
    vendor: str,
    days: Iterable[date],
    *,
    report_tz: str,
    lookback_hours: float,
    as_of: datetime,
) -> pd.DataFrame:
    """`mart_not_ready_reasons_daily` of one vendor."""
    sums: dict[tuple[str, date, str], list[int]] = defaultdict(lambda: [0, 0])
    for piece in _daily(world, vendor, days, report_tz, lookback_hours, as_of):
        if piece["state"] == NOT_READY:
            entry = sums[(piece["agent_id"], piece["day"], piece["reason"])]
            entry[0] += piece["ms"]
            entry[1] += int(piece["began"])
    return pd.DataFrame(
        [
            {
                "vendor": vendor,
                "tenant_id": world.credentials.tenant_id(vendor),
                "agent_id": agent_id,
                "day": day,
                "reason": reason,
                "not_ready_s": ms / 1000,
                "episodes": episodes,
            }
            for (agent_id, day, reason), (ms, episodes) in sums.items()
        ]
    )


def expected_acw(
    world: World,
    vendor: str,
    days: Iterable[date],
    *,
    report_tz: str,
    lookback_hours: float,
    as_of: datetime,
) -> pd.DataFrame:
    """`mart_acw_daily` of one vendor: one row per totals row."""
    pieces = _daily(world, vendor, days, report_tz, lookback_hours, as_of)
    totals = _totals(world, vendor, pieces)
    episodes: dict[tuple[str, date], int] = defaultdict(int)
    for piece in pieces:
        if piece["state"] == ACW and piece["began"]:
            episodes[(piece["agent_id"], piece["day"])] += 1
    rows = []
    for row in totals.itertuples():
        count = episodes.get((row.agent_id, row.day), 0)
        rows.append(
            {
                "vendor": vendor,
                "tenant_id": row.tenant_id,
                "agent_id": row.agent_id,
                "day": row.day,
                "acw_s": row.acw_s,
                "acw_episodes": count,
                "avg_acw_s": row.acw_s / count if count else None,
            }
        )
    return pd.DataFrame(rows)


def expected_reconciliation(
    world: World,
    days: Iterable[date],
    *,
    tolerance_s: float,
    lookback_hours: float,
    as_of: datetime,
) -> pd.DataFrame:
    """`mart_reconciliation`: CXone event seconds vs the summary report it serves."""
    rows = []
    for day in days:
        intervals = expected_intervals(
            world, "cxone", day, lookback_hours=lookback_hours, as_of=as_of
        )
        d0 = day_ms(day)
        for agent_id in sorted(set(intervals["agent_id"])):
            events: dict[str, int] = defaultdict(int)
            for row in intervals[intervals["agent_id"] == agent_id].itertuples():
                if row.state != LOGGED_OUT:
                    events[row.state] += int(row.duration_s * 1000 + 0.5)
            summary: dict[str, int] = defaultdict(int)
            for item in world.summary(agent_id, d0, d0 + DAY_MS) or []:
                state = SUMMARY_CANONICAL[item["state"]]
                if state != LOGGED_OUT:
                    lo, hi = pd.Timestamp(item["startTime"]), pd.Timestamp(item["endTime"])
                    summary[state] += (hi - lo) // pd.Timedelta(milliseconds=1)
            # UNKNOWN time is shown apart on every row of the agent-day, never as a state row
            unknown_s = events.pop(UNKNOWN, 0) / 1000
            for state in sorted(set(events) | set(summary)):
                event_s = events.get(state, 0) / 1000
                summary_s = summary.get(state, 0) / 1000
                if state not in summary:
                    status = "missing_summary"
                elif state not in events:
                    status = "missing_events"
                elif abs(event_s - summary_s) > tolerance_s:
                    status = "drift"
                else:
                    status = "ok"
                rows.append(
                    {
                        "vendor": "cxone",
                        "tenant_id": world.credentials.tenant_id("cxone"),
                        "agent_id": agent_id,
                        "day": day,
                        "state": state,
                        "event_s": event_s,
                        "summary_s": summary_s,
                        "diff_s": event_s - summary_s,
                        "status": status,
                        "event_unknown_s": unknown_s,
                    }
                )
    return pd.DataFrame(rows)


def expected_quarantine(world: World, vendor: str, start: datetime, end: datetime) -> pd.DataFrame:
    """The malformed records served for `[start, end)`: vendor, marker and quarantine reason."""
    junk = world.junk(vendor)
    inside = junk[(junk["position_ms"] >= to_ms(start)) & (junk["position_ms"] < to_ms(end))]
    return pd.DataFrame({"vendor": vendor, "marker": inside["marker"], "reason": inside["reason"]})


# --- analytics: interval totals, KPIs, adherence (docs/warehouse.md) ---------------------------------

# the shipped activity mapping (docs/warehouse.md, adherence), written out here rather than read
# from the engine's file
SPEC_ACTIVITY_RULES: tuple[tuple[str, str, str], ...] = (
    ("Open", READY, "*"),
    ("Open", BUSY, "*"),
    ("Open", ACW, "*"),
    ("Lunch", NOT_READY, "Lunch"),
    ("Lunch", LOGGED_OUT, "*"),
    ("Break", NOT_READY, "Break"),
    ("Meeting", NOT_READY, "Meeting"),
    ("Training", NOT_READY, "Training"),
    ("Off", LOGGED_OUT, "*"),
)


def _local_midnight(day: date, zone: ZoneInfo) -> int:
    return to_ms(datetime.combine(day, time(), tzinfo=zone))


def _interval_starts(first: date, last: date, zone: ZoneInfo, minutes: int) -> list[int]:
    """Every instant from `first` to `last` (local days) whose wall clock in `zone` reads a
    multiple of `minutes`, found by walking the days minute by minute."""
    starts = []
    at, stop = _local_midnight(first, zone), _local_midnight(last + timedelta(days=1), zone)
    while at < stop:
        local = (EPOCH + timedelta(milliseconds=at)).astimezone(zone)
        if (local.hour * 60 + local.minute) % minutes == 0:
            starts.append(at)
        at += 60_000
    return starts


def expected_interval_totals(
    world: World,
    vendor: str,
    days: Iterable[date],
    *,
    report_tz: str,
    interval_minutes: int,
    lookback_hours: float,
    as_of: datetime,
) -> pd.DataFrame:
    """`mart_state_totals_interval` of one vendor: agent-intervals with logged-in time."""
    zone = ZoneInfo(report_tz)
    intervals = _all_intervals(world, vendor, days, lookback_hours, as_of)
    first = _local_day(int(intervals["start_ts"].min().value // 1_000_000), zone)
    last = _local_day(int(intervals["end_ts"].max().value // 1_000_000), zone)
    bounds = _interval_starts(
        first - timedelta(days=1), last + timedelta(days=1), zone, interval_minutes
    )
    sums: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in intervals.itertuples():
        if row.state == LOGGED_OUT:
            continue
        at, end = row.start_ts.value // 1_000_000, row.end_ts.value // 1_000_000
        while at < end:
            n = bisect_right(bounds, at) - 1
            stop = min(end, bounds[n + 1])
            sums[(row.agent_id, bounds[n])][row.state] += stop - at
            at = stop
    return pd.DataFrame(
        [
            {
                "vendor": vendor,
                "tenant_id": world.credentials.tenant_id(vendor),
                "agent_id": agent_id,
                "interval_start": _ts(start),
                "day": _local_day(start, zone),
                **{
                    column: by_state.get(state, 0) / 1000 for state, column in TOTAL_COLUMNS.items()
                },
                "logged_in_s": sum(by_state.values()) / 1000,
            }
            for (agent_id, start), by_state in sums.items()
        ]
    )


def expected_kpis(totals: pd.DataFrame) -> pd.DataFrame:
    """`mart_kpis_daily` from `mart_state_totals_daily` rows (as `expected_totals` gives them)."""

    def share(part: float, whole: float) -> float | None:
        return part / whole if whole else None

    return pd.DataFrame(
        [
            {
                "vendor": row.vendor,
                "tenant_id": row.tenant_id,
                "agent_id": row.agent_id,
                "day": row.day,
                "occupancy": share(row.busy_s + row.acw_s, row.ready_s + row.busy_s + row.acw_s),
                "utilization": share(row.busy_s + row.acw_s, row.logged_in_s),
                "not_ready_share": share(row.not_ready_s, row.logged_in_s),
            }
            for row in totals.itertuples()
        ]
    )


# the shipped reason groups (docs/warehouse.md), written out here rather than read from the
# engine's file: a reason-specific activity rule allows a reason or its group
SPEC_REASON_GROUPS: dict[tuple[str, str], str] = {
    ("cxone", "PAID_BREAK"): "Break",
    ("cxone", "LOGIN"): "Login",
    ("koreai", "BRK"): "Break",
    ("koreai", "LUNCH"): "Lunch",
    ("koreai", "MTG"): "Meeting",
    ("koreai", "TRN"): "Training",
    ("koreai", "login"): "Login",
}


def _allowed(
    rules: Iterable[tuple[str, str, str]],
    activity: str,
    state: str,
    reason: str | None,
    group: str | None,
) -> bool:
    return any(
        a == activity and s == state and (r == "*" or r in (reason, group)) for a, s, r in rules
    )


def _actual_timeline(
    agent_intervals: list[tuple[int, int, str, str | None]], start: int, end: int
) -> list[tuple[int, int, str, str | None]]:
    """What the agent did in `[start, end)`, gapless: holes in the data are LOGGED_OUT."""
    pieces: list[tuple[int, int, str, str | None]] = []
    cursor = start
    for lo, hi, state, reason in agent_intervals:
        if hi <= start or lo >= end:
            continue
        if lo > cursor:
            pieces.append((cursor, lo, LOGGED_OUT, None))
        pieces.append((max(lo, start), min(hi, end), state, reason))
        cursor = min(hi, end)
    if cursor < end:
        pieces.append((cursor, end, LOGGED_OUT, None))
    return pieces


def _split_by_local_day(start: int, end: int, zone: ZoneInfo) -> list[tuple[date, int]]:
    out = []
    while start < end:
        stop = min(end, _next_local_midnight(start, zone))
        out.append((_local_day(start, zone), stop - start))
        start = stop
    return out


def expected_adherence(
    world: World,
    vendor: str,
    days: Iterable[date],
    *,
    segments: pd.DataFrame,
    report_tz: str,
    threshold_s: float,
    lookback_hours: float,
    as_of: datetime,
    rules: Iterable[tuple[str, str, str]] = SPEC_ACTIVITY_RULES,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(`mart_adherence_daily`, `mart_adherence_exceptions`) of one vendor, from the valid
    schedule `segments` (vendor, tenant_id, agent_id, activity, start_ms, end_ms)."""
    days = list(days)
    rules = list(rules)
    zone = ZoneInfo(report_tz)
    by_agent: dict[str, list[tuple[int, int, str, str | None]]] = defaultdict(list)
    for row in _all_intervals(world, vendor, days, lookback_hours, as_of).itertuples():
        start, end = row.start_ts.value // 1_000_000, row.end_ts.value // 1_000_000
        if start < end:
            by_agent[row.agent_id].append((start, end, row.state, row.reason))
    for timeline in by_agent.values():
        timeline.sort()
    known = {a for a, _, _ in rules}
    open_activities = {a for a, s, _ in rules if s == READY}
    daily: dict[tuple[str, date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    exceptions = []
    # only what was extracted counts: the landed days, up to the horizon
    covered_from = day_ms(min(days))
    covered_until = min(day_ms(max(days)) + DAY_MS, settled_ms(world, vendor))
    for whole in segments[segments["vendor"] == vendor].itertuples():
        seg = whole._replace(
            start_ms=max(whole.start_ms, covered_from), end_ms=min(whole.end_ms, covered_until)
        )
        if seg.start_ms >= seg.end_ms:
            continue
        for day, ms in _split_by_local_day(seg.start_ms, seg.end_ms, zone):
            sums = daily[(seg.agent_id, day)]
            sums["scheduled"] += ms
            sums["open"] += ms if seg.activity in open_activities else 0
            sums["unknown"] += ms if seg.activity not in known else 0
        run: list[tuple[int, int, str, str | None]] = []
        pieces = _actual_timeline(by_agent.get(seg.agent_id, []), seg.start_ms, seg.end_ms)
        for piece in [*pieces, None]:  # None closes the last run
            group = SPEC_REASON_GROUPS.get((vendor, piece[3] or "")) if piece else None
            if piece is not None and not _allowed(rules, seg.activity, piece[2], piece[3], group):
                run.append(piece)
                continue
            if run and run[-1][1] - run[0][0] >= threshold_s * 1000:
                held: dict[tuple[str, str | None], list[int]] = {}
                for lo, hi, state, reason in run:
                    held.setdefault((state, reason), [0, lo])[0] += hi - lo
                state, reason = max(held, key=lambda k: (held[k][0], -held[k][1]))
                exceptions.append(
                    {
                        "vendor": vendor,
                        "tenant_id": world.credentials.tenant_id(vendor),
                        "agent_id": seg.agent_id,
                        "activity": seg.activity,
                        "start_ts": _ts(run[0][0]),
                        "end_ts": _ts(run[-1][1]),
                        "duration_s": (run[-1][1] - run[0][0]) / 1000,
                        "actual_state": state,
                        "actual_reason": reason,
                        "day": _local_day(run[0][0], zone),
                    }
                )
                for day, ms in _split_by_local_day(run[0][0], run[-1][1], zone):
                    daily[(seg.agent_id, day)]["out"] += ms
            run = []
    worked = {
        (row.agent_id, row.day): row.ready_s + row.busy_s + row.acw_s
        for row in expected_totals(
            world, vendor, days, report_tz=report_tz, lookback_hours=lookback_hours, as_of=as_of
        ).itertuples()
    }
    rows = []
    for (agent_id, day), sums in daily.items():
        scheduled, out, open_ms = sums["scheduled"], sums["out"], sums["open"]
        worked_s = worked.get((agent_id, day), 0.0)
        rows.append(
            {
                "vendor": vendor,
                "tenant_id": world.credentials.tenant_id(vendor),
                "agent_id": agent_id,
                "day": day,
                "scheduled_s": scheduled / 1000,
                "in_adherence_s": (scheduled - out) / 1000,
                "out_of_adherence_s": out / 1000,
                "adherence_pct": 100 * (scheduled - out) / scheduled,
                "scheduled_open_s": open_ms / 1000,
                "worked_s": worked_s,
                "conformance_pct": 100 * worked_s / (open_ms / 1000) if open_ms else None,
                "unknown_activity_s": sums["unknown"] / 1000,
            }
        )
    return pd.DataFrame(rows), pd.DataFrame(exceptions)
