"""NICE CXone: agent-state history, snapshot and status summary (docs/vendors.md, CXone).

OAuth client credentials (in the form, or Basic; a scope if set): the token is cached, renewed
before it expires and once on 401. History names one agent per request: each agent's range is
read page after page until a short or empty page, following `nextPageToken` and stopping at
`totalRecords` where the vendor sends them (the tutorial documents neither). It has no record
ids, so exact repeats are dropped by the interval builder. History, snapshot and summary may
live on different hosts; only history's 404 means "no data".
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from agentstate_etl.auth import OAuthClientCredentials
from agentstate_etl.errors import VendorError
from agentstate_etl.http import (
    ApiClient,
    ClientOptions,
    VendorClient,
    expect,
    gather_all,
    partition_deadline,
)
from agentstate_etl.vendors.cxone import CAPABILITIES
from agentstate_etl.wire import concat_pages, page_to_table

if TYPE_CHECKING:
    from agentstate_etl.vendors.cxone.settings import CxOneSettings

HISTORY = "/api/reporting/v2/agent-state-history"
SNAPSHOT = "/api/v2/agents/states"
SUMMARY = "/api/v2/reports/agent-status-summary"
MAX_PAGE_SIZE = 1000  # the tutorial's limit on pageSize
MAX_PAGES = 10_000  # one agent's range longer than this is a vendor that never ends a list


class CxOneClient(VendorClient):
    def __init__(self, settings: CxOneSettings, options: ClientOptions) -> None:
        self.api = ApiClient("cxone", CAPABILITIES, settings.base_url, options)
        client_id, client_secret = settings.client_id, settings.client_secret.reveal()
        self.api.secrets.add_basic(client_id, client_secret)
        self.auth = OAuthClientCredentials(
            self.api,
            settings.token_url,
            client_id,
            client_secret,
            send_credentials=settings.token_auth,
            scope=settings.scope,
        )
        self.page_size = min(options.page_size, MAX_PAGE_SIZE)
        self.history_url = settings.url_of("history").rstrip("/") + HISTORY
        self.snapshot_url = settings.url_of("snapshot").rstrip("/") + SNAPSHOT
        self.summary_url = settings.url_of("summary").rstrip("/") + SUMMARY

    @partition_deadline
    async def fetch_history(
        self,
        start: datetime,
        end: datetime,
        fields: dict[str, pa.DataType],
        agents: list[str] | None = None,
    ) -> pa.Table:
        """Every state event with `timestamp` in `[start, end)` of each agent, one agent per
        request, agents in the order given and each agent's events in API order."""
        windows = CAPABILITIES.windows(start, end)
        parts = await gather_all(
            [self._agent_history(agent, a, b, fields) for agent in agents or [] for a, b in windows]
        )
        table = concat_pages(parts, fields)
        self.stats.records += table.num_rows
        return table

    async def _agent_history(
        self, agent_id: str, start: datetime, end: datetime, fields: dict[str, pa.DataType]
    ) -> pa.Table:
        base: dict[str, str | int] = {
            "startTime": self.api.time(start),
            "endTime": self.api.time(end),
            "agentId": agent_id,
            "pageSize": self.page_size,
        }
        pages: list[pa.Table] = []
        received, params = 0, {**base, "pageNumber": 1}
        for number in range(1, MAX_PAGES + 1):
            page = await self.api.request_page(
                self.history_url,
                key="records",
                fields=fields,
                params=params,
                auth=self.auth,
                not_found_ok=True,  # the tutorial: no data for this agent in this range
            )
            if page is None:
                break
            head, table = page
            pages.append(table)
            received += table.num_rows
            total = head.get("totalRecords")
            token = head.get("nextPageToken")
            if isinstance(total, int) and not isinstance(total, bool) and received >= total:
                break
            if token:
                params = {**base, "pageNumber": number + 1, "pageToken": str(token)}
            elif table.num_rows < self.page_size:
                break  # a short or empty page is the last
            else:
                params = {**base, "pageNumber": number + 1}
        else:
            raise self.api.error(
                f"agent {agent_id}'s history did not end within {MAX_PAGES} pages of "
                f"{self.page_size}",
                self.history_url,
            )
        table = concat_pages(pages, fields)
        return _with_agent(table, agent_id)

    async def _get(self, url: str, params: dict[str, Any]) -> Any:
        return await self.api.request_json("GET", url, params=params, auth=self.auth)

    @partition_deadline
    async def fetch_snapshot(self) -> list[dict[str, Any]]:
        """Agents logged in now, with their current state (an empty list is normal)."""
        body = await self._get(self.snapshot_url, {})
        if not isinstance(body, list):
            raise self.api.error(
                "unexpected payload: expected a list of agent states", self.snapshot_url
            )
        return body

    async def roster(self) -> list[str]:
        """The agents the snapshot names (logged-in agents only: the roster's other sources
        fill in the rest)."""
        return [
            str(entry["agentId"])
            for entry in await self.fetch_snapshot()
            if isinstance(entry, dict) and entry.get("agentId") is not None
        ]

    async def _summary(self, agent_id: str, start: datetime, end: datetime) -> list[dict]:
        ((start, end),) = CAPABILITIES.windows(start, end)
        params = {
            "userId": agent_id,
            "startTime": self.api.time(start),
            "endTime": self.api.time(end),
        }
        try:
            body = await self._get(self.summary_url, params)
            body = expect(self.api, body, self.summary_url, intervals=list)
        except VendorError:
            # one agent's report failing is that agent's `missing_summary`, not the day's
            self.stats.summary_failures += 1
            return []
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


def _with_agent(table: pa.Table, agent_id: str) -> pa.Table:
    """The agent asked for where the vendor did not echo it (the tutorial's records may omit
    it)."""
    column = table.column("agentId")
    if column.null_count == 0:
        return table
    filled = pc.fill_null(column, agent_id)
    return table.set_column(table.column_names.index("agentId"), "agentId", filled)
