"""Pandera validation that splits records into valid rows and quarantine rows with reasons.

Every failing row is kept, in quarantine, with the check it failed and the raw record as
JSON; nothing is dropped silently. A record whose own time lies outside the window that was
fetched is quarantined too (`outside_window`): a vendor that ignores the range must not
put a 1970 or 9999 record into the day. Schema-level failures (a whole column of the wrong
type) are not a row problem and raise `ValidationError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import orjson
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
from pandera.typing import Series

from agentstate_etl.canonical import (
    BAD_TIMESTAMP,
    BAD_VALUE,
    END_BEFORE_START,
    MISSING_REQUIRED,
    OUTSIDE_WINDOW,
    OVERLAPPING_SEGMENT,
)
from agentstate_etl.errors import ValidationError

WIRE_ERROR = "_wire_error"
# the parsed column every vendor model has: the record's own time (an interval's start, an
# event's timestamp)
OWN_TIME = "start_ts"
QUARANTINE_COLUMNS = ("vendor", "tenant_id", "partition_date", "reason", "raw_record")
# what an error message quotes of quarantined rows: a few, each cut short
SAMPLE_ROWS = 3
SAMPLE_CHARS = 200


@dataclass(frozen=True)
class Split:
    valid: pd.DataFrame
    quarantine: pd.DataFrame
    total: int
    valid_mask: np.ndarray  # by position in the validated frame

    @property
    def quarantine_rate(self) -> float:
        return len(self.quarantine) / self.total if self.total else 0.0


def reject_sample(
    quarantine: pd.DataFrame, rows: int = SAMPLE_ROWS, chars: int = SAMPLE_CHARS
) -> list[dict[str, str]]:
    """The first quarantined rows (reason and raw record) for an error message, each text cut
    to `chars`: one malformed record can be megabytes, and a log line need not be."""
    return [
        {column: _cut(str(value), chars) for column, value in row.items()}
        for row in quarantine.head(rows)[["reason", "raw_record"]].to_dict("records")
    ]


def _cut(text: str, chars: int) -> str:
    return (
        text if len(text) <= chars else f"{text[:chars]}... ({len(text) - chars} more characters)"
    )


def end_not_before_start(df: pd.DataFrame) -> pd.Series:
    """Row check for models with `start_ts`/`end_ts`: a missing side is reported as such
    (missing or bad timestamp), not as an end before the start."""
    return df["end_ts"].isna() | df["start_ts"].isna() | (df["end_ts"] >= df["start_ts"])


class VendorRecord(pa.DataFrameModel):
    """What every vendor's landed record has: a parsed UTC start (`start_ts`); each vendor's
    model adds its own required columns. Columns no model names stay as landed."""

    start_ts: Series[pd.DatetimeTZDtype("ms", "UTC")] = pa.Field(nullable=False)  # type: ignore[valid-type]

    class Config:
        strict = False


class VendorInterval(VendorRecord):
    """A record that states its end (`end_ts`, null while open), never before its start."""

    end_ts: Series[pd.DatetimeTZDtype("ms", "UTC")] = pa.Field(nullable=True)  # type: ignore[valid-type]

    @pa.dataframe_check(name="end_before_start")
    def end_not_before_start(cls, df: pd.DataFrame) -> pd.Series:
        return end_not_before_start(df)


def outside_window(own_time: pd.Series, start: datetime, end: datetime) -> np.ndarray:
    """Rows whose (parsed, UTC) time is known and not in `[start, end)`."""
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    return (own_time.notna() & ((own_time < lo) | (own_time >= hi))).to_numpy()


def _row_reasons(
    failures: pd.DataFrame, frame: pd.DataFrame, parsed_from: dict[str, str]
) -> dict[object, list[str]]:
    reasons: dict[object, list[str]] = {}
    for index, column, check in failures[["index", "column", "check"]].itertuples(index=False):
        if check == "not_nullable":
            field = parsed_from.get(column, column)
            raw_present = column in parsed_from and pd.notna(frame.at[index, field])
            reason = f"{BAD_TIMESTAMP if raw_present else MISSING_REQUIRED}:{field}"
        elif (
            column is None
            or check in {END_BEFORE_START, OVERLAPPING_SEGMENT}
            or not isinstance(column, str)
        ):
            reason = str(check)
        else:
            reason = f"{BAD_VALUE}:{column}:{check}"
        row = reasons.setdefault(index, [])
        if reason not in row:
            row.append(reason)
    return reasons


def split_valid(
    frame: pd.DataFrame,
    model: type[pa.DataFrameModel],
    *,
    vendor: str,
    tenant_id: str,
    partition_date: date,
    raw_fields: list[str],
    parsed_from: dict[str, str],
    raw: pa_arrow.Table | None = None,
    window: tuple[datetime, datetime] | None = None,
) -> Split:
    """Validate `frame` (raw fields plus parsed columns) lazily; quarantine the failing rows.

    `parsed_from` maps each parsed column (e.g. `start_ts`) to the raw field it came from, so a
    null parse of a present value is reported as `bad_timestamp:<field>`, not as missing.
    When `raw` (the fetched table, row for row) is given, `frame` needs only the validated
    columns and quarantined rows are taken from `raw`. When `window` (`[start, end)`, what was
    fetched) is given, a row whose `start_ts` lies outside it is quarantined as `outside_window`.
    """
    reasons: dict[object, list[str]] = {}
    if WIRE_ERROR in frame.columns:
        for index, message in frame[WIRE_ERROR].dropna().items():
            reasons.setdefault(index, []).append(str(message))
    if window is not None:
        for index in frame.index[outside_window(frame[OWN_TIME], *window)]:
            reasons.setdefault(index, []).append(OUTSIDE_WINDOW)
    try:
        model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        failures = errors.failure_cases
        schema_level = failures[failures["index"].isna()]
        if not schema_level.empty:
            summary = "; ".join(
                f"{c}: {k}" for c, k in schema_level[["column", "check"]].itertuples(index=False)
            )
            raise ValidationError(
                f"{vendor} {partition_date}: records do not match the expected shape ({summary})"
            ) from errors
        for index, row_reasons in _row_reasons(failures, frame, parsed_from).items():
            existing = reasons.setdefault(index, [])
            existing.extend(r for r in row_reasons if r not in existing)

    bad_index = pd.Index(list(reasons.keys()))
    if not len(bad_index):
        records = []  # (a take of no rows from a table of many pages still costs a copy)
    elif raw is not None:
        positions = frame.index.get_indexer(bad_index)
        bad_rows = raw.select(raw_fields).take(pa_arrow.array(positions, pa_arrow.int64()))
        records = bad_rows.to_pylist()
    else:
        records = frame.loc[bad_index, raw_fields].to_dict("records")
    raw_records = [
        orjson.dumps({k: (None if pd.isna(v) else v) for k, v in record.items()}).decode()
        for record in records
    ]
    quarantine = pd.DataFrame(
        {
            "vendor": vendor,
            "tenant_id": tenant_id,
            "partition_date": partition_date,
            "reason": ["; ".join(reasons[i]) for i in bad_index],
            "raw_record": raw_records,
        },
        columns=list(QUARANTINE_COLUMNS),
    )
    valid_mask = ~frame.index.isin(bad_index)
    valid = frame[valid_mask] if len(bad_index) else frame
    if WIRE_ERROR in valid.columns:
        valid = valid.drop(columns=[WIRE_ERROR])
    return Split(valid=valid, quarantine=quarantine, total=len(frame), valid_mask=valid_mask)
