"""Readers never break a run; a run that fails half-way leaves the previous lake and warehouse."""

from __future__ import annotations

import shutil
from contextlib import closing
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from agentstate_etl import lake
from agentstate_etl.marts import compute
from agentstate_etl.tenants import environment_tenant
from agentstate_etl.warehouse.session import open_session
from tests.e2e.conftest import (
    DAYS,
    Backfill,
    build_warehouse_run,
    range_tags,
    tenant_assets,
    vendor_resources,
)
from tests.warehouse import tables, warehouse_of


@pytest.fixture
def copy_of(backfill: Backfill, tmp_path: Path) -> Path:
    """A private copy of the backfilled lake with its own warehouse, so this test may break it."""
    home = tmp_path / "home"
    shutil.copytree(backfill.home / "lake", home / "lake")
    assert build_warehouse_run(backfill, home).success
    return home


def snapshot(home: Path) -> int:
    with closing(open_session(warehouse_of(home), read_only=True)) as con:
        return int(
            con.execute("SELECT id FROM ducklake_current_snapshot('warehouse')").fetchone()[0]
        )  # type: ignore[index]


def test_a_reader_in_a_transaction_keeps_its_snapshot_while_a_run_commits(
    backfill: Backfill, copy_of: Path
) -> None:
    reader = open_session(warehouse_of(copy_of), read_only=True)
    try:
        reader.execute("BEGIN")
        before = reader.execute("SELECT count(*) FROM agent_state_intervals").fetchone()
        seen = snapshot(copy_of)
        assert build_warehouse_run(backfill, copy_of).success
        assert snapshot(copy_of) > seen
        # the open transaction reads its snapshot, whole; the next one reads the run's
        assert reader.execute("SELECT count(*) FROM agent_state_intervals").fetchone() == before
        reader.execute("COMMIT")
        assert reader.execute("SELECT count(*) FROM agent_state_intervals").fetchone() == before
    finally:
        reader.close()
    assert tables(warehouse_of(copy_of)) == tables(backfill.warehouse)


def test_failed_warehouse_build_leaves_previous_warehouse(
    backfill: Backfill, copy_of: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    before, seen = tables(warehouse_of(copy_of)), snapshot(copy_of)
    broken = tmp_path / "broken-sql"
    shutil.copytree(compute.SQL_DIR, broken)
    (broken / "35_broken.sql").write_text("SELECT * FROM a_table_that_does_not_exist;")
    monkeypatch.setattr(compute, "SQL_DIR", broken)
    result = build_warehouse_run(backfill, copy_of)
    assert not result.success
    assert snapshot(copy_of) == seen  # nothing was committed
    assert tables(warehouse_of(copy_of)) == before
    monkeypatch.undo()
    assert build_warehouse_run(backfill, copy_of).success
    assert tables(warehouse_of(copy_of)) == tables(backfill.warehouse)


def test_failed_partition_write_leaves_previous_lake_and_rerun_is_identical(
    backfill: Backfill, copy_of: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    landed = lake.Lake.from_url(copy_of / "lake")

    def committed() -> dict[lake.PartitionKey, lake.Manifest | None]:
        return {k: landed.manifest(lake.RAW, k) for k in landed.partitions(lake.RAW, "cxone")}

    before = committed()
    real_write = pq.write_table
    calls = {"n": 0}

    def fail_second_write(table, where, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full (injected)")
        return real_write(table, where, **kwargs)

    monkeypatch.setattr(pq, "write_table", fail_second_write)
    cxone = environment_tenant("cxone", backfill.env)
    raw_asset = tenant_assets(cxone)[0]
    resources = vendor_resources(backfill.env, copy_of)
    result = dg.materialize(
        [raw_asset],
        resources=resources,
        instance=backfill.instance,
        partition_key=DAYS[1].isoformat(),
        raise_on_error=False,
    )
    assert not result.success
    # the day's manifest still names the previous objects, and they are still there
    assert committed() == before
    for key in before:
        landed.read(lake.RAW, key)
        landed.read(lake.QUARANTINE, key)
    assert not list((copy_of / "lake").rglob("*.tmp"))
    monkeypatch.undo()

    # A re-run of the whole range gives exactly what one clean run gave.
    for tenant in (cxone,):
        assert dg.materialize(
            tenant_assets(tenant),
            resources=resources,
            instance=backfill.instance,
            tags=range_tags(DAYS),
        ).success
    assert build_warehouse_run(backfill, copy_of).success
    assert tables(warehouse_of(copy_of)) == tables(backfill.warehouse)
