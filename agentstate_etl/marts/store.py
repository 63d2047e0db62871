"""Where the marts live: Parquet files per table, vendor and day, in immutable generations.

    {marts}/generations/g-{n}/{table}/vendor={v}/day={d}/data_0.parquet
    {marts}/current -> generations/g-{n}

An update writes a new generation: the days it recomputed as new files, every other day
hard-linked from the current generation (no copy), then flips `current` with one atomic
rename of a symlink. Readers (the views of warehouse.duckdb) read through `current`, so they
see the previous generation or the next, never a half-written one, and nobody's open file is
ever replaced. One writer at a time: `writer()` holds an exclusive lock on `{marts}/.lock`
from reading the current generation to the flip, so concurrent updates queue and none loses
another's days. A failed update deletes its unfinished generation; the next writer removes
what a killed one left behind.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

GENERATIONS = "generations"
CURRENT = "current"
SCHEMA_FILE = "_schema.parquet"
KEEP_PREVIOUS = 2  # older generations a slow reader may still be resolving paths into


@dataclass
class Generation:
    """A generation being written: the files of `base` not replaced are linked in at the end."""

    path: Path
    base: Path | None
    replaced: dict[str, set[tuple[str, date]]] = field(default_factory=dict)

    def table_dir(self, table: str) -> Path:
        return self.path / table

    def replace(self, table: str, keys: Iterable[tuple[str, date]]) -> None:
        """Mark (vendor, day) keys of `table` as recomputed: their old files are not carried."""
        self.replaced.setdefault(table, set()).update(keys)

    def adopt(self, table: str, staged: Path) -> None:
        """Move a partitioned COPY's `vendor=/<day>=` folders from `staged` into the table."""
        target = self.table_dir(table)
        for day_dir in sorted(staged.glob("vendor=*/*=*")):
            destination = target / day_dir.parent.name / day_dir.name
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(day_dir, destination)

    def carry(self, tables: Iterable[str], rebuild: bool) -> None:
        """Hard-link every (table, vendor, day) of the base this update did not recompute."""
        if self.base is None or rebuild:
            return
        for table in tables:
            replaced = self.replaced.get(table, set())
            for day_dir in (self.base / table).glob("vendor=*/*=*"):
                key = (day_dir.parent.name.removeprefix("vendor="), _day(day_dir.name))
                destination = self.table_dir(table) / day_dir.parent.name / day_dir.name
                if key in replaced or destination.exists():
                    continue
                destination.mkdir(parents=True)
                for file in day_dir.iterdir():
                    os.link(file, destination / file.name)


def _day(name: str) -> date:
    """The day of a `<column>=YYYY-MM-DD` folder."""
    return date.fromisoformat(name.split("=", 1)[1])


class MartStore:
    """The generations of the marts under one folder; see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def current(self) -> Path:
        """The path readers use; it resolves to the current generation."""
        return self.root / CURRENT

    def current_generation(self) -> Path | None:
        return self.current.resolve() if self.current.is_symlink() else None

    def _generations(self) -> list[Path]:
        return sorted((self.root / GENERATIONS).glob("g-*"))

    def _next_name(self) -> str:
        existing = self._generations()
        number = int(existing[-1].name.split("-")[1]) + 1 if existing else 1
        return f"g-{number:012d}-{uuid.uuid4().hex[:8]}"

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, or the process dies
            yield

    def _flip(self, generation: Path) -> None:
        link = self.root / f".{CURRENT}.{uuid.uuid4().hex}"
        link.symlink_to(Path(GENERATIONS) / generation.name)
        os.replace(link, self.current)

    def _clean(self) -> None:
        """Remove unfinished generations (a killed writer's) and all but the newest old ones."""
        current = self.current_generation()
        finished = [g for g in self._generations() if (g / ".complete").exists()]
        keep = set(finished[-(KEEP_PREVIOUS + 1) :]) | ({current} if current else set())
        for generation in self._generations():
            if generation not in keep:
                shutil.rmtree(generation, ignore_errors=True)
        for leftover in self.root.glob(".current.*"):
            leftover.unlink(missing_ok=True)
        for leftover in self.root.glob(".spill-*"):
            shutil.rmtree(leftover, ignore_errors=True)

    @contextmanager
    def writer(self, tables: Iterable[str], rebuild: bool = False) -> Iterator[Generation]:
        """A new generation, published when the block succeeds; exclusive while it runs."""
        with self._lock():
            self._clean()
            generation = Generation(
                path=self.root / GENERATIONS / self._next_name(), base=self.current_generation()
            )
            generation.path.mkdir(parents=True)
            try:
                yield generation
                generation.carry(tables, rebuild)
                for staging in generation.path.glob(".staging-*"):
                    shutil.rmtree(staging)
                (generation.path / ".complete").touch()
            except BaseException:
                shutil.rmtree(generation.path, ignore_errors=True)
                raise
            self._flip(generation.path)

    @contextmanager
    def spill_dir(self) -> Iterator[Path]:
        """A private folder for DuckDB to spill into, removed after (or by the next writer)."""
        path = self.root / f".spill-{uuid.uuid4().hex}"
        path.mkdir(parents=True)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)
