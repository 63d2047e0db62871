"""The local lake's compare-and-swap commit: the same conflict rule as on S3."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from agentstate_etl import lake
from agentstate_etl.errors import LakeConflictError

KEY = lake.PartitionKey("koreai", "acct-1", date(2026, 3, 6))


def test_a_commit_racing_another_run_fails_and_keeps_the_winner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    landed, rival = lake.Lake.from_url(tmp_path), lake.Lake.from_url(tmp_path)
    write_table = lake.pq.write_table
    raced: list[bool] = []

    def write_then_race(*args: object, **kwargs: object) -> None:
        write_table(*args, **kwargs)  # type: ignore[arg-type]
        if not raced:
            raced.append(True)
            rival.commit(lake.INTERVALS, KEY, {lake.INTERVALS: pa.table({"n": [1, 2]})})

    monkeypatch.setattr(lake.pq, "write_table", write_then_race)
    with pytest.raises(LakeConflictError, match="koreai/acct-1/2026-03-06"):
        landed.commit(lake.INTERVALS, KEY, {lake.INTERVALS: pa.table({"n": [3]})})
    monkeypatch.undo()

    assert landed.read(lake.INTERVALS, KEY).num_rows == 2
    files = list((tmp_path / lake.INTERVALS).rglob("*.parquet"))
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        landed.object(lake.INTERVALS, KEY)
    ]
    # sequential commits never conflict
    landed.commit(lake.INTERVALS, KEY, {lake.INTERVALS: pa.table({"n": [4]})})
    assert landed.read(lake.INTERVALS, KEY).num_rows == 1
