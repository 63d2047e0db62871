"""The warehouse's way in: `connect()`, its configuration, extensions loaded from packages
(never downloaded), names quoted into SQL, snapshots and the migration from the views file."""

from __future__ import annotations

import site
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from agentstate_etl.errors import ConfigError, WarehouseError
from agentstate_etl.marts.tables import derived_names
from agentstate_etl.settings import Settings
from agentstate_etl.sql_text import identifier, literal
from agentstate_etl.warehouse import connect, extensions, legacy
from agentstate_etl.warehouse.location import WarehouseLocation
from agentstate_etl.warehouse.maintenance import expire_snapshots
from agentstate_etl.warehouse.session import open_session


@pytest.fixture
def env_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    home = tmp_path / "o'brien's home"
    monkeypatch.setenv("AGENTSTATE_HOME", str(home))
    return home


def test_the_default_warehouse_lives_under_the_home(env_home: Path) -> None:
    location = Settings.from_env().warehouse
    assert location.url == f"ducklake:sqlite:{env_home / 'warehouse.sqlite'}"
    assert location.data_path == f"{env_home / 'warehouse'}/"
    assert location.extensions == ["ducklake", "sqlite_scanner"]


@pytest.mark.parametrize(
    ("url", "data", "problem"),
    [
        ("sqlite:x.db", "", "AGENTSTATE_WAREHOUSE_URL must be ducklake:sqlite:"),
        ("ducklake:mysql:db=x", "", "AGENTSTATE_WAREHOUSE_URL must be ducklake:sqlite:"),
        ("ducklake:postgres:dbname=w password=hunter2", "", "must not carry a password"),
        ("", "gs://bucket/x", "AGENTSTATE_WAREHOUSE_DATA_PATH must be a local folder or s3://"),
        ("", "s3:///x", "AGENTSTATE_WAREHOUSE_DATA_PATH must name a bucket"),
    ],
)
def test_a_bad_location_fails_at_start_up_naming_its_variable(
    env_home: Path, monkeypatch: pytest.MonkeyPatch, url: str, data: str, problem: str
) -> None:
    monkeypatch.setenv("AGENTSTATE_WAREHOUSE_URL", url)
    monkeypatch.setenv("AGENTSTATE_WAREHOUSE_DATA_PATH", data)
    with pytest.raises(ConfigError, match=problem) as raised:
        Settings.from_env()
    assert "hunter2" not in str(raised.value)


def test_a_production_location_needs_postgres_and_s3_extensions() -> None:
    location = WarehouseLocation.from_values(
        "ducklake:postgres:dbname=wh host=db.internal", "s3://lake/marts", Path("/srv")
    )
    assert location.extensions == ["ducklake", "postgres_scanner", "httpfs"]
    assert location.data_path == "s3://lake/marts/"
    assert location.name == "postgres:wh"


def test_extensions_come_from_the_installed_packages_and_nothing_is_downloaded(
    env_home: Path, tmp_path: Path
) -> None:
    """With an empty extension directory and an extension repository nobody answers, the
    warehouse still opens: every extension was loaded from its package's file."""
    packages = [Path(p).resolve() for p in site.getsitepackages()]
    for name in ("ducklake", "sqlite_scanner", "postgres_scanner", "httpfs"):
        path = extensions.extension_file(name)
        assert any(path.is_relative_to(p) for p in packages), path
        assert path.parent.name == f"v{duckdb.__version__}"
    empty = tmp_path / "no-extensions-here"
    empty.mkdir()
    offline = {
        "extension_directory": str(empty),
        "custom_extension_repository": "http://127.0.0.1:9/nothing",
    }
    location = Settings.from_env().warehouse
    with closing(open_session(location, read_only=False, config=offline)) as con:
        loaded = dict(
            con.execute(
                "SELECT extension_name, install_mode FROM duckdb_extensions() WHERE loaded"
            ).fetchall()
        )
        assert loaded["ducklake"] == loaded["sqlite_scanner"] == "NOT_INSTALLED"
        assert con.execute("SELECT current_setting('autoinstall_known_extensions')").fetchone() == (
            False,
        )
    assert not any(empty.iterdir())


