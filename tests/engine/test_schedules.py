"""Schedule files: every quarantine reason, the quarantine-rate bar, formats, replacement."""

from __future__ import annotations

import dataclasses
import os
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from agentstate_etl import schedules
from agentstate_etl.errors import ValidationError
from agentstate_etl.settings import Settings

DAY = date(2026, 3, 8)
COLUMNS = list(schedules.SCHEDULE_COLUMNS)
GOOD = [
    ("cxone", "t1", "a1", "Open", "2026-03-08T13:00:00Z", "2026-03-08T15:00:00Z"),
    ("cxone", "t1", "a1", "Break", "2026-03-08T15:00:00Z", "2026-03-08T15:15:00Z"),
    ("cxone", "t1", "a1", "Open", "2026-03-08T11:15:00-04:00", "2026-03-08T17:00:00+00:00"),
    ("cxone", "t1", "a2", "Open", "2026-03-08T13:00:00+0000", "2026-03-08T21:00:00Z"),
    ("cxone", "t2", "a1", "Open", "2026-03-08T14:00:00Z", "2026-03-08T16:00:00Z"),  # other tenant
    ("koreai", "t1", "a1", "Open", "2026-03-08T14:00:00Z", "2026-03-08T16:00:00Z"),
]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path,
        dagster_home=tmp_path / "dagster",
        report_tz="UTC",
        drift_tolerance_s=2.0,
        lookback_hours=12,
        max_quarantine_rate=1.0,
    )


