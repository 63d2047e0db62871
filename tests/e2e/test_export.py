"""`agentstate export`: a warehouse table, written as CSV or Parquet, reads back as the same rows."""

from __future__ import annotations

import os
from contextlib import closing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentstate_etl.cli import app
from agentstate_etl.warehouse.session import open_session
from tests.warehouse import warehouse_of

READERS = {"csv": "read_csv", "parquet": "read_parquet"}


def export(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["export", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
@pytest.mark.parametrize("table", ["agent_state_intervals", "mart_state_totals_daily"])
def test_export_round_trips_to_the_table(
    warehouse_home: Path, table: str, file_format: str
) -> None:
    code, output = export("--table", table, "--format", file_format)
    assert code == 0, output
    path_text, rows_text = output.strip().split("\t")
    path = Path(path_text)
    assert path == warehouse_home / "exports" / f"{table}.{file_format}"
    with closing(open_session(warehouse_of(warehouse_home), read_only=True)) as con:
        exported = f"{READERS[file_format]}('{path}')"
        count = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        assert rows_text == f"{count} rows" and count > 0
        assert con.execute(f"SELECT count(*) FROM {exported}").fetchall()[0][0] == count
        # names and types (a lake table's columns also say their default)
        assert [r[:2] for r in con.sql(f"DESCRIBE SELECT * FROM {exported}").fetchall()] == [
            r[:2] for r in con.sql(f"DESCRIBE SELECT * FROM {table}").fetchall()
        ]
        for left, right in ((table, exported), (exported, table)):
            differ = con.execute(
                f"SELECT count(*) FROM (FROM {left} EXCEPT ALL FROM {right})"
            ).fetchall()[0][0]
            assert differ == 0, f"{left} has {differ} rows {right} lacks"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no partial file left


def test_out_path_and_overwrite(warehouse_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "bi" / "acw.parquet"
    for _ in range(2):
        code, output = export("--table", "mart_acw_daily", "--format", "parquet", "--out", str(out))
        assert code == 0, output
        assert output.startswith(f"{out}\t")
    assert sorted(p.name for p in out.parent.iterdir()) == ["acw.parquet"]


def test_unknown_table_lists_the_tables(warehouse_home: Path) -> None:
    code, output = export("--table", "mart_nope", "--format", "csv")
    assert code == 1
    assert "mart_nope" in output
    for table in ("agent_state_intervals", "mart_state_totals_daily", "mart_reconciliation"):
        assert table in output
    assert not (warehouse_home / "exports").exists()


def test_bad_format_and_missing_warehouse_are_clear(warehouse_home: Path) -> None:
    code, output = export("--table", "mart_acw_daily", "--format", "xlsx")
    assert code == 1 and "csv, parquet" in output
    (warehouse_home / "warehouse.sqlite").unlink()
    code, output = export("--table", "mart_acw_daily", "--format", "csv")
    assert code == 1 and "agentstate backfill" in output


def test_out_never_replaces_a_device_a_directory_or_a_links_target(
    warehouse_home: Path, tmp_path: Path
) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    directory = tmp_path / "folder"
    directory.mkdir()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    args = ("--table", "mart_acw_daily", "--format", "csv", "--out")
    for out, says in [
        (link, "symbolic link"),
        (directory, "a directory"),
        (fifo, "not a regular file"),
        ("", "empty path"),
    ]:
        code, output = export(*args, str(out))
        assert code == 1 and says in output and "Traceback" not in output, output
        assert len(output.strip().splitlines()) == 1, output
    assert target.read_text() == "keep me" and fifo.exists() and not fifo.is_file()
