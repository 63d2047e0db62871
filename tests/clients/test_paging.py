"""Paginators and the paged read on their own, against a scripted vendor (no network)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pyarrow as pa
import pytest

from agentstate_etl.errors import VendorError
from agentstate_etl.http import ApiClient, ClientOptions, RetryPolicy
from agentstate_etl.paging import (
    MAX_REREADS,
    PAGE_MARGIN,
    OffsetPaginator,
    PagedEndpoint,
    PageNumberPaginator,
    Paginator,
)
from agentstate_etl.vendors.cxengage import CAPABILITIES as CXENGAGE_CAPABILITIES

FIELDS = {"eventId": pa.string(), "end": pa.string()}
PATH = "/v1/records"


class Vendor:
    """A list endpoint over `records`, paged by offset or by page number; `after_request(n)`
    may change the records once the n-th request (from 1) has been answered."""

    def __init__(
        self,
        records: list[dict[str, Any]],
        *,
        by_page_number: bool = False,
        after_request: Callable[[int, list[dict[str, Any]]], None] | None = None,
    ) -> None:
        self.records = records
        self.by_page_number = by_page_number
        self.after_request = after_request
        self.asked: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        self.asked.append(params)
        if self.by_page_number:
            size = int(params["pageSize"])
            start = (int(params["pageNumber"]) - 1) * size
            body = {"totalRecords": len(self.records), "records": self.records[start:][:size]}
        else:
            start, limit = int(params["offset"]), int(params["limit"])
            body = {"total": len(self.records), "results": self.records[start:][:limit]}
        if self.after_request:
            self.after_request(len(self.asked), self.records)
        return httpx.Response(200, json=body)

    def pages_asked(self, name: str) -> list[int]:
        return [int(params[name]) for params in self.asked]


def record(event_id: str, end: str | None = None) -> dict[str, Any]:
    return {"eventId": event_id, "end": end}


def api_client(vendor: Callable[[httpx.Request], Any], **options: Any) -> ApiClient:
    """A client of one partition over the scripted `vendor`, without retries."""
    return ApiClient(
        "cxengage",
        CXENGAGE_CAPABILITIES,
        "http://api.test",
        ClientOptions(
            partition="cxengage/2026-03-08",
            retry=RetryPolicy(attempts=1),
            transport=httpx.MockTransport(vendor),
            connect_timeout_s=5,
            **options,
        ),
    )


def read(
    vendor: Callable[[httpx.Request], Any],
    paginator: Paginator,
    *,
    key: str = "results",
    **options: Any,
) -> tuple[pa.Table, ApiClient]:
    """The whole range through a `PagedEndpoint`."""
    api = api_client(vendor)
    endpoint = PagedEndpoint(api, PATH, paginator, key=key, **options)

    async def go() -> pa.Table:
        try:
            return await endpoint.read({"start": "s", "end": "e"}, FIELDS)
        finally:
            await api.aclose()

    return asyncio.run(go()), api


def ids(table: pa.Table) -> list[str]:
    return table.column("eventId").to_pylist()


@pytest.mark.parametrize(
    ("paginator", "total", "expected"),
    [
        (OffsetPaginator(2), 0, []),
        (OffsetPaginator(2), 2, []),
        (OffsetPaginator(2), 5, [{"limit": 2, "offset": 2}, {"limit": 2, "offset": 4}]),
        (PageNumberPaginator(2), 0, []),
        (PageNumberPaginator(2), 2, []),
        (
            PageNumberPaginator(2),
            5,
            [{"pageSize": 2, "pageNumber": 2}, {"pageSize": 2, "pageNumber": 3}],
        ),
        (
            PageNumberPaginator(3, base_page=0, page_param="page"),
            7,
            [{"pageSize": 3, "page": 1}, {"pageSize": 3, "page": 2}],
        ),
    ],
)
def test_pages_after_the_first_cover_the_total_and_no_more(
    paginator: Paginator, total: int, expected: list[dict[str, int]]
) -> None:
    size = next(iter(paginator.first_page().values()))
    pages, page = [], paginator.first_page()
    while (page := paginator.next_page(page, min(size, total), total)) is not None:  # type: ignore[assignment]
        pages.append(page)
    assert pages == expected


def test_a_server_that_caps_the_page_size_is_paged_by_what_it_sent() -> None:
    """CxEngage: the next offset is the offset plus the results received; stepping by the
    `limit` asked for would skip the records between."""
    capped = OffsetPaginator(1000)
    assert capped.next_page(capped.first_page(), 500, 1200) == {"limit": 1000, "offset": 500}
    assert capped.next_page({"limit": 1000, "offset": 500}, 300, 1200) == {
        "limit": 1000,
        "offset": 800,
    }
    assert capped.next_page({"limit": 1000, "offset": 800}, 400, 1200) is None
    assert capped.next_page({"limit": 1000, "offset": 800}, 0, 1200) is None  # an empty page


def test_a_capped_server_is_read_whole_by_offset_plus_received() -> None:
    """The server serves at most 3 of the 1000 asked for, then 2 (a cap that varies)."""
    caps = iter([3, 2, 3, 2, 3])

    def capped(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        rows = [record(f"e{i}") for i in range(12)][offset:][: next(caps)]
        return httpx.Response(200, json={"total": 12, "limit": 3, "results": rows})

    asked: list[int] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        asked.append(int(request.url.params["offset"]))
        return capped(request)

    table, api = read(vendor, OffsetPaginator(1000))
    assert ids(table) == [f"e{i}" for i in range(12)]
    assert asked == [0, 3, 5, 8, 10]
    assert api.stats.rereads == 0


def test_a_page_holds_at_least_one_record() -> None:
    with pytest.raises(ValueError, match="limit=0"):
        OffsetPaginator(0)
    with pytest.raises(ValueError, match="page_size=0"):
        PageNumberPaginator(0)


def test_offset_pages_stop_at_the_total() -> None:
    vendor = Vendor([record(f"e{i}") for i in range(5)])
    table, api = read(vendor, OffsetPaginator(2))
    assert ids(table) == ["e0", "e1", "e2", "e3", "e4"]
    assert vendor.pages_asked("offset") == [0, 2, 4]
    assert (api.stats.pages, api.stats.rereads) == (3, 0)


def test_page_numbers_stop_at_total_records() -> None:
    vendor = Vendor([record(f"e{i}") for i in range(5)], by_page_number=True)
    table, api = read(vendor, PageNumberPaginator(2), key="records")
    assert ids(table) == ["e0", "e1", "e2", "e3", "e4"]
    assert vendor.pages_asked("pageNumber") == [1, 2, 3]
    assert {params["pageSize"] for params in vendor.asked} == {"2"}
    assert (api.stats.pages, api.stats.rereads) == (3, 0)


def test_an_empty_range_is_one_request() -> None:
    vendor = Vendor([], by_page_number=True)
    table, _ = read(vendor, PageNumberPaginator(2), key="records")
    assert table.num_rows == 0 and table.column_names == [*FIELDS, "_wire_error"]
    assert vendor.pages_asked("pageNumber") == [1]


def test_a_404_is_an_empty_range_only_where_allowed() -> None:
    def no_data(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404)

    table, _ = read(no_data, PageNumberPaginator(2), key="records", not_found_ok=True)
    assert table.num_rows == 0 and table.column_names == [*FIELDS, "_wire_error"]
    with pytest.raises(VendorError) as caught:
        read(no_data, OffsetPaginator(2))
    assert caught.value.status == 404


def test_a_total_that_changes_mid_read_rereads_the_range() -> None:
    def late_event(requests: int, records: list[dict[str, Any]]) -> None:
        if requests == 2:  # after the second page: a record at the range's end
            records.append(record("late"))

    vendor = Vendor([record(f"e{i}") for i in range(5)], after_request=late_event)
    table, api = read(vendor, OffsetPaginator(2))
    assert ids(table) == ["e0", "e1", "e2", "e3", "e4", "late"]
    # the third page said total 6: the range is read again, whole, and then holds still
    assert vendor.pages_asked("offset") == [0, 2, 4, 0, 2, 4]
    assert api.stats.rereads == 1


def test_a_record_inserted_before_an_offset_already_read_comes_back_exactly_once() -> None:
    def late_event(requests: int, records: list[dict[str, Any]]) -> None:
        if requests == 2:  # pages 0 and 2 are read: insert before offset 2, so e3 shifts right
            records.insert(1, record("late"))

    vendor = Vendor([record(f"e{i}") for i in range(6)], after_request=late_event)
    table, api = read(vendor, OffsetPaginator(2))
    assert sorted(ids(table)) == sorted(["e0", "e1", "e2", "e3", "e4", "e5", "late"])
    assert ids(table) == ["e0", "late", "e1", "e2", "e3", "e4", "e5"]
    assert api.stats.rereads == 1


def test_the_same_for_page_numbers() -> None:
    def late_event(requests: int, records: list[dict[str, Any]]) -> None:
        if requests == 1:
            records.insert(0, record("late"))

    vendor = Vendor(
        [record(f"e{i}") for i in range(4)], by_page_number=True, after_request=late_event
    )
    table, api = read(vendor, PageNumberPaginator(2), key="records")
    assert ids(table) == ["late", "e0", "e1", "e2", "e3"]
    assert vendor.pages_asked("pageNumber") == [1, 2, 1, 2, 3]
    assert api.stats.rereads == 1


def test_pages_that_do_not_add_up_to_the_total_are_read_again() -> None:
    served = [3, 2]  # records on the one page: 3 while it says 2, then 2

    def miscounted(request: httpx.Request) -> httpx.Response:
        rows = [record(f"e{i}") for i in range(served.pop(0))]
        return httpx.Response(200, json={"total": 2, "results": rows})

    table, api = read(miscounted, OffsetPaginator(5))
    assert ids(table) == ["e0", "e1"] and api.stats.rereads == 1


def test_rereads_are_bounded_by_a_clear_vendor_error() -> None:
    def growing(requests: int, records: list[dict[str, Any]]) -> None:
        records.append(record(f"new{requests}"))  # the range changes on every request

    vendor = Vendor([record(f"e{i}") for i in range(3)], after_request=growing)
    with pytest.raises(VendorError) as caught:
        read(vendor, OffsetPaginator(2), max_rereads=2, total_name="the record count")
    error = caught.value
    assert str(error).startswith("the record count kept changing across 2 re-reads")
    assert (error.vendor, error.partition, error.url) == (
        "cxengage",
        "cxengage/2026-03-08",
        PATH,
    )
    assert vendor.pages_asked("offset").count(0) == 3


def test_the_default_bound_and_name_of_the_total() -> None:
    def growing(requests: int, records: list[dict[str, Any]]) -> None:
        records.append(record(f"new{requests}"))

    vendor = Vendor([record("e0"), record("e1")], by_page_number=True, after_request=growing)
    with pytest.raises(VendorError, match=f"^totalRecords kept changing across {MAX_REREADS} "):
        read(vendor, PageNumberPaginator(1), key="records")
    assert vendor.pages_asked("pageNumber").count(1) == MAX_REREADS + 1


def test_a_page_without_its_total_is_a_bad_payload() -> None:
    def no_total(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"results": []})

    with pytest.raises(VendorError, match="field 'total' should be int, got NoneType"):
        read(no_total, OffsetPaginator(2))


def test_a_vendor_serving_ever_smaller_pages_is_stopped_by_the_page_bound() -> None:
    """A first page of 10 for a total of 100 calls for 10 pages (+ the margin); a vendor that
    then serves one record a page is refused there, not paged through a record at a time."""
    asked: list[int] = []

    def dribbling(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        asked.append(offset)
        rows = [record(f"e{offset + i}") for i in range(10 if offset == 0 else 1)]
        return httpx.Response(200, json={"total": 100, "results": rows})

    with pytest.raises(VendorError, match=f"more than {10 + PAGE_MARGIN} pages for a range of 100"):
        read(dribbling, OffsetPaginator(10))
    assert len(asked) == 10 + PAGE_MARGIN


def test_a_partition_holds_at_most_its_record_cap_across_ranges() -> None:
    """Each range's total is checked, at its first page, against what the partition already
    holds: the third range of 10 records passes a 25-record cap and is refused unread."""
    asked: list[dict[str, str]] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        asked.append(dict(request.url.params))
        rows = [record(f"{request.url.params['start']}-{i}") for i in range(10)]
        return httpx.Response(200, json={"total": 10, "results": rows})

    api = api_client(vendor, max_partition_records=25)
    endpoint = PagedEndpoint(api, PATH, OffsetPaginator(100), key="results")

    async def go() -> None:
        try:
            for start in ("a", "b", "c"):
                await endpoint.read({"start": start}, FIELDS)
        finally:
            await api.aclose()

    with pytest.raises(VendorError) as caught:
        asyncio.run(go())
    message = str(caught.value)
    assert "past its cap of 25 records (AGENTSTATE_MAX_PARTITION_RECORDS)" in message
    assert caught.value.partition == "cxengage/2026-03-08"
    assert [params["start"] for params in asked] == ["a", "b", "c"]  # one page each
    assert endpoint.held == 20


def test_records_with_an_id_come_back_once_and_conflicts_are_flagged() -> None:
    first, closed = record("e1"), record("e1", "09:10")
    served = [first, record("e0"), first, record("e2"), closed, {"end": "no id"}]
    vendor = Vendor(served)
    table, api = read(vendor, OffsetPaginator(2), unique_by="eventId")
    assert table.select(["eventId", "end", "_wire_error"]).to_pylist() == [
        {"eventId": "e1", "end": None, "_wire_error": "conflicting_duplicate:eventId"},
        {"eventId": "e0", "end": None, "_wire_error": None},
        {"eventId": "e2", "end": None, "_wire_error": None},
        {"eventId": "e1", "end": "09:10", "_wire_error": "conflicting_duplicate:eventId"},
        {"eventId": "e1", "end": "09:10", "_wire_error": None},  # the last word, landed
        {"eventId": None, "end": "no id", "_wire_error": None},
    ]
    assert (api.stats.duplicates_dropped, api.stats.conflicting_duplicates) == (1, 1)


def test_without_an_id_repeats_are_kept_for_the_interval_builder() -> None:
    vendor = Vendor([record("e1"), record("e1")], by_page_number=True)
    table, api = read(vendor, PageNumberPaginator(2), key="records")
    assert ids(table) == ["e1", "e1"] and api.stats.duplicates_dropped == 0


def test_pages_of_one_record_are_merged_as_they_come() -> None:
    """A server capping pages at one record: 200 pages make a handful of Arrow chunks (a
    binary counter), not 200 tables of buffers, and every record is kept in order."""
    vendor = Vendor([record(f"e{i}") for i in range(200)])
    table, api = read(vendor, OffsetPaginator(1))
    assert ids(table) == [f"e{i}" for i in range(200)] and api.stats.pages == 200
    assert table.column("eventId").num_chunks <= 8
