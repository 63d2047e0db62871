"""CxEngage WFM RTA: state intervals, offset-paged, HTTP Basic (SPEC §4.1).

Records are written as events arrive, so a late event can land before an offset already read:
the range is read through an offset paginator that re-reads it while its `total` changes, and
keeps each `eventId` once (`agentstate_etl.paging`). An `eventId` served with different
contents is a conflict no rule can settle: every version is flagged for quarantine
(`conflicting_duplicate:eventId`) and the version seen last, the vendor's latest word, is kept
once more, unflagged, so the day still has the interval. Records without an id are kept for
quarantine.
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
    iso_utc,
    partition_deadline,
)
from agentstate_etl.paging import OffsetPaginator, PagedEndpoint


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
        self.rta = PagedEndpoint(
            self.api,
            self.path,
            OffsetPaginator(page_size),
            key="results",
            unique_by="eventId",
            total_name="the record count",
        )

    @partition_deadline
    async def fetch_intervals(
        self, start: datetime, end: datetime, fields: dict[str, pa.DataType]
    ) -> pa.Table:
        """Every interval whose `start` lies in `[start, end)`, each `eventId` once (bar
        conflicting versions, all flagged in `_wire_error`, the last also kept unflagged)."""
        table = await self.rta.read({"start": iso_utc(start), "end": iso_utc(end)}, fields)
        self.stats.records += table.num_rows
        return table
