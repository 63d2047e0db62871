"""The local lake's compare-and-swap commit: the same conflict rule as on S3."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from agentstate_etl import lake
from agentstate_etl.errors import LakeConflictError

KEY = lake.PartitionKey("koreai", "acct-1", date(2026, 3, 6))


@pytest.fixture
def racing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[lake.Lake]:
    """A lake whose next commit meets a rival run's commit of KEY (two rows, horizon 10:00),
    landed between its data objects and its manifest."""
    landed, rival = lake.Lake.from_url(tmp_path), lake.Lake.from_url(tmp_path)
    write_table = lake.pq.write_table
    raced: list[bool] = []

    def write_then_race(*args: object, **kwargs: object) -> None:
        write_table(*args, **kwargs)  # type: ignore[arg-type]
        if not raced:
            raced.append(True)
            rival.commit(
                lake.RAW,
                KEY,
                {lake.RAW: pa.table({"n": [1, 2]})},
                {lake.EXTRACTED_AT: "2026-03-07T10:00:00+00:00"},
            )

    monkeypatch.setattr(lake.pq, "write_table", write_then_race)
    yield landed
    monkeypatch.undo()


def files(root: Path) -> list[str]:
    return sorted(f.relative_to(root).as_posix() for f in (root / lake.RAW).rglob("*.parquet"))


def test_a_landing_racing_an_as_fresh_one_keeps_it_and_does_not_fail(
    racing: lake.Lake, tmp_path: Path
) -> None:
    metadata = {lake.EXTRACTED_AT: "2026-03-07T10:00:00+00:00"}
    kept = racing.commit(
        lake.RAW,
        KEY,
        {lake.RAW: pa.table({"n": [3, 4]})},
        metadata,
        supersedes=lake.fresher_raw(metadata),
    )
    assert kept.concurrent and kept.rows == {lake.RAW: 2}
    assert racing.read(lake.RAW, KEY).column("n").to_pylist() == [1, 2]
    assert files(tmp_path) == [racing.object(lake.RAW, KEY)]  # this run's object is gone
    # sequential commits never conflict
    assert not racing.commit(lake.RAW, KEY, {lake.RAW: pa.table({"n": [5]})}).concurrent
    assert racing.read(lake.RAW, KEY).num_rows == 1


def test_a_fresher_landing_is_committed_over_the_one_that_raced_it(
    racing: lake.Lake, tmp_path: Path
) -> None:
    metadata = {lake.EXTRACTED_AT: "2026-03-07T11:00:00+00:00"}  # an hour further
    mine = racing.commit(
        lake.RAW,
        KEY,
        {lake.RAW: pa.table({"n": [3, 4, 5]})},
        metadata,
        supersedes=lake.fresher_raw(metadata),
    )
    assert not mine.concurrent
    assert racing.read(lake.RAW, KEY).column("n").to_pylist() == [3, 4, 5]
    assert racing.metadata(lake.RAW, KEY) == metadata


def test_a_merging_commit_racing_another_run_fails_and_keeps_the_winner(
    racing: lake.Lake, tmp_path: Path
) -> None:
    """A writer that merged what it read (the collector) commits only over what it read."""
    with pytest.raises(LakeConflictError, match="koreai/acct-1/2026-03-06"):
        racing.commit(lake.RAW, KEY, {lake.RAW: pa.table({"n": [3]})}, replaces=None)
    assert racing.read(lake.RAW, KEY).num_rows == 2
    assert files(tmp_path) == [racing.object(lake.RAW, KEY)]


def test_raw_freshness_is_the_horizon_then_a_whole_window() -> None:
    def raw(at: str, **more: str) -> lake.Manifest:
        return lake.Manifest(KEY, lake.RAW, {}, {}, {lake.EXTRACTED_AT: at, **more})

    late, early = "2026-03-07T11:00:00+00:00", "2026-03-07T10:00:00+00:00"
    assert lake.fresher_raw(raw(late).metadata)(raw(early))
    assert not lake.fresher_raw(raw(early).metadata)(raw(late))
    assert not lake.fresher_raw(raw(early).metadata)(raw(early))  # as fresh: theirs stands
    mid_day = raw(early, **{lake.COVERED_FROM: "2026-03-06T09:00:00+00:00"})
    assert lake.fresher_raw(raw(early).metadata)(mid_day)
