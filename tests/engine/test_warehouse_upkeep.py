"""`agentstate expire-snapshots` keeps the warehouse small after months of incremental runs:
it merges their small files and drops the rows their delete files mark, without changing any
table, and deletes the replaced files once no kept snapshot needs them."""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from agentstate_etl.marts.update import update_warehouse
from agentstate_etl.warehouse.maintenance import deletable_before, expire_snapshots
from agentstate_etl.warehouse.session import open_session
from tests.engine.landed_days import engine_settings, land_day
from tests.warehouse import tables

DAYS = [date(2026, 3, 2) + timedelta(days=i) for i in range(7)]
UPDATES = 24
METADATA = "__ducklake_metadata_warehouse"  # the catalog's tables, as a session names them


def ready(day: date, update: int) -> dict[str, tuple[datetime, datetime]]:
    """Three agents READY for a while; the `update`th re-landing shifts their spans."""
    start = datetime(day.year, day.month, day.day, 8, tzinfo=UTC) + timedelta(minutes=update)
    return {f"a{n}": (start + timedelta(hours=n), start + timedelta(hours=n + 4)) for n in range(3)}


def live_files(home: Path) -> tuple[int, int]:
    """The data files and delete files a reader of the current snapshot opens."""
    settings = engine_settings(home)
    with closing(open_session(settings.warehouse, read_only=True)) as con:
        found = con.execute(
            f"SELECT (SELECT count(*) FROM {METADATA}.ducklake_data_file "
            f"WHERE end_snapshot IS NULL), (SELECT count(*) FROM {METADATA}.ducklake_delete_file "
            f"x JOIN {METADATA}.ducklake_data_file d USING (data_file_id) "
            "WHERE x.end_snapshot IS NULL AND d.end_snapshot IS NULL)"
        ).fetchone()
    assert found is not None
    return int(found[0]), int(found[1])


def files_on_disk(home: Path) -> int:
    return sum(1 for path in (home / "warehouse").rglob("*.parquet") if path.is_file())


def inlined_rows(home: Path) -> int:
    """Rows of small commits the catalog holds itself (DuckLake's data inlining), live now."""
    settings = engine_settings(home)
    with closing(open_session(settings.warehouse, read_only=True)) as con:
        names = con.execute(f"SELECT table_name FROM {METADATA}.ducklake_inlined_data_tables")
        return sum(
            int(
                con.execute(
                    f'SELECT count(*) FROM {METADATA}."{name}" WHERE end_snapshot IS NULL'
                ).fetchone()[0]
            )  # type: ignore[index]
            for (name,) in names.fetchall()
        )


def test_upkeep_after_many_incremental_updates_compacts_and_changes_no_table(
    tmp_path: Path,
) -> None:
    settings = engine_settings(tmp_path)
    update_warehouse(settings, [land_day(settings, day, ready(day, 0)) for day in DAYS])
    for update in range(1, UPDATES + 1):  # one day re-landed and updated at a time
        day = DAYS[update % len(DAYS)]
        update_warehouse(settings, [land_day(settings, day, ready(day, update))])
    before = tables(settings.warehouse)
    on_disk_before = files_on_disk(tmp_path)
    deletes_before, inlined_before = live_files(tmp_path)[1], inlined_rows(tmp_path)
    with closing(open_session(settings.warehouse, read_only=True)) as con:
        old = con.execute("SELECT min(snapshot_id) + 3 FROM ducklake_snapshots('warehouse')")
        old_id = int(old.fetchone()[0])  # type: ignore[index]
        then = con.execute(f"SELECT * FROM mart_state_totals_daily AT (VERSION => {old_id})")
        then_rows = sorted(then.fetchall(), key=repr)
    assert deletes_before > 0 and inlined_before > 50
    assert on_disk_before > 4 * len(before)  # many small files

    # within the retention: compacted, and every snapshot still reads what it read
    kept = expire_snapshots(settings.warehouse)
    assert kept.snapshots == 0 and kept.rows_flushed >= inlined_before
    assert kept.files_rewritten + kept.files_merged > kept.files_created > 0
    (data_after, deletes_after), inlined_after = live_files(tmp_path), inlined_rows(tmp_path)
    assert (deletes_after, inlined_after) == (0, 0) and data_after <= len(before)
    assert tables(settings.warehouse) == before
    with closing(open_session(settings.warehouse, read_only=True)) as con:
        again = con.execute(f"SELECT * FROM mart_state_totals_daily AT (VERSION => {old_id})")
        assert sorted(again.fetchall(), key=repr) == then_rows
    assert kept.files_deleted == 0  # the replaced files wait out the grace

    # a month later: the old snapshots expire and every file only they needed is deleted
    later = expire_snapshots(settings.warehouse, now=datetime.now(UTC) + timedelta(days=31))
    assert later.snapshots > UPDATES and later.files_deleted > 0
    assert tables(settings.warehouse) == before
    assert files_on_disk(tmp_path) == data_after < on_disk_before / 4


def test_files_are_deleted_from_the_day_after_they_were_replaced() -> None:
    """At least an hour later; never on the day itself (see `deletable_before`)."""
    at = datetime(2026, 3, 9, 0, 30, tzinfo=UTC)
    assert deletable_before(at) == datetime(2026, 3, 7, tzinfo=UTC)
    assert deletable_before(at + timedelta(hours=1)) == datetime(2026, 3, 8, tzinfo=UTC)
