"""NICE CXone: agent-state history (page numbers), snapshot and status summary (SPEC §4.2).

OAuth client credentials: the token is cached, renewed before it expires and once on 401.
History is read by page number and re-read while `totalRecords` changes (`agentstate_etl.paging`);
it has no record ids, so exact repeats are dropped by the interval builder.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from agentstate_etl.auth import OAuthClientCredentials
from agentstate_etl.http import (
    ApiClient,
    ClientOptions,
    VendorClient,
    expect,
    gather_all,
    partition_deadline,
)
from agentstate_etl.paging import PagedEndpoint, PageNumberPaginator
from agentstate_etl.vendors.cxone import CAPABILITIES
from agentstate_etl.wire import concat_pages, page_to_table

if TYPE_CHECKING:
    from agentstate_etl.vendors.cxone.settings import CxOneSettings

HISTORY = "/api/reporting/v2/agent-state-history"
SNAPSHOT = "/api/v2/agents/states"
SUMMARY = "/api/v2/reports/agent-status-summary"


class CxOneClient(VendorClient):
    def __init__(self, settings: CxOneSettings, options: ClientOptions) -> None:
        self.api = ApiClient("cxone", CAPABILITIES, settings.base_url, options)
        client_id, client_secret = settings.client_id, settings.client_secret.reveal()
        self.api.secrets.add_basic(client_id, client_secret)
        self.auth = OAuthClientCredentials(self.api, settings.token_url, client_id, client_secret)
        self.history = PagedEndpoint(
            self.api,
            HISTORY,
            PageNumberPaginator(options.page_size),
            key="records",
            auth=self.auth,
            not_found_ok=True,  # 404: no data for the range
        )

    async def _get(self, path: str, params: dict[str, Any], not_found_ok: bool = False) -> Any:
        return await self.api.request_json(
            "GET", path, params=params, auth=self.auth, not_found_ok=not_found_ok
        )

    @partition_deadline
    async def fetch_history(
        self, start: datetime, end: datetime, fields: dict[str, pa.DataType]
    ) -> pa.Table:
        """Every state event with `timestamp` in `[start, end)`, all agents, in API order."""
        parts = [
            await self.history.read(
                {"startTime": self.api.time(a), "endTime": self.api.time(b)}, fields
            )
            for a, b in CAPABILITIES.windows(start, end)
        ]
        table = concat_pages(parts, fields)
        self.stats.records += table.num_rows
        return table

    @partition_deadline
    async def fetch_snapshot(self) -> list[dict[str, Any]]:
        """Agents logged in now, with their current state (an empty list is normal)."""
        body = await self._get(SNAPSHOT, {})
        if not isinstance(body, list):
            raise self.api.error("unexpected payload: expected a list of agent states", SNAPSHOT)
        return body

    async def _summary(self, agent_id: str, start: datetime, end: datetime) -> list[dict]:
        ((start, end),) = CAPABILITIES.windows(start, end)
        params = {
            "userId": agent_id,
            "startTime": self.api.time(start),
            "endTime": self.api.time(end),
        }
        body = await self._get(SUMMARY, params, not_found_ok=True)
        if body is None:
            return []
        body = expect(self.api, body, SUMMARY, intervals=list)
        self.stats.pages += 1
        return [
            {**item, "agentId": agent_id} if isinstance(item, dict) else item
            for item in body["intervals"]
        ]

    @partition_deadline
    async def fetch_summaries(
        self, agent_ids: list[str], start: datetime, end: datetime, fields: dict[str, pa.DataType]
    ) -> pa.Table:
        """The status-summary intervals of each agent for `[start, end)`, one row per interval."""
        per_agent = await gather_all([self._summary(str(a), start, end) for a in agent_ids])
        rows = [row for rows in per_agent for row in rows]
        self.stats.records += len(rows)
        return page_to_table(rows, fields)
