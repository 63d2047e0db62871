"""Properties of the interval and adherence SQL, over generated timelines and schedules.

The mart SQL files run on an in-memory DuckDB (session zone = report zone) over generated
`agent_state_intervals` (split at UTC midnight like partitions) and `schedule_segments`,
around the US spring-forward and in a zone whose offset is not a whole hour.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentstate_etl import schedules
from agentstate_etl.activities import ACTIVITY_MAPPING_SCHEMA
from agentstate_etl.intervals import INTERVAL_SCHEMA
from agentstate_etl.lake_schemas import AGENT_SITES_SCHEMA, SUMMARY_REQUEST_SCHEMA, SUMMARY_SCHEMA
from agentstate_etl.marts.checks import CHECKS_DIR
from agentstate_etl.marts.compute import COVERAGE_SCHEMA, LANDED_SCHEMA, sql_files
from agentstate_etl.reasons import reason_groups
from agentstate_etl.simulator.truth import SPEC_ACTIVITY_RULES

HOUR = 3_600_000
DAY = 24 * HOUR
START = int(datetime(2026, 3, 7, 12, tzinfo=UTC).timestamp() * 1000)  # NY springs forward 8th
ZONES = ("UTC", "America/New_York", "Asia/Kathmandu")
STATES = (
    ("READY", None),
    ("BUSY", None),
    ("ACW", None),
    ("NOT_READY", "Lunch"),
    ("NOT_READY", "Break"),
    ("NOT_READY", "Smoke"),
    ("LOGGED_OUT", None),
    ("UNKNOWN", None),
)
ACTIVITIES = ("Open", "Lunch", "Break", "Off", "Coaching")
AGENTS = ("a1", "a2")
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def timelines(draw: st.DrawFn) -> list[tuple[str, int, int, str, str | None]]:
    """(agent, start, end, state, reason) occurrences, with gaps and zero-length ones."""
    rows = []
    for agent in AGENTS:
        at = START + draw(st.integers(0, 6 * HOUR))
        for _ in range(draw(st.integers(0, 10))):
            at += draw(st.one_of(st.just(0), st.integers(1, 2 * HOUR)))
            length = draw(st.one_of(st.just(0), st.integers(1, 6 * HOUR)))
            state, reason = draw(st.sampled_from(STATES))
            rows.append((agent, at, at + length, state, reason))
            at += length
    return rows


@st.composite
def rosters(draw: st.DrawFn) -> list[tuple[str, str, int, int]]:
    """(agent, activity, start, end) segments, never overlapping within an agent."""
    rows = []
    for agent in AGENTS:
        at = START + draw(st.integers(0, 8 * HOUR))
        for _ in range(draw(st.integers(0, 8))):
            at += draw(st.one_of(st.just(0), st.integers(1, 3 * HOUR)))
            length = draw(st.one_of(st.just(0), st.integers(1, 5 * HOUR)))
            rows.append((agent, draw(st.sampled_from(ACTIVITIES)), at, at + length))
            at += length
    return rows


def _ts(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def partitions(occurrences: list[tuple[str, int, int, str, str | None]]) -> pa.Table:
    """The occurrences as UTC-day partitions own them: split at midnight, carried in."""
    rows = []
    for agent, start, end, state, reason in occurrences:
        day_start = start // DAY * DAY
        while True:
            piece_start, piece_end = max(start, day_start), min(end, day_start + DAY)
            if piece_end > piece_start or start == end:
                rows.append(
                    {
                        "vendor": "cxone",
                        "tenant_id": "t",
                        "agent_id": agent,
                        "state": state,
                        "reason": reason,
                        "start_ts": _ts(piece_start),
                        "end_ts": _ts(piece_end),
                        "duration_s": (piece_end - piece_start) / 1000,
                        "partition_date": _ts(day_start).date(),
                        "is_carry_in": start < day_start,
                        "is_open": False,
                    }
                )
            day_start += DAY
            if day_start >= end:
                break
    return pa.Table.from_pylist(rows, schema=INTERVAL_SCHEMA)


def segment_table(segments: list[tuple[str, str, int, int]]) -> pa.Table:
    rows = [
        {
            "vendor": "cxone",
            "tenant_id": "t",
            "agent_id": agent,
            "activity": activity,
            "start_ts": _ts(start),
            "end_ts": _ts(end),
            "schedule_day": _ts(start).date(),
        }
        for agent, activity, start, end in segments
    ]
    return pa.Table.from_pylist(rows, schema=schedules.SEGMENT_SCHEMA)


def extracted(intervals: pa.Table, segments: pa.Table) -> pa.Table:
    """Every UTC day these examples touch, landed whole (the tenant's partitions exist even
    for an agent who never logged in)."""
    times = [
        t.value // 1_000_000
        for table in (intervals, segments)
        for column in ("start_ts", "end_ts")
        for t in table.column(column).to_pandas()
    ]
    if not times:
        return COVERAGE_SCHEMA.empty_table()
    first, last = min(times) // DAY - 1, max(times) // DAY + 1
    return pa.Table.from_pylist(
        [
            {
                "vendor": "cxone",
                "tenant_id": "t",
                "partition_date": _ts(day * DAY).date(),
                "horizon": _ts((day + 1) * DAY),
            }
            for day in range(first, last + 1)
        ],
        schema=COVERAGE_SCHEMA,
    )


def build(
    intervals: pa.Table,
    segments: pa.Table,
    zone: str,
    minutes: int = 15,
    threshold_s: float = 0.0,
) -> duckdb.DuckDBPyConnection:
    """Every mart SQL file, in order, as the warehouse build runs them."""
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{zone}'")
    mapping = pa.Table.from_pylist(
        [
            dict(zip(ACTIVITY_MAPPING_SCHEMA.names, rule, strict=True))
            for rule in SPEC_ACTIVITY_RULES
        ],
        schema=ACTIVITY_MAPPING_SCHEMA,
    )
    inputs = {
        "lake_intervals": intervals,
        "schedule_segments": segments,
        "activity_mapping": mapping,
        "lake_summary": SUMMARY_SCHEMA.empty_table(),
        "lake_summary_requests": SUMMARY_REQUEST_SCHEMA.empty_table(),
        "lake_agent_sites": AGENT_SITES_SCHEMA.empty_table(),
        "reason_mapping": reason_groups(),
        "report_day_landed": LANDED_SCHEMA.empty_table(),
        "partition_coverage": extracted(intervals, segments),
    }
    for name, table in inputs.items():
        con.register(f"{name}_input", table)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_input")
    con.execute("SET VARIABLE drift_tolerance_s = 2.0")
    con.execute("SET VARIABLE interval_minutes = ?", [minutes])
    con.execute("SET VARIABLE adherence_threshold_s = ?", [threshold_s])
    every_day = [date(2026, 1, 1) + timedelta(days=i) for i in range(730)]
    con.execute("SET VARIABLE utc_days = ?::DATE[]", [every_day])
    con.execute("SET VARIABLE report_days = ?::DATE[]", [every_day])
    for path in sql_files():
        con.execute(path.read_text())
    return con


def frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return con.sql(sql).to_arrow_table().to_pandas()


def ms(seconds: pd.Series) -> pd.Series:
    return (seconds * 1000).round().astype("int64")


@PROPERTY
@given(timelines(), st.sampled_from(ZONES), st.sampled_from((15, 30, 60)))
def test_intervals_add_up_to_the_day(
    occurrences: list[tuple[str, int, int, str, str | None]], zone: str, minutes: int
) -> None:
    con = build(partitions(occurrences), segment_table([]), zone, minutes)
    columns = ["ready_s", "not_ready_s", "busy_s", "acw_s", "unknown_s", "logged_in_s"]
    daily = frame(con, "SELECT * FROM mart_state_totals_daily").set_index(["agent_id", "day"])
    intervals = frame(con, "SELECT * FROM mart_state_totals_interval")
    summed = intervals.groupby(["agent_id", "day"])[columns].sum()
    assert sorted(summed.index) == sorted(daily.index)
    for column in columns:
        assert (ms(summed[column]) == ms(daily.loc[summed.index, column])).all()
    assert frame(con, (CHECKS_DIR / "intervals_add_up_to_day.sql").read_text()).empty
    local = intervals["interval_start"].dt.tz_convert(ZoneInfo(zone))
    assert ((local.dt.minute % minutes == 0) & (local.dt.second == 0)).all()
    assert (local.dt.date == intervals["day"]).all()
    assert (intervals["logged_in_s"] > 0).all()
    assert (intervals["logged_in_s"] <= minutes * 60).all()


def scheduled_by_day(segments: list[tuple[str, str, int, int]], zone: str) -> dict:
    """Each segment split at the zone's midnights, summed per agent and day (milliseconds)."""
    tz = ZoneInfo(zone)
    sums: dict[tuple[str, date], int] = defaultdict(int)
    for agent, _, start, end in segments:
        at = start
        while at < end:
            local_day = _ts(at).astimezone(tz).date()
            midnight = datetime.combine(local_day + timedelta(days=1), datetime.min.time(), tz)
            stop = min(end, int(midnight.timestamp() * 1000))
            sums[(agent, local_day)] += stop - at
            at = stop
    return dict(sums)


