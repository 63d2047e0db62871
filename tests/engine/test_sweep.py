"""The lake's sweep: objects no manifest names go after the grace period, nothing else."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from agentstate_etl import lake
from agentstate_etl.sweep import sweep_lake

KEY = lake.PartitionKey("cxengage", "t-1", date(2026, 3, 6))
NEVER_COMMITTED = lake.PartitionKey("cxengage", "t-1", date(2026, 3, 7))
HOUR = 3600.0


def leftover(root: Path, dataset: str, key: lake.PartitionKey, name: str, age_s: float) -> Path:
    """A data object a killed run wrote and never committed, `age_s` seconds old."""
    path = root / dataset / key.path() / f"part-{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"n": [1]}), path)
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


def test_superseded_objects_past_the_grace_period_go_and_committed_ones_stay(
    tmp_path: Path,
) -> None:
    """Repeated kills leave objects of partitions never committed again; the sweep removes
    them once past the grace period (a commit only cleans its own partition)."""
    lk = lake.Lake.from_url(tmp_path)
    lk.commit(lake.INTERVALS, KEY, {lake.INTERVALS: pa.table({"n": [1, 2]})})
    lk.commit(lake.RAW, KEY, {lake.RAW: pa.table({"n": [1]}), lake.QUARANTINE: pa.table({"n": []})})
    old = [
        leftover(tmp_path, lake.INTERVALS, KEY, "killed1", 2 * HOUR),
        leftover(tmp_path, lake.RAW, KEY, "killed2", 5 * HOUR),
        leftover(tmp_path, lake.RAW, NEVER_COMMITTED, "killed3", 2 * HOUR),
    ]
    fresh = leftover(tmp_path, lake.INTERVALS, KEY, "writing-now", 60)
    swept = sweep_lake(lk, grace_s=HOUR)
    assert (swept.removed, swept.young, swept.named) == (3, 1, 3)
    assert not any(p.exists() for p in old) and fresh.exists()
    assert lk.read(lake.INTERVALS, KEY).num_rows == 2
    assert lk.read(lake.QUARANTINE, KEY).num_rows == 0
    again = sweep_lake(lk, grace_s=HOUR)
    assert (again.removed, again.young) == (0, 1)
