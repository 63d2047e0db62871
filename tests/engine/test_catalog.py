"""warehouse.duckdb, the views file analysts open: created once, never replaced."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from agentstate_etl.marts import catalog, mart_store, update_warehouse, view_tables
from agentstate_etl.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A home whose marts exist (an empty lake's) but whose views file does not yet."""
    built = Settings(
        home=tmp_path,
        dagster_home=tmp_path / "dagster",
        report_tz="UTC",
        drift_tolerance_s=2.0,
        lookback_hours=12,
        max_quarantine_rate=0.01,
    )
    update_warehouse(built, [])
    built.warehouse.unlink()
    built.warehouse.with_name(f".{built.warehouse.name}.catalog").unlink()
    return built


def test_a_first_build_racing_another_keeps_the_file_an_analyst_already_uses(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs' first builds both find no file; the one that finishes second must not
    replace the file the first one published, in which an analyst has made a table."""
    warehouse, current = settings.warehouse, mart_store(settings).current
    build_views = catalog.create_views
    raced: list[bool] = []

    def another_run_publishes_meanwhile(
        con: duckdb.DuckDBPyConnection, marts: Path, tables: list[str]
    ) -> None:
        build_views(con, marts, tables)
        if not raced:
            raced.append(True)
            assert catalog.ensure_warehouse_file(warehouse, current, view_tables()) is None
            with duckdb.connect(str(warehouse)) as analyst:
                analyst.execute("CREATE TABLE my_notes AS SELECT 42 AS n")

    monkeypatch.setattr(catalog, "create_views", another_run_publishes_meanwhile)
    assert catalog.ensure_warehouse_file(warehouse, current, view_tables()) is None

    assert raced
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT n FROM my_notes").fetchall() == [(42,)]
        assert con.execute("SELECT count(*) FROM mart_state_totals_daily").fetchone() == (0,)
    assert not list(warehouse.parent.glob(f".{warehouse.name}.*.building"))


def test_a_warehouse_file_from_before_the_views_is_upgraded_in_place(
    settings: Settings,
) -> None:
    """The marts used to be tables in warehouse.duckdb: they become views; an analyst's own
    table stays."""
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("CREATE TABLE mart_state_totals_daily AS SELECT 1 AS old")
        con.execute("CREATE TABLE my_notes AS SELECT 42 AS n")
    current = mart_store(settings).current
    assert catalog.ensure_warehouse_file(settings.warehouse, current, view_tables()) is None
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        kinds = dict(
            con.execute("SELECT table_name, table_type FROM information_schema.tables").fetchall()
        )
        assert kinds["mart_state_totals_daily"] == "VIEW"
        assert con.execute("SELECT count(*) FROM mart_state_totals_daily").fetchone() == (0,)
        assert con.execute("SELECT * FROM my_notes").fetchall() == [(42,)]