@PROPERTY
@given(timelines(), rosters(), st.sampled_from(ZONES), st.integers(0, 3600))
def test_in_plus_out_is_scheduled(
    occurrences: list, segments: list, zone: str, threshold_s: int
) -> None:
    con = build(partitions(occurrences), segment_table(segments), zone, threshold_s=threshold_s)
    daily = frame(con, "SELECT * FROM mart_adherence_daily")
    assert (
        ms(daily["in_adherence_s"]) + ms(daily["out_of_adherence_s"]) == ms(daily["scheduled_s"])
    ).all()
    assert (daily["out_of_adherence_s"] >= 0).all() and (daily["in_adherence_s"] >= 0).all()
    expected = scheduled_by_day(segments, zone)
    actual = dict(
        zip(
            zip(daily["agent_id"], daily["day"], strict=True), ms(daily["scheduled_s"]), strict=True
        )
    )
    assert actual == {key: value for key, value in expected.items() if value > 0}


def clipped_to(occurrences: list, segments: list) -> list:
    """The occurrences with everything outside the agent's segments cut away."""
    return [
        (agent, max(start, seg_start), min(end, seg_end), state, reason)
        for agent, start, end, state, reason in occurrences
        for seg_agent, _, seg_start, seg_end in segments
        if seg_agent == agent and max(start, seg_start) < min(end, seg_end)
    ]


