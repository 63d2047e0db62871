"""Which actual states are in adherence during each scheduled activity (docs/warehouse.md, adherence).

One data file, `activity_mapping.csv` beside this module (`activity, state, reason`, `*` for
any reason), so a deployment extends it without code; `AGENTSTATE_ACTIVITY_MAPPING` names a
replacement. An activity the file does not name allows nothing: its scheduled time is never
in adherence, and the marts count it (`unknown_activity_s`) so a check can warn.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from agentstate_etl.canonical import CANONICAL_STATES
from agentstate_etl.errors import ConfigError

DEFAULT_ACTIVITY_MAPPING = Path(__file__).with_name("activity_mapping.csv")
ANY_REASON = "*"
ACTIVITY_MAPPING_COLUMNS = ("activity", "state", "reason")
ACTIVITY_MAPPING_SCHEMA = pa.schema([(name, pa.string()) for name in ACTIVITY_MAPPING_COLUMNS])


def activity_mapping(path: Path | None = None) -> pa.Table:
    """The rules of `path` (default: the shipped file) as the `activity_mapping` table.

    Every cell is required: a rule without a reason is written with `*`, so a blank cell is
    a mistake rather than a silent "any reason".
    """
    source = path or DEFAULT_ACTIVITY_MAPPING
    where = f"AGENTSTATE_ACTIVITY_MAPPING ({source})" if path else f"activity mapping {source}"
    try:
        frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ConfigError(f"{where} cannot be read as CSV: {exc}") from exc
    if sorted(frame.columns) != sorted(ACTIVITY_MAPPING_COLUMNS):
        raise ConfigError(
            f"{where} must have the columns {', '.join(ACTIVITY_MAPPING_COLUMNS)}, "
            f"got {', '.join(map(str, frame.columns))}"
        )
    frame = frame[list(ACTIVITY_MAPPING_COLUMNS)].apply(lambda column: column.str.strip())
    blank = frame.index[(frame == "").any(axis=1)]
    if len(blank):
        raise ConfigError(
            f"{where}: line {blank[0] + 2} has an empty cell (write * for any reason)"
        )
    unknown = sorted(set(frame["state"]) - set(CANONICAL_STATES))
    if unknown:
        raise ConfigError(
            f"{where} names unknown states {unknown}; expected some of {', '.join(CANONICAL_STATES)}"
        )
    rules = frame.drop_duplicates().reset_index(drop=True)
    return pa.Table.from_pandas(rules, schema=ACTIVITY_MAPPING_SCHEMA, preserve_index=False)
