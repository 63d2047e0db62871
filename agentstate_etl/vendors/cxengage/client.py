"""CxEngage WFM RTA: state intervals, offset-paged, HTTP Basic (SPEC §4.1).

Records are written as events arrive, so a late event can land before an offset already read.
The client reads offset 0 to learn `total`, the other pages concurrently, and re-reads the
whole range when any page reports another total (or the pages do not add up to it); then it
keeps the first copy of each `eventId`. Records without an id are kept for quarantine.
"""

from __future__ import annotations

from datetime import datetime

import httpx
import pyarrow as pa

from agentstate_etl.http import (
    ApiClient,
    RetryPolicy,
    Timeouts,
    VendorClient,
    expect,
    gather_all,
    iso_utc,
    partition_deadline,
)
from agentstate_etl.wire import concat_pages

MAX_REREADS = 5


class CxEngageClient(VendorClient):
    def __init__(
        self,
        base_url: str,
        tenant_id: str,
        username: str,
        password: str,
        *,
        partition: str | None = None,
        concurrency: int = 4,
        page_size: int = 1000,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 30.0,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.api = ApiClient(
            "cxengage",
            partition,
            base_url=base_url,
            concurrency=concurrency,
            retry=retry,
            transport=transport,
            timeout_s=timeout_s,
            timeouts=timeouts,
            auth=httpx.BasicAuth(username, password),
        )
        self.api.secrets.add_basic(username, password)
        self.path = f"/v1/tenants/{tenant_id}/wfm/rta"
        self.page_size = page_size

    async def _page(
        self, start: datetime, end: datetime, offset: int, fields: dict[str, pa.DataType]
    ) -> tuple[int, pa.Table]:
        params = {
            "start": iso_utc(start),
            "end": iso_utc(end),
            "limit": self.page_size,
            "offset": offset,
        }
        page = await self.api.request_page(self.path, key="results", fields=fields, params=params)
        if page is None:  # unreachable: a 404 is an error here, raised by the API client
            raise self.api.error("no data (HTTP 404)", self.path, 404)
        head, table = page
        return expect(self.api, head, self.path, total=int)["total"], table

    async def _read_all(
        self, start: datetime, end: datetime, fields: dict[str, pa.DataType]
    ) -> list[pa.Table] | None:
        """Every page of the range, or None when the range changed while it was read."""
        total, first = await self._page(start, end, 0, fields)
        rest = await gather_all(
            [
                self._page(start, end, o, fields)
                for o in range(self.page_size, total, self.page_size)
            ]
        )
        pages = [first, *(table for _, table in rest)]
        if any(t != total for t, _ in rest) or sum(p.num_rows for p in pages) != total:
            return None
        return pages

    @partition_deadline
    async def fetch_intervals(
        self, start: datetime, end: datetime, fields: dict[str, pa.DataType]
    ) -> pa.Table:
        """Every interval whose `start` lies in `[start, end)`, each `eventId` once."""
        for _ in range(MAX_REREADS + 1):
            pages = await self._read_all(start, end, fields)
            if pages is not None:
                break
            self.stats.rereads += 1
        else:
            raise self.api.error(
                f"the record count kept changing across {MAX_REREADS} re-reads", self.path
            )
        table = concat_pages(pages, fields)
        table = self._first_of_each_event(table)
        self.stats.records += table.num_rows
        return table

    def _first_of_each_event(self, table: pa.Table) -> pa.Table:
        """Drop later copies of an `eventId`; rows without one are not ours to drop."""
        ids = table.column("eventId").to_pandas()
        repeated = ids.duplicated(keep="first") & ids.notna()
        dropped = int(repeated.sum())
        self.stats.duplicates_dropped += dropped
        return table.filter(pa.array(~repeated.to_numpy())) if dropped else table
