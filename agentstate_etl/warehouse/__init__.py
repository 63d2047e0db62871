"""The warehouse: every table of docs/warehouse.md in a DuckLake that many analysts and runs use
at once, from any host.

    from agentstate_etl.warehouse import connect
    con = connect(read_only=True)
    con.sql("SELECT * FROM mart_state_totals_daily LIMIT 10")

Configuration comes from the environment as every command reads it (docs/configuration.md).
Importing this package loads no DuckDB: `Settings` refers to `location` at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

    from agentstate_etl.settings import Settings


def connect(read_only: bool = False, settings: Settings | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection in which every warehouse table and view resolves unqualified.

    Read-only sessions never write; a read-write one may create the analyst's own tables in
    the warehouse, which never block a run (runs replace only their own tables' rows).
    `settings` defaults to `Settings.from_env()`.
    """
    from agentstate_etl.settings import Settings
    from agentstate_etl.warehouse.session import open_session

    return open_session((settings or Settings.from_env()).warehouse, read_only)
