"""CxEngage WFM RTA: state intervals, offset-paged, HTTP Basic (SPEC §4.1).

Records are written as events arrive, so a late event can land before an offset already read.
The client reads offset 0 to learn `total`, the other pages concurrently, and re-reads the
whole range when any page reports another total (or the pages do not add up to it); then it
keeps the first copy of each `eventId` repeated exactly. An `eventId` served with different
contents is a conflict no rule can settle: every version is flagged for quarantine
(`conflicting_duplicate:eventId`) and the version seen last, the vendor's latest word, is kept
once more, unflagged, so the day still has the interval. Records without an id are kept for
quarantine.
"""

from __future__ import annotations

from datetime import datetime

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from agentstate_etl.canonical import CONFLICTING_DUPLICATE
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
from agentstate_etl.validation import WIRE_ERROR
from agentstate_etl.wire import concat_pages

MAX_REREADS = 5
CONFLICT = f"{CONFLICTING_DUPLICATE}:eventId"


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
        """Every interval whose `start` lies in `[start, end)`, each `eventId` once (bar
        conflicting versions, all flagged in `_wire_error`, the last also kept unflagged)."""
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
        table = self._one_version_per_event(table)
        self.stats.records += table.num_rows
        return table

    def _one_version_per_event(self, table: pa.Table) -> pa.Table:
        """Drop exact repeats of an `eventId`; flag versions that differ (rows without an id
        are not ours to drop). Only rows whose id repeats leave Arrow."""
        ids = table.column("eventId").to_pandas()
        repeats = np.flatnonzero((ids.duplicated(keep=False) & ids.notna()).to_numpy())
        if not len(repeats):
            return table
        suspects = table.take(repeats).to_pandas()
        # one number per distinct content (id included): equal numbers are exact repeats
        content = suspects.groupby(list(suspects.columns), dropna=False, sort=False).ngroup()
        exact = content.duplicated(keep="first").to_numpy()
        versions = suspects["eventId"][~exact]
        conflicting = versions.duplicated(keep=False).to_numpy()
        # the content each id was served with last
        latest = content.groupby(suspects["eventId"].to_numpy()).last()
        is_latest = (
            content[~exact].to_numpy() == latest.reindex(versions).to_numpy()
        ) & conflicting
        self.stats.duplicates_dropped += int(exact.sum())
        self.stats.conflicting_duplicates += int(versions[conflicting].nunique())

        flagged = repeats[~exact][conflicting]
        kept_again = repeats[~exact][is_latest]
        order = np.sort(
            np.concatenate([np.delete(np.arange(table.num_rows), repeats[exact]), kept_again])
        )
        second_copy = np.r_[False, order[1:] == order[:-1]]
        flag = pa.array(np.isin(order, flagged) & ~second_copy)
        out = table.take(pa.array(order))
        wire = out.column(WIRE_ERROR)
        joined = pc.binary_join_element_wise(wire, CONFLICT, "; ", null_handling="skip")
        position = out.column_names.index(WIRE_ERROR)
        return out.set_column(position, WIRE_ERROR, pc.if_else(flag, joined, wire))