def test_a_missing_extension_package_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extensions.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match="pip install 'duckdb-extension-ducklake==1.5.5'"):
        extensions.extension_file("ducklake")


def test_names_and_paths_are_quoted_not_pasted() -> None:
    assert literal("/home/o'brien/w.sqlite") == "'/home/o''brien/w.sqlite'"
    assert identifier('my "notes"') == '"my ""notes"""'
    con = duckdb.connect()
    assert con.execute(f"SELECT {literal(chr(39) + '; DROP TABLE x; --')}").fetchone() == (
        "'; DROP TABLE x; --",
    )
    with pytest.raises(ValueError):
        literal("a\x00b")


def test_connect_reads_what_a_read_write_session_wrote_and_never_builds_by_reading(
    env_home: Path,
) -> None:
    with pytest.raises(WarehouseError, match="run `agentstate backfill` first"):
        connect(read_only=True)
    assert not (env_home / "warehouse.sqlite").exists()
    with connect() as analyst:
        analyst.execute("CREATE TABLE my_notes AS SELECT 1 AS n")
    with connect(read_only=True) as reader:
        assert reader.execute("SELECT n FROM my_notes").fetchone() == (1,)
        with pytest.raises(duckdb.Error, match="read-only"):
            reader.execute("CREATE TABLE more_notes (n INT)")
        assert reader.execute("SELECT current_setting('TimeZone')").fetchone() == ("UTC",)


def test_snapshots_older_than_the_retention_expire(env_home: Path) -> None:
    settings = Settings.from_env()
    with connect(settings=settings) as con:
        con.execute("CREATE TABLE counts (n INT)")
        for n in range(3):
            con.execute("INSERT INTO counts VALUES (?)", [n])
        first = con.execute("SELECT min(snapshot_id) FROM ducklake_snapshots('warehouse')")
        oldest = first.fetchone()[0]  # type: ignore[index]
        assert con.execute(f"SELECT count(*) FROM counts AT (VERSION => {oldest + 2})").fetchone()
    nothing = expire_snapshots(settings.warehouse)
    assert nothing.snapshots == 0  # all younger than 30 days
    expired = expire_snapshots(settings.warehouse, now=datetime.now(UTC) + timedelta(days=31))
    assert expired.snapshots >= 4
    with connect(read_only=True, settings=settings) as con:
        assert con.execute("SELECT count(*) FROM ducklake_snapshots('warehouse')").fetchone() == (
            1,
        )
        assert con.execute("SELECT sum(n) FROM counts").fetchone() == (3,)


def test_the_views_file_of_the_previous_warehouse_is_migrated(env_home: Path) -> None:
    """Its analyst tables are copied into the DuckLake; the file is kept under another name,
    the generations removed."""
    location = Settings.from_env().warehouse
    env_home.mkdir(parents=True)
    (env_home / "marts" / "generations" / "g-1").mkdir(parents=True)
    with duckdb.connect(str(location.legacy_views_file)) as old:
        old.execute("CREATE TABLE my_notes AS SELECT range AS n FROM range(5)")
        old.execute("CREATE TABLE mart_acw_daily AS SELECT 1 AS stale")  # derived: not copied
        old.execute("CREATE VIEW agentstate_catalog AS SELECT '4' AS version")
    notes = legacy.migrate(location, derived_names())
    assert any("my_notes" in note for note in notes)
    with connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM my_notes").fetchone() == (5,)
        assert con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'mart_acw_daily'"
        ).fetchone() == (0,)
    assert not location.legacy_views_file.exists()
    assert (env_home / "warehouse.duckdb.before-ducklake").is_file()
    assert not (env_home / "marts").exists()
    with closing(sqlite3.connect(location.sqlite_file)) as catalog:  # a real SQLite catalog
        assert catalog.execute("SELECT count(*) FROM ducklake_snapshot").fetchone()[0] >= 1
