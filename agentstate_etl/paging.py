"""Paging: where a range's pages are (a `Paginator`), and one way to read them all (docs/vendors.md).

A paginator only addresses pages: the first page's query parameters, then the next page's from
the page just read (how many records it held, the total it reported). `PagedEndpoint` owns the
read: page after page by what was received (a server may cap the page size: CxEngage's next
offset is the offset plus the results received), and the whole range again when a page reports
another total or the pages do not add up to it (the vendor wrote into the range meanwhile:
records kept sorted by time put a late one before an offset already read). Ranges are read
concurrently by the caller; the pages of one range follow each other.

Everything is bounded against a vendor gone wrong (#22.5): re-reads (`max_rereads`), pages of
one read (`⌈total / first page's size⌉ + PAGE_MARGIN`), the records one partition may hold
(`ClientOptions.max_partition_records`, checked against the first page's total before any other
page is asked for) and time (the partition's deadline cancels the read at its next await, so
between any two pages). Where records carry an id, the settled read keeps each id once
(`one_version_per_id`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from agentstate_etl.canonical import CONFLICTING_DUPLICATE
from agentstate_etl.http import (
    MAX_PARTITION_RECORDS_VARIABLE,
    ApiClient,
    AuthHook,
    FetchStats,
    expect,
)
from agentstate_etl.validation import WIRE_ERROR
from agentstate_etl.wire import concat_pages, empty_table

MAX_REREADS = 5
# Pages one read may take beyond what its total and first page's size call for: a page may come
# back short where the range's end moved; more than this is a vendor that does not page.
PAGE_MARGIN = 2
# A read's tables smaller than this many rows are merged as pages arrive (`_append`).
MERGE_BELOW = 65_536


class Paginator(Protocol):
    """Where the pages of one range are: the first, then each next one from the page before."""

    @property
    def total_field(self) -> str:
        """The response field counting every record of the range."""
        ...

    def first_page(self) -> dict[str, Any]:
        """Query parameters of the first page."""
        ...

    def next_page(self, page: dict[str, Any], received: int, total: int) -> dict[str, Any] | None:
        """Query parameters of the page after `page` (which held `received` records) in a range
        of `total`, or None when the range is read."""
        ...


@dataclass(frozen=True)
class OffsetPaginator:
    """`limit` records from `offset` (0 first). The next offset is the offset plus the records
    received: a server may cap `limit` (CxEngage's document), and offsets stepped by `limit`
    would then skip records. An empty page or the total reached ends the range."""

    limit: int
    limit_param: str = "limit"
    offset_param: str = "offset"
    total_field: str = "total"

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"a page holds at least one record, got limit={self.limit}")

    def first_page(self) -> dict[str, Any]:
        return self._at(0)

    def next_page(self, page: dict[str, Any], received: int, total: int) -> dict[str, Any] | None:
        offset = page[self.offset_param] + received
        return self._at(offset) if received and offset < total else None

    def _at(self, offset: int) -> dict[str, Any]:
        return {self.limit_param: self.limit, self.offset_param: offset}


@dataclass(frozen=True)
class PageNumberPaginator:
    """Pages of `page_size` records numbered from `base_page`, as many as `total` fills."""

    page_size: int
    base_page: int = 1
    size_param: str = "pageSize"
    page_param: str = "pageNumber"
    total_field: str = "totalRecords"

    def __post_init__(self) -> None:
        if self.page_size < 1:
            raise ValueError(f"a page holds at least one record, got page_size={self.page_size}")

    def first_page(self) -> dict[str, Any]:
        return self._number(self.base_page)

    def next_page(self, page: dict[str, Any], received: int, total: int) -> dict[str, Any] | None:
        following = page[self.page_param] + 1
        covered = (following - self.base_page) * self.page_size
        return self._number(following) if received and covered < total else None

    def _number(self, number: int) -> dict[str, Any]:
        return {self.size_param: self.page_size, self.page_param: number}


class Page(NamedTuple):
    total: int
    records: pa.Table


class PagedEndpoint:
    """A vendor's paged list endpoint, read a whole range at a time through its `ApiClient`.

    One endpoint serves one partition (its client's): it counts the records it holds for it
    against `ClientOptions.max_partition_records`."""

    def __init__(
        self,
        api: ApiClient,
        path: str,
        paginator: Paginator,
        *,
        key: str,
        auth: AuthHook | None = None,
        not_found_ok: bool = False,
        unique_by: str | None = None,
        max_rereads: int = MAX_REREADS,
        total_name: str | None = None,
    ) -> None:
        """`key` holds a page's records; a 404 is an empty range only with `not_found_ok`;
        `unique_by` names the records' id, if they have one; `total_name` is how an error
        names the total (the paginator's field by default)."""
        self.api = api
        self.path = path
        self.paginator = paginator
        self.key = key
        self.auth = auth
        self.not_found_ok = not_found_ok
        self.unique_by = unique_by
        self.max_rereads = max_rereads
        self.total_name = total_name or paginator.total_field
        self.max_records = api.options.max_partition_records
        self.held = 0  # records held for the partition: settled reads and those under way

    async def read(self, params: dict[str, Any], fields: dict[str, pa.DataType]) -> pa.Table:
        """Every record of the range `params` selects, from one read that held still."""
        for _ in range(self.max_rereads + 1):
            pages = await self._read_once(params, fields)
            if pages is not None:
                break
            self.api.stats.rereads += 1
        else:
            raise self.api.error(
                f"{self.total_name} kept changing across {self.max_rereads} re-reads", self.path
            )
        table = concat_pages(pages, fields)
        if self.unique_by is None:
            return table
        return one_version_per_id(table, self.unique_by, self.api.stats)

    async def _read_once(
        self, params: dict[str, Any], fields: dict[str, pa.DataType]
    ) -> list[pa.Table] | None:
        """Every page of the range, or None when the range changed while it was read."""
        query = self.paginator.first_page()
        page = await self._page({**params, **query}, fields)
        total, size = page.total, page.records.num_rows
        self._admit(total)  # before any other page is asked for
        pages = [page.records]
        read, most = 1, -(-total // max(size, 1)) + PAGE_MARGIN
        try:
            self._hold(size)
            following = self.paginator.next_page(query, size, total)
            while following is not None:
                if read >= most:
                    raise self.api.error(
                        f"more than {most:,} pages for a range of {total:,} records whose first "
                        f"page held {size:,}: the vendor does not page as it says (refusing "
                        f"to page further)",
                        self.path,
                    )
                query = following
                page = await self._page({**params, **query}, fields)
                if page.total != total:
                    break  # the range changed: read it again
                read += 1
                _append(pages, page.records)
                self._hold(page.records.num_rows)
                following = self.paginator.next_page(query, page.records.num_rows, total)
            else:
                if sum(table.num_rows for table in pages) == total:
                    return pages
        except BaseException:
            self._release(pages)
            raise
        self._release(pages)
        return None

    def holding(self, records: int) -> None:
        """Count records read earlier (`WindowMemo`) as held for the partition, against its cap."""
        self._admit(records)
        self._hold(records)

    def _admit(self, total: int) -> None:
        """A range whose total alone would take the partition past its record cap is refused
        at its first page: neither its pages nor their records are ever asked for."""
        if self.held + total > self.max_records:
            raise self._over_cap(f"a range of {total:,} records")

    def _hold(self, records: int) -> None:
        self.held += records
        if self.held > self.max_records:
            raise self._over_cap(f"{self.held:,} records")

    def _release(self, pages: list[pa.Table]) -> None:
        self.held -= sum(table.num_rows for table in pages)

    def _over_cap(self, what: str) -> Exception:
        return self.api.error(
            f"{self.total_name}: {what} would take the partition past its cap of "
            f"{self.max_records:,} records ({MAX_PARTITION_RECORDS_VARIABLE}); refusing to page "
            f"through it (a vendor error? a tenant this large raises the cap)",
            self.path,
        )

    async def _page(self, params: dict[str, Any], fields: dict[str, pa.DataType]) -> Page:
        page = await self.api.request_page(
            self.path,
            key=self.key,
            fields=fields,
            params=params,
            auth=self.auth,
            not_found_ok=self.not_found_ok,
        )
        if page is None:  # an allowed 404: no data for the range
            return Page(0, empty_table(fields))
        head, table = page
        total_field = self.paginator.total_field
        return Page(expect(self.api, head, self.path, **{total_field: int})[total_field], table)


def _append(pages: list[pa.Table], table: pa.Table) -> None:
    """Add a page to a read's pages, merging small tables as they come (a binary counter: each
    record copied at most log2(MERGE_BELOW / page size) times): a vendor serving a record a
    page costs a few tables, not an Arrow table (~40 kB of buffers and objects) per record."""
    pages.append(table)
    while len(pages) > 1 and pages[-2].num_rows <= pages[-1].num_rows < MERGE_BELOW:
        last = pages.pop()
        pages[-1] = pa.concat_tables([pages[-1], last]).combine_chunks()


def one_version_per_id(table: pa.Table, id_field: str, stats: FetchStats) -> pa.Table:
    """Each `id_field` once: exact repeats dropped (the first copy kept); versions that differ
    all flagged `conflicting_duplicate:<id_field>` in `_wire_error` for quarantine, and the one
    seen last, the vendor's latest word, kept once more unflagged. Rows without an id are not
    ours to drop. Only rows whose id repeats leave Arrow."""
    column = table.column(id_field)
    if pc.count_distinct(column).as_py() == len(column) - column.null_count:
        return table  # the common case, settled in Arrow: no id repeats
    ids = column.to_pandas()
    repeats = np.flatnonzero((ids.duplicated(keep=False) & ids.notna()).to_numpy())
    if not len(repeats):
        return table
    suspects = table.take(repeats).to_pandas()
    # one number per distinct content (id included): equal numbers are exact repeats
    content = suspects.groupby(list(suspects.columns), dropna=False, sort=False).ngroup()
    exact = content.duplicated(keep="first").to_numpy()
    versions = suspects[id_field][~exact]
    conflicting = versions.duplicated(keep=False).to_numpy()
    # the content each id was served with last
    latest = content.groupby(suspects[id_field].to_numpy()).last()
    is_latest = (content[~exact].to_numpy() == latest.reindex(versions).to_numpy()) & conflicting
    stats.duplicates_dropped += int(exact.sum())
    stats.conflicting_duplicates += int(versions[conflicting].nunique())

    flagged = repeats[~exact][conflicting]
    kept_again = repeats[~exact][is_latest]
    order = np.sort(
        np.concatenate([np.delete(np.arange(table.num_rows), repeats[exact]), kept_again])
    )
    second_copy = np.r_[False, order[1:] == order[:-1]]
    flag = pa.array(np.isin(order, flagged) & ~second_copy)
    out = table.take(pa.array(order))
    wire = out.column(WIRE_ERROR)
    reason = f"{CONFLICTING_DUPLICATE}:{id_field}"
    joined = pc.binary_join_element_wise(wire, reason, "; ", null_handling="skip")
    position = out.column_names.index(WIRE_ERROR)
    return out.set_column(position, WIRE_ERROR, pc.if_else(flag, joined, wire))
