"""DuckDB extensions from the installed packages, never from the internet.

The warehouse needs DuckDB's `ducklake` extension and, depending on where its catalog and data
live, `sqlite_scanner`, `postgres_scanner` and `httpfs`. Each comes from PyPI as a package
built for one DuckDB version (`duckdb-extension-ducklake==1.5.5` ships
`duckdb_extension_ducklake/extensions/v1.5.5/ducklake.duckdb_extension`) and is loaded from
that file. Connections are made with DuckDB's automatic install and load turned off, so a
missing package is an error naming it instead of a download attempt (the production hosts
have no internet).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from agentstate_etl.errors import ConfigError
from agentstate_etl.sql_text import literal

# DuckDB fetches nothing by itself on connections made with this configuration
OFFLINE: dict[str, Any] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


def extension_file(name: str) -> Path:
    """The extension binary the package `duckdb-extension-<name>` installed for this DuckDB."""
    package = f"duckdb_extension_{name}"
    spec = importlib.util.find_spec(package)
    version = f"v{duckdb.__version__}"
    requirement = f"duckdb-extension-{name.replace('_', '-')}=={duckdb.__version__}"
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"the DuckDB extension {name!r} is not installed: pip install '{requirement}' "
            "(scripts/setup.sh installs it with the project)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "extensions" / version
    path = path / f"{name}.duckdb_extension"
    if not path.is_file():
        raise ConfigError(
            f"the installed {package} has no build for DuckDB {duckdb.__version__} ({path} is "
            f"missing): pip install '{requirement}'"
        )
    return path


def load(con: duckdb.DuckDBPyConnection, names: Iterable[str]) -> list[Path]:
    """Load each extension from its package file into `con`; the files loaded."""
    loaded = []
    for name in names:
        path = extension_file(name)
        con.execute(f"LOAD {literal(str(path))}")
        loaded.append(path)
    return loaded
