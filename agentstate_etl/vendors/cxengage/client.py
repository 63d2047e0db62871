"""CxEngage WFM RTA: state intervals, offset-paged, HTTP Basic (docs/vendors.md, CxEngage).

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
from typing import TYPE_CHECKING

import httpx
import pyarrow as pa

from agentstate_etl.http import (
    ApiClient,
    ClientOptions,
    VendorClient,
    gather_all,
    partition_deadline,
    path_segment,
)
from agentstate_etl.paging import OffsetPaginator, PagedEndpoint, one_version_per_id
from agentstate_etl.vendors.cxengage import CAPABILITIES
from agentstate_etl.wire import concat_pages

if TYPE_CHECKING:
    from agentstate_etl.vendors.cxengage.settings import CxEngageSettings


class CxEngageClient(VendorClient):
    def __init__(self, settings: CxEngageSettings, options: ClientOptions) -> None:
        self.api = ApiClient(
            "cxengage",
            CAPABILITIES,
            settings.base_url,
            options,
            auth=httpx.BasicAuth(settings.username, settings.password.reveal()),
        )
        self.api.secrets.add_basic(settings.username, settings.password.reveal())
        self.path = f"/v1/tenants/{path_segment(settings.tenant_id)}/wfm/rta"
        self.rta = PagedEndpoint(
            self.api,
            self.path,
            OffsetPaginator(options.page_size),
            key="results",  # each eventId once across all windows, in `fetch_intervals`
            total_name="the record count",
        )

    @partition_deadline
    async def fetch_intervals(
        self, start: datetime, end: datetime, fields: dict[str, pa.DataType]
    ) -> pa.Table:
        """Every interval whose `start` lies in `[start, end)`, each `eventId` once (bar
        conflicting versions, all flagged in `_wire_error`, the last also kept unflagged), read
        in windows no longer than the vendor allows, several in flight."""
        memo = self.api.options.window_memo
        spans = [(self.api.time(a), self.api.time(b)) for a, b in CAPABILITIES.windows(start, end)]
        asked = set(spans)
        # the previous day's windows this range asks again; the rest are let go now
        earlier = {s: t for s, t in (memo.take() if memo is not None else {}).items() if s in asked}

        async def window(span: tuple[str, str]) -> tuple[tuple[str, str], pa.Table]:
            if span in earlier:  # read by the run's previous day, seconds ago
                self.rta.holding(earlier[span].num_rows)
                return span, earlier[span]
            return span, await self.rta.read({"start": span[0], "end": span[1]}, fields)

        read = await gather_all([window(span) for span in spans])
        if memo is not None:
            memo.keep(dict(read))
        parts = [part for _, part in read]
        table = one_version_per_id(concat_pages(parts, fields), "eventId", self.stats)
        self.stats.records += table.num_rows
        return table
