"""The settings a warehouse's numbers depend on, recorded with every commit.

The marts of one warehouse must all come from one zone, one interval grain, one threshold and
one set of mappings: an incremental update under other settings would leave rows of two
zones (or 15- and 60-minute intervals) side by side. Each commit records these settings in
its DuckLake snapshot (`commit_extra_info`); an update that finds them changed rebuilds every
day instead, and says which changed.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import duckdb

from agentstate_etl.activities import DEFAULT_ACTIVITY_MAPPING
from agentstate_etl.marts.publish import AUTHOR
from agentstate_etl.reasons import DEFAULT_REASON_MAPPING
from agentstate_etl.settings import Settings
from agentstate_etl.sql_text import literal
from agentstate_etl.warehouse.session import ALIAS


def _digest(path: Path) -> str:
    """A mapping file by its content (its path may stay while its rules change)."""
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def build_settings(settings: Settings) -> dict[str, str]:
    """Variable -> the value the marts are computed with (mapping files by content)."""
    reasons = os.environ.get("AGENTSTATE_REASON_MAPPING") or str(DEFAULT_REASON_MAPPING)
    return {
        "AGENTSTATE_REPORT_TZ": settings.report_tz,
        "AGENTSTATE_INTERVAL_MINUTES": str(settings.interval_minutes),
        "AGENTSTATE_ADHERENCE_THRESHOLD_S": f"{settings.adherence_threshold_s:g}",
        "AGENTSTATE_DRIFT_TOLERANCE_S": f"{settings.drift_tolerance_s:g}",
        "AGENTSTATE_ACTIVITY_MAPPING": _digest(
            settings.activity_mapping or DEFAULT_ACTIVITY_MAPPING
        ),
        "AGENTSTATE_REASON_MAPPING": _digest(Path(reasons)),
    }


def recorded_settings(con: duckdb.DuckDBPyConnection) -> dict[str, str] | None:
    """The settings of the warehouse's latest commit by the product (None: not recorded, a
    warehouse from before they were)."""
    row = con.execute(
        f"SELECT commit_extra_info FROM ducklake_snapshots({literal(ALIAS)}) "
        "WHERE author = ? AND commit_extra_info IS NOT NULL "
        "ORDER BY snapshot_id DESC LIMIT 1",
        [AUTHOR],
    ).fetchone()
    if row is None:
        return None
    try:
        recorded = json.loads(row[0])
    except ValueError:
        return None
    return recorded if isinstance(recorded, dict) else None


def changes(recorded: dict[str, str] | None, current: dict[str, str]) -> list[str]:
    """`VARIABLE was A, now B` for each setting that differs (none when nothing was recorded)."""
    if recorded is None:
        return []
    return [
        f"{name} was {recorded.get(name, 'unrecorded')}, now {value}"
        for name, value in current.items()
        if recorded.get(name) != value
    ]