@PROPERTY
@given(timelines(), rosters(), st.sampled_from(ZONES), st.integers(0, 600))
def test_unscheduled_time_counts_nowhere(
    occurrences: list, segments: list, zone: str, threshold_s: int
) -> None:
    """What agents do outside their segments changes neither adherence mart, and every
    exception lies within a segment of its agent and activity."""
    marts = {
        "mart_adherence_daily": "agent_id, day, scheduled_s, in_adherence_s, out_of_adherence_s, "
        "adherence_pct, scheduled_open_s, unknown_activity_s",
        "mart_adherence_exceptions": "*",
    }
    full = build(partitions(occurrences), segment_table(segments), zone, threshold_s=threshold_s)
    inside = build(
        partitions(clipped_to(occurrences, segments)),
        segment_table(segments),
        zone,
        threshold_s=threshold_s,
    )
    for table, columns in marts.items():
        query = f"SELECT {columns} FROM {table} ORDER BY ALL"
        pd.testing.assert_frame_equal(frame(full, query), frame(inside, query))
    exceptions = frame(full, "SELECT * FROM mart_adherence_exceptions")
    for row in exceptions.itertuples():
        start, end = int(row.start_ts.timestamp() * 1000), int(row.end_ts.timestamp() * 1000)
        assert any(
            agent == row.agent_id and activity == row.activity and lo <= start < end <= hi
            for agent, activity, lo, hi in segments
        )


@PROPERTY
@given(timelines(), rosters(), st.sampled_from(ZONES), st.integers(0, 1800), st.integers(0, 3600))
def test_raising_the_threshold_never_lowers_in_adherence(
    occurrences: list, segments: list, zone: str, low: int, extra: int
) -> None:
    intervals, schedule = partitions(occurrences), segment_table(segments)
    query = "SELECT agent_id, day, in_adherence_s FROM mart_adherence_daily ORDER BY ALL"
    before = frame(build(intervals, schedule, zone, threshold_s=low), query)
    after = frame(build(intervals, schedule, zone, threshold_s=low + extra), query)
    assert list(zip(before["agent_id"], before["day"], strict=True)) == list(
        zip(after["agent_id"], after["day"], strict=True)
    )
    assert (ms(after["in_adherence_s"]) >= ms(before["in_adherence_s"])).all()
