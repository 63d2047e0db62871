"""Vendor formats, table-driven: timestamps, state mapping, validation and quarantine."""

from __future__ import annotations

from datetime import UTC, date, datetime

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentstate_etl.intervals import vendor_intervals
from agentstate_etl.mapping import state_mapping
from agentstate_etl.timestamps import parse_iso_utc, parse_koreai_event_time
from agentstate_etl.validation import split_valid
from agentstate_etl.vendors.cxengage import records as cxengage
from agentstate_etl.vendors.koreai import records as koreai
from agentstate_etl.vendors.koreai.records import clock_hours


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("10/20/2020 2:13:12", "UTC", "2020-10-20T02:13:12+00:00"),
        ("1/2/2026 8:00:01", "UTC", "2026-01-02T08:00:01+00:00"),
        ("01/02/2026 08:00:01", "UTC", "2026-01-02T08:00:01+00:00"),
        ("12/31/2025 23:59:59", "UTC", "2025-12-31T23:59:59+00:00"),
        ("1/2/2026 8:00:01", "America/New_York", "2026-01-02T13:00:01+00:00"),
        ("7/2/2026 8:00:01", "America/New_York", "2026-07-02T12:00:01+00:00"),
        ("3/8/2026 2:30:00", "America/New_York", None),  # skipped by DST: cannot be real
        ("13/45/2026 7:00:00", "UTC", None),
        ("", "UTC", None),
    ],
)
def test_koreai_event_time(text: str, zone: str, expected: str | None) -> None:
    parsed = parse_koreai_event_time(pd.Series([text]), zone).iloc[0]
    if expected is None:
        assert pd.isna(parsed)
    else:
        assert parsed.isoformat() == expected


def test_koreai_fall_back_hour_resolved_from_event_order() -> None:
    times = pd.Series(
        ["11/1/2026 1:30:00", "11/1/2026 1:45:00", "11/1/2026 1:10:00", "11/1/2026 1:20:00"]
    )
    parsed = parse_koreai_event_time(times, "America/New_York")
    assert [t.isoformat() for t in parsed] == [
        "2026-11-01T05:30:00+00:00",
        "2026-11-01T05:45:00+00:00",
        "2026-11-01T06:10:00+00:00",
        "2026-11-01T06:20:00+00:00",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-02T03:04:05.678Z", "2026-01-02T03:04:05.678000+00:00"),
        ("2026-01-02T03:04:05.678+00:00", "2026-01-02T03:04:05.678000+00:00"),
        ("2026-01-02T05:04:05+02:00", "2026-01-02T03:04:05+00:00"),
        ("2026-01-02T25:61:00Z", None),
        (None, None),
    ],
)
def test_iso_timestamps(text: str | None, expected: str | None) -> None:
    parsed = parse_iso_utc(pd.Series([text], dtype=object)).iloc[0]
    assert (None if pd.isna(parsed) else parsed.isoformat()) == expected


ISO_TEXT = st.builds(
    lambda at, fraction, separator, zone: (
        at.strftime(f"%Y-%m-%d{separator}%H:%M:%S") + fraction + zone
    ),
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1)),
    st.sampled_from(["", ".4", ".407", ".4071", ".407123"]),
    st.sampled_from(["T", " "]),
    st.sampled_from(["Z", "+00:00", "+05:30", "-0500", "-03:00", ""]),
)


@given(
    st.lists(st.one_of(ISO_TEXT, st.none(), st.sampled_from(["", "junk", "2026-02-30T00:00:00Z"])))
)
def test_a_column_reads_as_each_value_alone_would(texts: list[str | None]) -> None:
    """Arrow takes a column only when it reads every value; either way each value comes out as
    pandas reads it on its own (the fast path changes no result)."""
    column = parse_iso_utc(pd.Series(texts, dtype=object, index=range(7, 7 + len(texts))))
    alone = [
        pd.to_datetime(pd.Series([t], dtype=object), utc=True, format="ISO8601", errors="coerce")
        .astype("datetime64[ms, UTC]")
        .iloc[0]
        for t in texts
    ]
    assert column.index.tolist() == list(range(7, 7 + len(texts)))
    assert [None if pd.isna(v) else v for v in column] == [None if pd.isna(v) else v for v in alone]


@pytest.mark.parametrize(
    ("vendor", "source", "vendor_state", "reason", "state", "expected_reason"),
    [
        ("cxengage", "history", "away", "Lunch", "NOT_READY", "Lunch"),
        ("cxengage", "history", "wrap-up", None, "ACW", None),
        ("cxengage", "history", "training-mode", None, "UNKNOWN", None),
        ("cxone", "history", "PAID_BREAK", None, "NOT_READY", "PAID_BREAK"),
        ("cxone", "history", "LOGIN", None, "NOT_READY", "LOGIN"),
        ("cxone", "history", "NOT_READY", "Meeting", "NOT_READY", "Meeting"),
        ("cxone", "history", "OUTBOUND_CONTACT", None, "BUSY", None),
        ("cxone", "summary", "lunch", None, "NOT_READY", "lunch"),
        ("cxone", "summary", "available", None, "READY", None),
        ("koreai", "history", "login", None, "NOT_READY", "login"),
        ("koreai", "history", "notready", "BRK", "NOT_READY", "BRK"),
        ("koreai", "history", "logout", None, "LOGGED_OUT", None),
    ],
)
def test_state_mapping(vendor, source, vendor_state, reason, state, expected_reason) -> None:
    mapping = state_mapping(vendor, source)
    states = pd.Series([vendor_state], dtype=object)
    assert mapping.canonical(states).iloc[0] == state
    assert mapping.reasons(states, pd.Series([reason], dtype=object)).iloc[0] == expected_reason


