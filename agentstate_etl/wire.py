"""JSON records of one page → an Arrow table with exactly the expected columns.

Columns are built whole (one `pa.array` per field); only a column that does not convert falls
back to per-value conversion. A value of the wrong type becomes null and its row gets a
reason in `_wire_error`, so validation quarantines it with the raw record instead of failing
the page or dropping the value.
"""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa

from agentstate_etl.canonical import BAD_VALUE
from agentstate_etl.validation import WIRE_ERROR


def _convert(value: Any, kind: pa.DataType) -> tuple[Any, bool]:
    """(converted value, ok) for one value that the fast path could not convert."""
    if value is None:
        return None, True
    if pa.types.is_string(kind):
        if isinstance(value, str):
            return value, True
        if isinstance(value, list | dict):
            return orjson.dumps(value).decode(), True
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value), True
        return None, False
    if pa.types.is_integer(kind):
        if isinstance(value, int) and not isinstance(value, bool):
            return value, True
        if isinstance(value, float) and value.is_integer():
            return int(value), True
        return None, False
    if pa.types.is_floating(kind):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value), True
        return None, False
    return None, False


def _column(name: str, values: list[Any], kind: pa.DataType, errors: list[str | None]) -> pa.Array:
    try:
        return pa.array(values, type=kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    try:  # e.g. integer ids where strings are expected
        return pa.array(values).cast(kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    converted = []
    for row, value in enumerate(values):
        result, ok = _convert(value, kind)
        converted.append(result)
        if not ok and errors[row] is None:
            errors[row] = f"{BAD_VALUE}:{name}:{type(value).__name__} where {kind} expected"
    return pa.array(converted, type=kind)


def page_to_table(records: list[Any], fields: dict[str, pa.DataType]) -> pa.Table:
    """One page of records as a table of `fields` plus `_wire_error` (null when the row is fine)."""
    errors: list[str | None] = [None] * len(records)
    rows: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        if isinstance(record, dict):
            rows.append(record)
        else:
            rows.append({})
            errors[index] = f"{BAD_VALUE}:record:{type(record).__name__} instead of an object"
    columns = {
        name: _column(name, [row.get(name) for row in rows], kind, errors)
        for name, kind in fields.items()
    }
    columns[WIRE_ERROR] = pa.array(errors, type=pa.string())
    return pa.table(columns)


def empty_table(fields: dict[str, pa.DataType]) -> pa.Table:
    return page_to_table([], fields)


def concat_pages(tables: list[pa.Table], fields: dict[str, pa.DataType]) -> pa.Table:
    return pa.concat_tables(tables) if tables else empty_table(fields)
