"""Kore.ai SmartAssist agent activity: no paging, a maximum range per call (docs/vendors.md, Kore.ai).

The range is split into windows no longer than the server allows, fetched concurrently and
concatenated in time order; within a window the API's order is kept, because events in the
same second are ordered only by it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pyarrow as pa

from agentstate_etl.auth import KoreJwtAuth
from agentstate_etl.http import (
    ApiClient,
    ClientOptions,
    RequestRejected,
    VendorClient,
    gather_all,
    partition_deadline,
    path_segment,
)
from agentstate_etl.vendors.koreai import CAPABILITIES
from agentstate_etl.wire import concat_pages

if TYPE_CHECKING:
    from agentstate_etl.vendors.koreai.settings import KoreAiSettings

MIN_WINDOW = timedelta(minutes=1)
# what a 400 says when the range is over the server's maximum ("range longer than the maximum")
TOO_LONG = re.compile(r"\b(too long|longer|maximum|exceeds?)\b", re.IGNORECASE)


class KoreAiClient(VendorClient):
    def __init__(self, settings: KoreAiSettings, options: ClientOptions) -> None:
        self.api = ApiClient("koreai", CAPABILITIES, settings.base_url, options)
        client_secret = settings.client_secret.reveal()
        self.api.secrets.add(client_secret)
        self.auth = KoreJwtAuth(settings.client_id, client_secret)
        self.account_id = settings.account_id
        account = path_segment(settings.account_id)
        self.path = f"/agentassist/api/public/analytics/account/{account}/agentactivity"

    async def _window(
        self, start: datetime, end: datetime, fields: dict[str, pa.DataType]
    ) -> pa.Table:
        """One window; halved while the server says it is longer than it allows."""
        params = {"fromTimeStamp": self.api.time(start), "toTimeStamp": self.api.time(end)}
        try:
            page = await self.api.request_page(
                self.path, key="AgentUpdates", fields=fields, params=params, auth=self.auth
            )
        except RequestRejected as rejected:
            too_long = rejected.status == 400 and TOO_LONG.search(rejected.detail)
            if not too_long or end - start < 2 * MIN_WINDOW:
                raise
            middle = start + (end - start) / 2
            middle -= timedelta(microseconds=middle.microsecond)  # whole seconds on the wire
            first = await self._window(start, middle, fields)
            return concat_pages([first, await self._window(middle, end, fields)], fields)
        if page is None:  # unreachable: a 404 is an error here, raised by the API client
            raise self.api.error("no data (HTTP 404)", self.path, 404)
        head, table = page
        if str(head.get("accountId")) != self.account_id:
            raise self.api.error(
                f"the response is for account {head.get('accountId')!r}, not the "
                f"{self.account_id!r} asked for: nothing from it is landed",
                self.path,
            )
        return table

    @partition_deadline
    async def fetch_activity(
        self, start: datetime, end: datetime, fields: dict[str, pa.DataType]
    ) -> pa.Table:
        """Every activity event in `[start, end)`, in time order, API order within a second."""
        parts = await gather_all(
            [self._window(a, b, fields) for a, b in CAPABILITIES.windows(start, end)]
        )
        table = concat_pages(parts, fields)
        self.stats.records += table.num_rows
        return table
