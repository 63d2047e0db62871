"""Kore.ai SmartAssist agent activity: no paging, a maximum range per call (SPEC §4.3).

The range is split into windows no longer than the server allows, fetched concurrently and
concatenated in time order; within a window the API's order is kept, because events in the
same second are ordered only by it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx
import pyarrow as pa

from agentstate_etl.auth import KoreJwtAuth
from agentstate_etl.http import (
    ApiClient,
    RequestRejected,
    RetryPolicy,
    Timeouts,
    VendorClient,
    gather_all,
    iso_utc,
    partition_deadline,
)
from agentstate_etl.wire import concat_pages

MIN_WINDOW = timedelta(minutes=1)
# what a 400 says when the range is over the server's maximum ("range longer than the maximum")
TOO_LONG = re.compile(r"\b(too long|longer|maximum|exceeds?)\b", re.IGNORECASE)


def windows(start: datetime, end: datetime, size: timedelta) -> list[tuple[datetime, datetime]]:
    out = []
    while start < end:
        out.append((start, min(start + size, end)))
        start += size
    return out


class KoreAiClient(VendorClient):
    def __init__(
        self,
        base_url: str,
        account_id: str,
        client_id: str,
        client_secret: str,
        *,
        partition: str | None = None,
        max_window: timedelta = timedelta(hours=6),
        concurrency: int = 4,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 30.0,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.api = ApiClient(
            "koreai",
            partition,
            base_url=base_url,
            concurrency=concurrency,
            retry=retry,
            transport=transport,
            timeout_s=timeout_s,
            timeouts=timeouts,
        )
        self.api.secrets.add(client_secret)
        self.auth = KoreJwtAuth(client_id, client_secret)
        self.path = f"/agentassist/api/public/analytics/account/{account_id}/agentactivity"
        self.max_window = max_window

    async def _window(
        self, start: datetime, end: datetime, fields: dict[str, pa.DataType]
    ) -> pa.Table:
        """One window; halved while the server says it is longer than it allows."""
        params = {"fromTimeStamp": iso_utc(start), "toTimeStamp": iso_utc(end)}
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
        return page[1]

    @partition_deadline
    async def fetch_activity(
        self, start: datetime, end: datetime, fields: dict[str, pa.DataType]
    ) -> pa.Table:
        """Every activity event in `[start, end)`, in time order, API order within a second."""
        parts = await gather_all(
            [self._window(a, b, fields) for a, b in windows(start, end, self.max_window)]
        )
        table = concat_pages(parts, fields)
        self.stats.records += table.num_rows
        return table
