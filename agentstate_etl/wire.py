"""A page of JSON records → an Arrow table with exactly the expected columns.

The fast path parses the page body straight into Arrow (`pyarrow.json`, C++), so records never
become Python dicts; nested values (lists, objects) are kept as JSON text. A page it cannot
take as is (a value of the wrong type, a record that is not an object) is decoded with orjson
and converted column by column: a bad value becomes null and its row gets a reason in
`_wire_error`, so validation quarantines it with the raw record instead of failing the page
or dropping the value.
"""

from __future__ import annotations

import io
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

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


class PageShapeError(ValueError):
    """The page is not an object holding a list of records under the expected key."""


def _arrow_column(values: pa.Array, kind: pa.DataType) -> pa.Array:
    if values.type == kind:
        return values
    if pa.types.is_null(values.type):
        return pa.nulls(len(values), kind)
    nested = pa.types.is_nested(values.type)
    only_empty_lists = (
        pa.types.is_list(values.type)
        and values.null_count == 0
        and pc.max(pc.list_value_length(values)).as_py() in (0, None)
    )
    if only_empty_lists and pa.types.is_string(kind):
        return pa.array(["[]"] * len(values), type=kind)
    if nested and pa.types.is_string(kind):
        return pa.array(
            [None if v is None else orjson.dumps(v).decode() for v in values.to_pylist()],
            type=kind,
        )
    if nested or pa.types.is_string(values.type) and not pa.types.is_string(kind):
        raise pa.ArrowInvalid(f"{values.type} is not {kind}")
    return values.cast(kind)  # e.g. integer ids to text, int64 to double


def _arrow_page(body: bytes, key: str, fields: dict[str, pa.DataType]) -> tuple[dict, pa.Table]:
    options = pa_json.ReadOptions(block_size=max(len(body) + 16, 1 << 16), use_threads=False)
    parsed = pa_json.read_json(io.BytesIO(body), read_options=options)
    if parsed.num_rows != 1 or key not in parsed.column_names:
        raise PageShapeError(f"expected one object with a {key!r} list")
    column = parsed.column(key).chunk(0)
    if not pa.types.is_list(column.type):
        raise PageShapeError(f"{key!r} is not a list")
    records = column.values
    n = len(records)
    if not (pa.types.is_struct(records.type) or pa.types.is_null(records.type) and n == 0):
        raise pa.ArrowInvalid("records are not objects")
    present = {records.type.field(i).name for i in range(records.type.num_fields)} if n else set()
    columns = {
        name: _arrow_column(records.field(name), kind) if name in present else pa.nulls(n, kind)
        for name, kind in fields.items()
    }
    columns[WIRE_ERROR] = pa.nulls(n, pa.string())
    head = {name: parsed.column(name)[0].as_py() for name in parsed.column_names if name != key}
    return head, pa.table(columns)


def decode_page(body: bytes, key: str, fields: dict[str, pa.DataType]) -> tuple[dict, pa.Table]:
    """(the page's other fields, its records under `key` as a table of `fields`)."""
    try:
        return _arrow_page(body, key, fields)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    page = orjson.loads(body)  # orjson.JSONDecodeError is a ValueError: the caller reports it
    if not isinstance(page, dict) or not isinstance(page.get(key), list):
        raise PageShapeError(f"expected an object with a {key!r} list")
    head = {name: value for name, value in page.items() if name != key}
    return head, page_to_table(page[key], fields)