def _cxengage_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame([{k: r.get(k) for k in cxengage.RAW_FIELDS} for r in rows])
    for name in cxengage.RAW_FIELDS:
        if name != "durationSeconds":
            frame[name] = frame[name].astype(object)
    frame["_wire_error"] = [r.get("_wire_error") for r in rows]
    return cxengage.parse(frame)


def test_validation_quarantines_each_bad_record_with_its_reason() -> None:
    good = {
        "eventId": "e1",
        "agentId": "a1",
        "state": "ready",
        "start": "2026-01-02T10:00:00.000Z",
        "end": "2026-01-02T10:01:00.000Z",
    }
    rows = [
        good,
        {**good, "eventId": "e2", "agentId": None, "agentName": "JUNK-1"},
        {**good, "eventId": "e3", "end": "2026-01-02T09:00:00.000Z", "agentName": "JUNK-2"},
        {**good, "eventId": "e4", "start": "2026-01-02T25:61:00Z", "agentName": "JUNK-3"},
        {**good, "eventId": None, "agentName": "JUNK-4"},
        {**good, "eventId": "e6", "_wire_error": "bad_value:durationSeconds='abc'"},
        {**good, "eventId": "e7", "state": "training-mode"},  # unknown state: kept, not quarantined
    ]
    split = split_valid(
        _cxengage_frame(rows),
        cxengage.CxEngageRecord,
        vendor="cxengage",
        tenant_id="t",
        partition_date=date(2026, 1, 2),
        raw_fields=list(cxengage.RAW_FIELDS),
        parsed_from=cxengage.PARSED_FROM,
    )
    assert split.valid["eventId"].tolist() == ["e1", "e7"]
    assert "_wire_error" not in split.valid.columns
    reasons = {
        orjson.loads(r)["eventId"]: reason
        for r, reason in zip(
            split.quarantine["raw_record"], split.quarantine["reason"], strict=True
        )
    }
    assert reasons == {
        "e2": "missing_required:agentId",
        "e3": "end_before_start",
        "e4": "bad_timestamp:start",
        None: "missing_required:eventId",
        "e6": "bad_value:durationSeconds='abc'",
    }
    assert split.quarantine_rate == pytest.approx(5 / 7)


def test_koreai_same_second_events_keep_api_order_through_the_landed_file(tmp_path) -> None:  # noqa: ANN001
    frame = koreai.parse(
        pd.DataFrame(
            {
                "AgentId": ["a", "a", "a", "a"],
                "EventTime": [
                    "1/2/2026 8:00:01",
                    "1/2/2026 8:00:01",
                    "1/2/2026 8:00:01",
                    "1/2/2026 9:00:00",
                ],
                "Activity": ["acw", "ready", "notready", "logout"],
                "ReasonCode": [None, None, "LUNCH", None],
            }
        ).astype(object),
        "UTC",
    )
    raw_file = tmp_path / "raw.parquet"
    frame.to_parquet(raw_file)
    day = date(2026, 1, 2)
    intervals = vendor_intervals(
        koreai.EVENTS,
        lambda **options: pq.read_table(raw_file, **options),
        "acct",
        day,
        datetime(2026, 1, 3, tzinfo=UTC),
    )
    rows = intervals.select(["state", "reason", "duration_s", "tenant_id"]).to_pylist()
    assert rows == [
        {"state": "ACW", "reason": None, "duration_s": 0.0, "tenant_id": "acct"},
        {"state": "READY", "reason": None, "duration_s": 0.0, "tenant_id": "acct"},
        {"state": "NOT_READY", "reason": "LUNCH", "duration_s": 3599.0, "tenant_id": "acct"},
        {"state": "LOGGED_OUT", "reason": None, "duration_s": 54000.0, "tenant_id": "acct"},
    ]


@pytest.mark.parametrize(
    ("times", "latest", "suspected"),
    [
        (["3/8/2026 0:05:00", "3/8/2026 23:59:59"], 23, False),
        (["3/8/2026 1:00:00", "3/8/2026 12:30:00", "3/8/2026 9:15:00"], 12, True),
        (["garbage", None], None, False),
    ],
)
def test_a_kore_day_whose_hours_never_pass_12_is_flagged(
    times: list, latest: int | None, suspected: bool
) -> None:
    """No AM/PM in EventTime: a day within 0..12 could be a 12-hour clock (docs/vendors.md, Kore.ai)."""
    table = pa.table({"EventTime": pa.array(times, pa.string())})
    flags = clock_hours(table)
    assert flags == {"event_time_max_hour": latest, "twelve_hour_clock_suspected": suspected}
