"""Standard reason groups: the vendors' not-ready reasons (`LUNCH`, `Lunch`, ...) mapped to one
vocabulary for analysts, from a data file a deployment can replace without code changes.

The file is `reason_mapping.csv` beside this module (columns vendor, reason, reason_group);
`AGENTSTATE_REASON_MAPPING` may point at a replacement. `reason` itself always stays the
vendor's; an unmapped reason is its own group.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from agentstate_etl.errors import ConfigError

DEFAULT_REASON_MAPPING = Path(__file__).with_name("reason_mapping.csv")
COLUMNS = ["vendor", "reason", "reason_group"]


@lru_cache(maxsize=4)
def _load(path: str) -> pa.Table:
    try:
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(COLUMNS, pa.string())),
        )
    except (OSError, pa.ArrowInvalid) as exc:
        raise ConfigError(f"AGENTSTATE_REASON_MAPPING: cannot read {path}: {exc}") from exc
    if table.column_names != COLUMNS:
        raise ConfigError(f"AGENTSTATE_REASON_MAPPING: {path} must have columns {COLUMNS}")
    keys = list(zip(table["vendor"].to_pylist(), table["reason"].to_pylist(), strict=True))
    if len(set(keys)) != len(keys):
        raise ConfigError(f"AGENTSTATE_REASON_MAPPING: {path} maps a (vendor, reason) twice")
    return table


def reason_groups() -> pa.Table:
    """The (vendor, reason, reason_group) table the marts join on."""
    return _load(os.environ.get("AGENTSTATE_REASON_MAPPING") or str(DEFAULT_REASON_MAPPING))
