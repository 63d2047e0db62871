"""Where the warehouse is: a DuckLake's catalog (`AGENTSTATE_WAREHOUSE_URL`) and the folder or
S3 prefix of its data files (`AGENTSTATE_WAREHOUSE_DATA_PATH`), validated once.

Embedded default: the catalog in `$AGENTSTATE_HOME/warehouse.sqlite`, data files under
`$AGENTSTATE_HOME/warehouse/`. Production: the catalog in PostgreSQL
(`ducklake:postgres:dbname=... host=...`, a libpq connection string; the password comes from
`PGPASSWORD` or `~/.pgpass`, never from the URL, so the URL can be shown) and data on the S3
lake's store (`s3://bucket/prefix/`, reached through the lake's S3 endpoint variables).
This module imports no DuckDB: `Settings` builds one at start-up of every command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from agentstate_etl.errors import ConfigError
from agentstate_etl.redaction import redact

URL_VARIABLE = "AGENTSTATE_WAREHOUSE_URL"
DATA_PATH_VARIABLE = "AGENTSTATE_WAREHOUSE_DATA_PATH"
RETENTION_VARIABLE = "AGENTSTATE_WAREHOUSE_SNAPSHOT_RETENTION_DAYS"
SQLITE, POSTGRES = "sqlite", "postgres"
DEFAULT_RETENTION_DAYS = 30.0
# what the warehouse's own files were before it became a DuckLake (`agentstate rebuild`
# migrates them: docs/warehouse.md)
LEGACY_VIEWS_FILE = "warehouse.duckdb"
LEGACY_MARTS_DIR = "marts"
_PASSWORD = re.compile(r"(^|\s)password\s*=", re.IGNORECASE)


@dataclass(frozen=True)
class WarehouseLocation:
    """A DuckLake: its catalog, its data path, how long its snapshots stay queryable."""

    kind: str  # SQLITE or POSTGRES
    target: str  # the SQLite file (absolute) or the PostgreSQL connection string
    data_path: str  # an absolute folder or an s3:// prefix, ending in "/"
    home: Path  # $AGENTSTATE_HOME: scratch space for a build, the legacy files
    snapshot_retention_days: float = DEFAULT_RETENTION_DAYS

    @classmethod
    def from_values(
        cls, url: str, data_path: str, home: Path, retention_days: float = DEFAULT_RETENTION_DAYS
    ) -> WarehouseLocation:
        """Validate the two variables' values ("" means the default under `home`)."""
        url = url.strip() or f"ducklake:sqlite:{home / 'warehouse.sqlite'}"
        kind, _, target = url.removeprefix("ducklake:").partition(":")
        if not url.startswith("ducklake:") or kind not in (SQLITE, POSTGRES) or not target.strip():
            raise ConfigError(
                f"{URL_VARIABLE} must be ducklake:sqlite:<file> or "
                f"ducklake:postgres:<connection string>, got {redact(url)!r}"
            )
        if kind == SQLITE:
            target = str(Path(target).expanduser().resolve())
        elif _PASSWORD.search(target):
            raise ConfigError(
                f"{URL_VARIABLE} must not carry a password (it is shown in logs and the UI): "
                "give it in PGPASSWORD or a ~/.pgpass file"
            )
        data = data_path.strip() or str(home / "warehouse")
        if data.startswith("s3://"):
            if not data.removeprefix("s3://").split("/", 1)[0]:
                raise ConfigError(f"{DATA_PATH_VARIABLE} must name a bucket: {data!r}")
        elif "://" in data:
            raise ConfigError(
                f"{DATA_PATH_VARIABLE} must be a local folder or s3://bucket/prefix, got {data!r}"
            )
        else:
            data = str(Path(data).expanduser().resolve())
        return cls(kind, target.strip(), data.rstrip("/") + "/", home, retention_days)

    @property
    def url(self) -> str:
        """What `ATTACH` takes (and the README's one-line ATTACH shows)."""
        return f"ducklake:{self.kind}:{self.target}"

    @property
    def name(self) -> str:
        """A short name for a person: the catalog file's, or the PostgreSQL database's."""
        if self.kind == SQLITE:
            return Path(self.target).name
        found = re.search(r"(?:^|\s)dbname\s*=\s*(\S+)", self.target)
        return f"postgres:{found.group(1) if found else self.target.split()[0]}"

    @property
    def sqlite_file(self) -> Path | None:
        return Path(self.target) if self.kind == SQLITE else None

    @property
    def data_on_s3(self) -> bool:
        return self.data_path.startswith("s3://")

    @property
    def extensions(self) -> list[str]:
        """The DuckDB extensions attaching it takes."""
        catalog = "sqlite_scanner" if self.kind == SQLITE else "postgres_scanner"
        return ["ducklake", catalog, *(["httpfs"] if self.data_on_s3 else [])]

    @property
    def legacy_views_file(self) -> Path:
        return self.home / LEGACY_VIEWS_FILE

    @property
    def legacy_marts(self) -> Path:
        return self.home / LEGACY_MARTS_DIR

    def __str__(self) -> str:
        return f"{self.url} (data {self.data_path})"
