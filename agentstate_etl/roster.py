"""Which agents to ask a per-agent vendor about (docs/vendors.md, CXone): no vendor document lists them all.

The roster is the union of the agents the vendor's current-state snapshot names (logged-in
agents only), the agents the lake already holds for the tenant (its recent days' raw
records), and an optional roster file the deployment keeps (CSV `agent_id[,agent_name]`). A
snapshot that fails leaves the other sources: it never fails the history it serves.
"""

from __future__ import annotations

import csv
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow.compute as pc

from agentstate_etl import lake
from agentstate_etl.errors import AgentStateError, ConfigError

# how far back the lake's own landings are read for agents (a long absence is a departure)
LAKE_DAYS = 14


@dataclass(frozen=True)
class Roster:
    agents: list[str]
    snapshot: int = 0
    lake: int = 0
    file: int = 0
    snapshot_error: str = ""

    def stats(self) -> dict[str, int]:
        """For run metadata: how many agents were asked about, and from which sources."""
        return {
            "agents_queried": len(self.agents),
            "roster_from_snapshot": self.snapshot,
            "roster_from_lake": self.lake,
            "roster_from_file": self.file,
            "roster_snapshot_failed": int(bool(self.snapshot_error)),
        }


def lake_agents(landed: lake.Lake, key: lake.PartitionKey, agent_column: str) -> set[str]:
    """Agents in the tenant's raw landings of the `LAKE_DAYS` days up to `key.day`."""
    first = key.day - timedelta(days=LAKE_DAYS)
    agents: set[str] = set()
    for other in landed.partitions(lake.RAW, key.vendor, key.tenant):
        if first <= other.day <= key.day + timedelta(days=1):
            column = landed.read(lake.RAW, other, columns=[agent_column]).column(agent_column)
            agents.update(str(a) for a in pc.unique(column.drop_null()).to_pylist())
    return agents


def file_agents(path: str) -> set[str]:
    """`agent_id[,agent_name]` rows (a header row named `agent_id` is skipped)."""
    if not path:
        return set()
    try:
        with Path(path).open(newline="") as handle:
            rows = [row for row in csv.reader(handle) if row and row[0].strip()]
    except OSError as exc:
        raise ConfigError(f"roster file {path}: {exc.strerror or exc}") from None
    return {row[0].strip() for row in rows if row[0].strip().lower() != "agent_id"}


async def gather(
    snapshot: Callable[[Any], Awaitable[list[str]]] | None,
    client: Any,
    landed: lake.Lake,
    key: lake.PartitionKey,
    agent_column: str,
    roster_file: str,
) -> Roster:
    """The roster for one partition, from every source there is."""
    from_snapshot: set[str] = set()
    error = ""
    if snapshot is not None:
        try:
            from_snapshot = set(await snapshot(client))
        except AgentStateError as exc:
            error = str(exc)
    from_lake = lake_agents(landed, key, agent_column)
    from_file = file_agents(roster_file)
    agents = sorted(from_snapshot | from_lake | from_file)
    return Roster(
        agents=agents,
        snapshot=len(from_snapshot),
        lake=len(from_lake),
        file=len(from_file),
        snapshot_error=error,
    )
