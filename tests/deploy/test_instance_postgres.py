"""`agentstate backfill` on the production instance: deploy/dagster.yaml on PostgreSQL, S3 lake."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from agentstate_etl import lake
from agentstate_etl.simulator.server import SimulatorServer
from tests.deploy.conftest import agentstate_backfill
from tests.deploy.servers import PostgresServer, S3Server
from tests.e2e.conftest import DAYS, SIM_NOW

pytestmark = pytest.mark.deploy


def test_backfill_records_its_runs_in_postgres(
    postgres: PostgresServer,
    s3: S3Server,
    simulator: SimulatorServer,
    dagster_home: dict[str, str],
    s3_lake_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {
        **os.environ,
        **simulator.env(),
        **s3.env(),
        **dagster_home,
        "AGENTSTATE_HOME": str(tmp_path / "data"),
        "AGENTSTATE_LAKE_URL": s3_lake_url,
        "AGENTSTATE_START_DATE": "2026-03-01",
        "AGENTSTATE_NOW": SIM_NOW.isoformat(),
    }
    agentstate_backfill("cxone", DAYS[:2], env, tmp_path)

    database = dagster_home["DAGSTER_POSTGRES_URL"].rsplit("/", 1)[1]
    with postgres.connect(database) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT pipeline_name, status FROM runs ORDER BY create_timestamp")
        runs = cursor.fetchall()
        cursor.execute(
            "SELECT count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'"
        )
        materializations = cursor.fetchone()[0]
    assert runs == [("cxone_default_daily", "SUCCESS")]  # one tenant: the marts in its run
    assert materializations == 3 * 2 + 2  # three CXone assets and the warehouse x two days
    assert not list(Path(dagster_home["DAGSTER_HOME"]).rglob("*.db")), "no SQLite storage"

    for name, value in s3.env().items():  # read the lake as the run wrote it
        monkeypatch.setenv(name, value)
    landed = lake.Lake.from_url(s3_lake_url)
    assert [k.day for k in landed.partitions(lake.INTERVALS, "cxone")] == DAYS[:2]
    assert (tmp_path / "data" / "warehouse.sqlite").exists()
    assert not (tmp_path / "data" / "lake").exists(), "the lake is on S3, not on local disk"


POSTGRES_DB_FORM = """\
storage:
  postgres:
    postgres_db:
      username: postgres
      password:
        env: DAGSTER_PG_PASSWORD
      hostname: 127.0.0.1
      db_name: {database}
      port: {port}
"""


def test_dagsters_documented_postgres_db_form_works(
    postgres: PostgresServer, simulator: SimulatorServer, tmp_path: Path
) -> None:
    """The `postgres_db:` block as Dagster's own documentation writes it (no scheme, no URL)."""
    database = postgres.create_database(f"dagster_{uuid.uuid4().hex[:12]}")
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        POSTGRES_DB_FORM.format(database=database, port=postgres.port)
    )
    env = {
        **os.environ,
        **simulator.env(),
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_PASSWORD": "unused-by-trust-auth",
        "AGENTSTATE_HOME": str(tmp_path / "data"),
        "AGENTSTATE_START_DATE": "2026-03-01",
        "AGENTSTATE_NOW": SIM_NOW.isoformat(),
    }
    agentstate_backfill("koreai", DAYS[:1], env, tmp_path)
    with postgres.connect(database) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT pipeline_name, status FROM runs")
        assert cursor.fetchall() == [("koreai_default_daily", "SUCCESS")]
    assert not list(home.rglob("*.db")), "no SQLite storage"
