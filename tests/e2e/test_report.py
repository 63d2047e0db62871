"""`agentstate report` as a user runs it."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from agentstate_etl.cli import app
from tests.e2e.conftest import DAYS, Backfill

SYNTHETIC_ADHERENCE = Path(__file__).with_name("synthetic_adherence.sql")


def with_adherence(home: Path) -> None:
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute(SYNTHETIC_ADHERENCE.read_text())


def without_adherence(home: Path) -> None:
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute("DROP TABLE IF EXISTS mart_adherence_daily")
        con.execute("DROP TABLE IF EXISTS mart_adherence_exceptions")


def report(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["report", *args])
    return result.exit_code, result.output


def test_report_is_one_self_contained_file(warehouse_home: Path) -> None:
    code, output = report()
    assert code == 0, output
    page = Path(output.strip()).read_text()
    assert "Plotly.newPlot" in page
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=", page, re.I)
    assert "@import" not in page


def test_adherence_section_only_when_the_table_exists(warehouse_home: Path) -> None:
    without_adherence(warehouse_home)
    code, output = report()
    assert code == 0, output
    assert 'id="adherence"' not in Path(output.strip()).read_text()
    with_adherence(warehouse_home)
    code, output = report()
    assert code == 0, output
    page = Path(output.strip()).read_text()
    assert 'id="adherence"' in page
    assert "Out-of-adherence time by scheduled activity" in page


def test_range_names_the_file_and_limits_the_days(warehouse_home: Path, backfill: Backfill) -> None:
    start, end = DAYS[1], DAYS[3]
    code, output = report("--start", start.isoformat(), "--end", end.isoformat())
    assert code == 0, output
    path = Path(output.strip())
    assert path.name == f"report-{start}-{end}.html"
    agent_days = backfill.query(
        f"SELECT count(*) AS n FROM mart_state_totals_daily "
        f"WHERE day >= DATE '{start}' AND day < DATE '{end}'"
    )["n"][0]
    page = path.read_text()
    assert f"{agent_days:,} agent-days" in page
    assert str(DAYS[0]) not in re.sub(r"<script.*?</script>", "", page, flags=re.S)


def test_clear_errors_without_a_warehouse_or_rows(warehouse_home: Path) -> None:
    code, output = report("--start", "2020-01-01", "--end", "2020-01-08")
    assert code == 1
    assert "no agent-days" in output and f"holds {DAYS[0]}" in output
    code, output = report("--start", DAYS[2].isoformat(), "--end", DAYS[1].isoformat())
    assert code == 1 and "exclusive" in output
    (warehouse_home / "warehouse.duckdb").unlink()
    code, output = report()
    assert code == 1 and "agentstate backfill" in output
    assert not (warehouse_home / "reports").exists()
