"""The Parquet lake: one file per dataset, vendor and partition, written atomically.

Layout: `{lake}/{dataset}/vendor={vendor}/date={YYYY-MM-DD}/{dataset}.parquet`. A partition
re-run replaces its files (never appends); a file is written to a temporary name and renamed,
so a reader never sees half a file and a failed run leaves the previous file in place.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

RAW = "raw"
QUARANTINE = "quarantine"
INTERVALS = "intervals"
SUMMARY = "summary"
SUMMARY_QUARANTINE = "summary_quarantine"
SUMMARY_REQUESTS = "summary_requests"


def partition_file(lake: Path, dataset: str, vendor: str, day: date) -> Path:
    return lake / dataset / f"vendor={vendor}" / f"date={day.isoformat()}" / f"{dataset}.parquet"


def dataset_files(lake: Path, dataset: str, vendor: str | None = None) -> list[Path]:
    """Every partition file of a dataset (optionally one vendor), in a stable order."""
    pattern = (
        f"vendor={vendor}/date=*/{dataset}.parquet" if vendor else f"*/date=*/{dataset}.parquet"
    )
    return sorted((lake / dataset).glob(pattern))


def read_partition(lake: Path, dataset: str, vendor: str, day: date) -> pa.Table:
    path = partition_file(lake, dataset, vendor, day)
    if not path.exists():
        raise FileNotFoundError(
            f"{dataset} for {vendor} {day} is not in the lake ({path}); materialize it first"
        )
    return pq.read_table(path)


def read_metadata(lake: Path, dataset: str, vendor: str, day: date) -> dict[str, str]:
    """The key/value metadata written with a partition file (e.g. its extraction time)."""
    schema = pq.read_schema(partition_file(lake, dataset, vendor, day))
    return {k.decode(): v.decode() for k, v in (schema.metadata or {}).items()}


@contextmanager
def staged_writes() -> Iterator[list[tuple[Path, Path]]]:
    """Collect (temp, final) pairs; rename them all only if the block succeeds.

    Lets one partition write several files so that either all of them replace the previous
    versions or none does.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        yield staged
    except BaseException:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        raise
    for temp, final in staged:
        os.replace(temp, final)


def _text_columns(schema: pa.Schema) -> list[str]:
    """Dictionary-encode text only: numbers and times rarely repeat, and trying costs ~40%."""
    return [f.name for f in schema if pa.types.is_dictionary(f.type) or pa.types.is_string(f.type)]


def stage_table(
    staged: list[tuple[Path, Path]],
    table: pa.Table,
    path: Path,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Write `table` beside `path` under a temporary name and register the rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if metadata:
        merged = dict(table.schema.metadata or {})
        merged.update({k.encode(): v.encode() for k, v in metadata.items()})
        table = table.replace_schema_metadata(merged)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    pq.write_table(table, temp, compression="zstd", use_dictionary=_text_columns(table.schema))
    staged.append((temp, path))
    return path


def write_tables(items: Iterable[tuple[pa.Table, Path, dict[str, str] | None]]) -> None:
    """Atomically replace several partition files at once."""
    with staged_writes() as staged:
        for table, path, metadata in items:
            stage_table(staged, table, path, metadata)