def write(folder: Path, day: date, rows: list[tuple], suffix: str = "csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    path = folder / f"{day.isoformat()}.{suffix}"
    if suffix == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


def land(settings: Settings, rows: list[tuple], suffix: str = "csv") -> schedules.ScheduleLanding:
    write(settings.schedules, DAY, rows, suffix)
    (pending,) = schedules.pending(settings)
    return schedules.land_file(pending, settings)


def quarantined(settings: Settings) -> pd.DataFrame:
    return settings.lake.read(schedules.QUARANTINE, schedules.schedule_key(DAY)).to_pandas()


def test_valid_rows_land_in_utc(settings: Settings) -> None:
    landing = land(settings, GOOD)
    assert (landing.rows, landing.valid, landing.quarantined, landing.agents) == (6, 6, 0, 4)
    segments = schedules.landed_segments(settings).to_pandas()
    assert segments["start_ts"].iloc[2] == pd.Timestamp("2026-03-08T15:15:00Z")
    assert set(segments["schedule_day"]) == {DAY}
    assert quarantined(settings).empty


@pytest.mark.parametrize(
    ("bad_row", "reason"),
    [
        (
            ("cxone", "t1", "a3", None, "2026-03-08T13:00:00Z", "2026-03-08T14:00:00Z"),
            "missing_required:activity",
        ),
        (
            ("cxone", "t1", "", "Open", "2026-03-08T13:00:00Z", "2026-03-08T14:00:00Z"),
            "missing_required:agent_id",
        ),
        (
            ("cxone", None, "a3", "Open", "2026-03-08T13:00:00Z", "2026-03-08T14:00:00Z"),
            "missing_required:tenant_id",
        ),
        (("cxone", "t1", "a3", "Open", None, "2026-03-08T14:00:00Z"), "missing_required:start_ts"),
        (
            ("cxone", "t1", "a3", "Open", "2026-03-08T13:00:00", "2026-03-08T14:00:00Z"),
            "bad_timestamp:start_ts",
        ),
        (
            ("cxone", "t1", "a3", "Open", "2026-03-08", "2026-03-08T14:00:00Z"),  # a date only
            "bad_timestamp:start_ts",
        ),
        (("cxone", "t1", "a3", "Open", "2026-03-08T13:00:00Z", "tomorrow"), "bad_timestamp:end_ts"),
        (
            ("cxone", "t1", "a3", "Open", "2026-02-30T13:00:00Z", "2026-03-08T14:00:00Z"),
            "bad_timestamp:start_ts",
        ),
        (
            ("cxone", "t1", "a3", "Open", "2026-03-08T14:00:00Z", "2026-03-08T13:00:00Z"),
            "end_before_start",
        ),
        (
            ("avaya", "t1", "a3", "Open", "2026-03-08T13:00:00Z", "2026-03-08T14:00:00Z"),
            "bad_value:vendor",
        ),
    ],
)
def test_each_bad_row_is_quarantined_with_its_reason(
    settings: Settings, bad_row: tuple, reason: str
) -> None:
    landing = land(settings, [*GOOD, bad_row])
    assert (landing.valid, landing.quarantined) == (len(GOOD), 1)
    (row,) = quarantined(settings).itertuples()
    assert row.reason.startswith(reason)
    assert landing.quarantine_reasons == {reason.split(":")[0]: 1}
    assert '"a3"' in row.raw_record or '"agent_id":null' in row.raw_record
    assert row.source_file == f"{DAY}.csv"


def test_overlapping_segments_of_one_agent_are_all_quarantined(settings: Settings) -> None:
    overlapping = [
        ("cxone", "t1", "a9", "Open", "2026-03-08T13:00:00Z", "2026-03-08T15:00:00Z"),
        ("cxone", "t1", "a9", "Lunch", "2026-03-08T14:30:00Z", "2026-03-08T15:30:00Z"),
        ("cxone", "t1", "a9", "Open", "2026-03-08T15:30:00Z", "2026-03-08T17:00:00Z"),  # touches
        ("cxone", "t1", "a8", "Open", "2026-03-08T13:00:00Z", "2026-03-08T18:00:00Z"),
        ("cxone", "t1", "a8", "Meeting", "2026-03-08T14:00:00Z", "2026-03-08T14:00:00Z"),  # inside
    ]
    landing = land(settings, overlapping)
    assert landing.quarantined == 4
    assert set(quarantined(settings)["reason"]) == {"overlapping_segment"}
    kept = schedules.landed_segments(settings).to_pandas()
    assert list(kept["activity"]) == ["Open"] and kept["agent_id"].iloc[0] == "a9"


def test_every_reason_of_a_row_is_given(settings: Settings) -> None:
    land(settings, [("cxone", None, "", "Open", "garbage", "2026-03-08T14:00:00Z")])
    reasons = quarantined(settings)["reason"].iloc[0].split("; ")
    assert set(reasons) == {
        "missing_required:tenant_id",
        "missing_required:agent_id",
        "bad_timestamp:start_ts",
    }


def test_a_file_past_the_quarantine_rate_fails_and_keeps_the_landed_day(
    settings: Settings,
) -> None:
    land(settings, GOOD)
    strict = dataclasses.replace(settings, max_quarantine_rate=0.1)
    bad = ("cxone", "t1", "a3", "Open", "2026-03-08T14:00:00Z", "2026-03-08T13:00:00Z")
    write(strict.schedules, DAY, [*GOOD[:3], bad])
    (pending,) = schedules.pending(strict)
    with pytest.raises(ValidationError, match="AGENTSTATE_MAX_QUARANTINE_RATE") as error:
        schedules.land_file(pending, strict)
    assert f"{DAY}.csv" in str(error.value) and "end_before_start" in str(error.value)
    assert schedules.landed_segments(strict).num_rows == len(GOOD)  # the old export stays
    assert schedules.pending(strict) == [pending]  # still to do once the file is fixed


def test_a_file_without_a_required_column_fails_naming_it(settings: Settings) -> None:
    path = settings.schedules / f"{DAY}.csv"
    path.parent.mkdir(parents=True)
    pd.DataFrame(GOOD, columns=COLUMNS).drop(columns=["activity"]).to_csv(path, index=False)
    (pending,) = schedules.pending(settings)
    with pytest.raises(ValidationError, match="activity"):
        schedules.land_file(pending, settings)


def test_a_new_file_for_a_day_replaces_the_old_one(settings: Settings) -> None:
    land(settings, GOOD)
    assert schedules.pending(settings) == []
    landing = land(settings, GOOD[:2])  # a re-export with fewer rows
    assert landing.valid == 2
    assert schedules.landed_segments(settings).num_rows == 2
    other_day = date(2026, 3, 9)
    write(settings.schedules, other_day, GOOD[3:])
    (pending,) = schedules.pending(settings)
    assert pending.day == other_day
    schedules.land_file(pending, settings)
    assert schedules.landed_segments(settings).num_rows == 2 + 3


def test_the_newest_of_a_csv_and_a_parquet_file_for_a_day_wins(settings: Settings) -> None:
    csv = write(settings.schedules, DAY, GOOD[:1])
    parquet = write(settings.schedules, DAY, GOOD, "parquet")
    os.utime(csv, ns=(1, 1))
    (newest,) = schedules.inbox(settings.schedules)
    assert newest.path == parquet
    os.utime(parquet, ns=(0, 0))
    (newest,) = schedules.inbox(settings.schedules)
    assert newest.path == csv


def test_other_files_in_the_folder_are_left_alone(settings: Settings) -> None:
    write(settings.schedules, DAY, GOOD)
    (settings.schedules / "README.txt").write_text("not a schedule")
    (settings.schedules / "2026-3-8.csv").write_text("not a day")
    (settings.schedules / ".2026-03-09.csv.tmp").write_text("half written")
    assert [f.day for f in schedules.inbox(settings.schedules)] == [DAY]


def test_parquet_with_typed_timestamps(settings: Settings) -> None:
    frame = pd.DataFrame(GOOD[:2], columns=COLUMNS)
    zoned = {
        c: pd.to_datetime(frame[c], utc=True).dt.tz_convert("America/New_York")
        for c in ("start_ts", "end_ts")
    }
    settings.schedules.mkdir(parents=True)
    pq.write_table(
        pa.Table.from_pandas(frame.assign(**zoned)), settings.schedules / f"{DAY}.parquet"
    )
    (pending,) = schedules.pending(settings)
    landing = schedules.land_file(pending, settings)
    assert landing.valid == 2
    naive = {c: zoned[c].dt.tz_localize(None) for c in zoned}
    pq.write_table(
        pa.Table.from_pandas(frame.assign(**naive)), settings.schedules / f"{DAY}.parquet"
    )
    (pending,) = schedules.pending(settings)
    landing = schedules.land_file(pending, settings)
    assert landing.quarantined == 2  # a time without a zone cannot be placed
    assert set(quarantined(settings)["reason"]) == {"bad_timestamp:start_ts; bad_timestamp:end_ts"}


def test_unknown_activities_are_counted(settings: Settings) -> None:
    rows = [
        *GOOD,
        ("cxone", "t1", "a5", "Coaching", "2026-03-08T13:00:00Z", "2026-03-08T14:00:00Z"),
    ]
    assert land(settings, rows).unknown_activities == {"Coaching": 1}


def test_segments_from_different_files_that_overlap_are_found(settings: Settings) -> None:
    night = ("cxone", "t1", "a1", "Open", "2026-03-08T22:00:00Z", "2026-03-09T06:00:00Z")
    land(settings, [night])
    write(
        settings.schedules,
        date(2026, 3, 9),
        [("cxone", "t1", "a1", "Open", "2026-03-09T05:00:00Z", "2026-03-09T09:00:00Z")],
    )
    (pending,) = schedules.pending(settings)
    schedules.land_file(pending, settings)
    overlaps = schedules.cross_file_overlaps(schedules.landed_segments(settings))
    assert list(overlaps["schedule_day"]) == [DAY, date(2026, 3, 9)]


def test_an_older_read_of_a_file_never_replaces_its_newer_landing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run reads the file; while it validates, the tool rewrites the file and another run
    lands the new content. The first run's landing, older, does not replace it."""
    write(settings.schedules, DAY, GOOD)
    (scanned,) = schedules.inbox(settings.schedules)
    validate = schedules.validate

    def meanwhile(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(schedules, "validate", validate)
        write(settings.schedules, DAY, GOOD[:2])  # the tool rewrites the file
        (new,) = schedules.inbox(settings.schedules)
        schedules.land_file(new, settings)  # another run lands it
        return validate(*args, **kwargs)

    monkeypatch.setattr(schedules, "validate", meanwhile)
    schedules.land_file(scanned, settings)  # read the whole file before the rewrite
    assert schedules.landed_segments(settings).num_rows == 2
    assert schedules.pending(settings) == []
