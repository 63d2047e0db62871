"""Reading and copying a test home's warehouse (the DuckLake under $AGENTSTATE_HOME)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

import pandas as pd

from agentstate_etl.marts.tables import MART_TABLES
from agentstate_etl.warehouse.location import WarehouseLocation
from agentstate_etl.warehouse.session import open_session


def warehouse_of(home: Path) -> WarehouseLocation:
    """The default warehouse of $AGENTSTATE_HOME `home` (a SQLite catalog, data beside it)."""
    return WarehouseLocation.from_values("", "", home)


def query(warehouse: WarehouseLocation, sql: str) -> pd.DataFrame:
    with closing(open_session(warehouse, read_only=True)) as con:
        return con.sql(sql).to_arrow_table().to_pandas()


def tables(
    warehouse: WarehouseLocation, names: Iterable[str] = MART_TABLES
) -> dict[str, list[tuple]]:
    """Each table's rows, sorted: equal when two warehouses hold the same data."""
    with closing(open_session(warehouse, read_only=True)) as con:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in names}


def copy_warehouse(source_home: Path, target_home: Path) -> WarehouseLocation:
    """A copy of a home's warehouse in another home: the catalog names its data folder, so
    the copy's catalog is pointed at the copied folder (file paths in it are relative)."""
    source, target = warehouse_of(source_home), warehouse_of(target_home)
    assert source.sqlite_file is not None and target.sqlite_file is not None
    target_home.mkdir(parents=True, exist_ok=True)
    shutil.copy(source.sqlite_file, target.sqlite_file)
    shutil.copytree(source.data_path, target.data_path)
    with closing(sqlite3.connect(target.sqlite_file)) as catalog, catalog:
        catalog.execute(
            "UPDATE ducklake_metadata SET value = ? WHERE key = 'data_path'", [target.data_path]
        )
    return target
