"""Vendor timestamp formats parsed once, at the edge, into UTC milliseconds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

UTC_MS = "datetime64[ms, UTC]"


def parse_iso_utc(values: pd.Series) -> pd.Series:
    """ISO-8601 with an offset or `Z` → UTC ms; anything unparseable becomes NaT.

    Arrow's parser (C++, ~4x faster) takes the column when it can read every value; a column
    with anything else (no offset, more than milliseconds, junk) goes to pandas whole, so each
    value is read one way or the other and bad values become NaT."""
    try:
        parsed = pc.cast(pa.array(values, type=pa.string()), pa.timestamp("ms", tz="UTC"))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        parsed = None
    if parsed is not None:
        return parsed.to_pandas().set_axis(values.index).rename(values.name).astype(UTC_MS)
    coerced = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
    return coerced.astype(UTC_MS)


def parse_koreai_event_time(values: pd.Series, zone: str) -> pd.Series:
    """`M/D/YYYY H:MM:SS` (leading zeros optional) in `zone` → UTC ms; bad values become NaT.

    A wall time repeated by a DST fall-back is resolved from the order of the events when
    that is possible, else read as the first (daylight) occurrence; a wall time skipped by
    a spring-forward gap cannot be real and becomes NaT (so it is quarantined).
    """
    local = pd.to_datetime(values, format="%m/%d/%Y %H:%M:%S", errors="coerce")
    if zone == "UTC":
        return local.dt.tz_localize("UTC").astype(UTC_MS)
    try:
        aware = local.dt.tz_localize(zone, ambiguous="infer", nonexistent="NaT")
    except (ValueError, TypeError):
        daylight = np.ones(len(local), dtype=bool)
        aware = local.dt.tz_localize(zone, ambiguous=daylight, nonexistent="NaT")
    return aware.dt.tz_convert("UTC").astype(UTC_MS)
