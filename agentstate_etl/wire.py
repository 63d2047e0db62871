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

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _convert(value: Any, kind: pa.DataType) -> tuple[Any, bool]:
    """(converted value, ok) for one value the columnar paths could not convert.

    A number where text is expected is fine (ids sent as integers); text, a boolean or an
    object where a number is expected is not: the vendor's format changed, so the row is
    flagged rather than guessed at.
    """
    if value is None:
        return None, True
    if pa.types.is_string(kind):
        if isinstance(value, str):
            return value, True
        if isinstance(value, list | dict):
            try:
                return orjson.dumps(value).decode(), True
            except (orjson.JSONEncodeError, TypeError):
                return None, False
        if _number(value):
            return str(value), True
        return None, False
    if pa.types.is_integer(kind):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return (value, True) if INT64_MIN <= value <= INT64_MAX else (None, False)
        return None, False
    if pa.types.is_floating(kind):
        if _number(value):
            try:
                return float(value), True
            except OverflowError:
                return None, False
        return None, False
    return None, False


def _column(name: str, values: list[Any], kind: pa.DataType, errors: list[str | None]) -> pa.Array:
    """One column of `kind`: columnar when every value converts, else value by value."""
    try:
        # inferred first, so the same rules apply as to a page Arrow parsed
        inferred = pa.array(values)
        if pa.types.is_floating(inferred.type) and any(type(v) is bool for v in values):
            raise pa.ArrowInvalid("booleans among numbers")  # inference took False as 0.0
        return _arrow_column(inferred, kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
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


def _json_faithful(values: pa.Array) -> bool:
    """Whether `to_pylist()` gives back what was sent: Arrow infers ISO-looking text as
    timestamps and fills keys missing from some objects with nulls, so those go value by value.
    """
    kind = values.type
    if pa.types.is_temporal(kind):
        return False
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _json_faithful(values.flatten())
    if pa.types.is_struct(kind):
        children = values.flatten()  # a null object makes its fields null too: conservative
        return all(child.null_count == 0 and _json_faithful(child) for child in children)
    return True


def _arrow_column(values: pa.Array, kind: pa.DataType) -> pa.Array:
    """Values as Arrow parsed or inferred them, as `kind`, or ArrowInvalid to go value by value.

    Casts that would change what the vendor sent are refused: text to numbers, booleans to
    anything, floats to text (`1e3` would read `1000`) and timestamps Arrow inferred from
    text (`...T05:06:07Z` would come back as `... 05:06:07`).
    """
    if values.type == kind:
        return values
    source = values.type
    if pa.types.is_null(source):
        return pa.nulls(len(values), kind)
    if pa.types.is_nested(source):
        if not pa.types.is_string(kind):
            raise pa.ArrowInvalid(f"{source} is not {kind}")
        only_empty_lists = (
            pa.types.is_list(source)
            and values.null_count == 0
            and pc.max(pc.list_value_length(values)).as_py() in (0, None)
        )
        if only_empty_lists:
            return pa.array(["[]"] * len(values), type=kind)
        if not _json_faithful(values):
            raise pa.ArrowInvalid(f"{source} would not round-trip as JSON")
        return pa.array(
            [None if v is None else orjson.dumps(v).decode() for v in values.to_pylist()],
            type=kind,
        )
    refused = (
        pa.types.is_temporal(source)
        or pa.types.is_boolean(source)
        or (pa.types.is_string(source) or pa.types.is_large_string(source))
        and not pa.types.is_string(kind)
        or pa.types.is_floating(source)
        and pa.types.is_string(kind)
    )
    if refused:
        raise pa.ArrowInvalid(f"{source} is not {kind}")
    return values.cast(kind)  # integer ids to text, int64 to double, whole doubles to int64


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
