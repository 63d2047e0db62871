"""Standard reason groups: the vendors' not-ready reasons (`LUNCH`, `Lunch`, ...) mapped to one
vocabulary for analysts, from a data file a deployment can replace without code changes.

The file is `reason_mapping.csv` beside this module (columns vendor, reason, reason_group);
`AGENTSTATE_REASON_MAPPING` may point at a replacement. `reason` itself always stays the
vendor's; an unmapped reason is its own group.
"""

from __future__ import annotations

import csv
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


# ---- a tenant's reason codes -----------------------------------------------------------------

REASON_NAME_COLUMNS = ["code", "name"]


def reason_names_file(text: str) -> str:
    """The check of a reason-code file setting: a readable CSV `code,name`, each code once."""
    path = Path(text).expanduser().resolve()
    read_reason_names(str(path))
    return str(path)


def read_reason_names(path: str) -> dict[str, str]:
    """Code -> name from a CSV file `code,name` (a vendor that sends reason codes, such as
    Kore.ai's `"1"`, names them here; a code the file lacks stays as sent). Re-read when the
    file changes, so a long-running daemon sees an edit."""
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise ValueError(
            f"must name a readable CSV file (code,name), got {path!r}: {exc.strerror}"
        ) from None
    return _reason_names(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _reason_names(path: str, _mtime_ns: int, _size: int) -> dict[str, str]:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"must name a readable UTF-8 CSV file (code,name), got {path!r}: {exc}"
        ) from None
    if not rows or [c.strip() for c in rows[0]] != REASON_NAME_COLUMNS:
        found = ",".join(rows[0]) if rows else "an empty file"
        raise ValueError(f"must be a CSV file with the header code,name; {path} has {found!r}")
    names: dict[str, str] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise ValueError(f"{path} line {line}: expected a code and a name, got {row!r}")
        code, name = row[0].strip(), row[1].strip()
        if code in names:
            raise ValueError(f"{path} line {line}: code {code!r} is named twice")
        names[code] = name
    return names
