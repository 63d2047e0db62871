"""`agentstate export`: one warehouse table as a CSV or Parquet file for BI tools.

DuckDB's COPY writes the file straight from a read-only connection (no rows pass through
Python); it writes to a temporary name beside the target and is renamed over it, so a BI tool
never reads half an export. Timestamps are written in UTC.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from agentstate_etl.errors import ConfigError, WarehouseError
from agentstate_etl.marts.query import read_only, table_names
from agentstate_etl.sql_text import identifier, literal
from agentstate_etl.warehouse.location import WarehouseLocation

# COPY options per format: CSV with a header row, Parquet compressed with zstd.
COPY_OPTIONS = {
    "csv": "FORMAT csv, HEADER true",
    "parquet": "FORMAT parquet, COMPRESSION zstd",
}


@dataclass(frozen=True)
class Export:
    table: str
    format: str
    path: Path
    rows: int


def output_path(out: Path | None, default: Path) -> Path:
    """Where an export may go: a regular file or a new one, never through a symbolic link, a
    directory or a device (the rename would replace a device node, or a link's target)."""
    path = default if out is None else out
    if not str(out if out is not None else default).strip() or path == Path("."):
        raise ConfigError("--out must name a file, got an empty path")
    if path.is_symlink():
        raise ConfigError(f"--out {path} is a symbolic link: it is not followed; name a file")
    path = path.absolute()
    if path.exists() and not path.is_file():
        kind = "a directory" if path.is_dir() else "not a regular file (a device or pipe)"
        raise ConfigError(f"--out {path} is {kind}: name a file to write")
    return path


def export_table(
    warehouse: WarehouseLocation, table: str, file_format: str, out: Path | None, exports_dir: Path
) -> Export:
    """Write `table` to `out` (default `exports_dir/<table>.<format>`) and count its rows."""
    if file_format not in COPY_OPTIONS:
        raise ConfigError(f"--format must be one of {', '.join(COPY_OPTIONS)}, got {file_format!r}")
    path = output_path(out, exports_dir / f"{table}.{file_format}")
    with read_only(warehouse) as con:
        tables = table_names(con)
        if table not in tables:
            raise WarehouseError(
                f"no table {table!r} in the warehouse at {warehouse}; "
                f"tables: {', '.join(tables) or '(none)'}"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
        try:
            # the table name is one the warehouse listed, quoted; the path is a quoted literal
            written = con.execute(
                f"COPY (SELECT * FROM {identifier(table)}) TO {literal(str(temp))} "
                f"({COPY_OPTIONS[file_format]})"
            ).fetchall()
            os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)
    rows = int(written[0][0]) if written else 0
    return Export(table=table, format=file_format, path=path, rows=rows)
