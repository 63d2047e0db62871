"""The shared retry policy and error reporting, on a scripted transport (no network)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pyarrow as pa
import pytest

from agentstate_etl.errors import VendorError
from agentstate_etl.http import ApiClient, ClientOptions, RequestRejected, RetryPolicy, gather_all
from agentstate_etl.paging import MAX_REREADS
from agentstate_etl.vendors.cxengage import CAPABILITIES as CXENGAGE_CAPABILITIES
from tests.clients.clients import cxengage_client


class Script:
    """Answers requests from a list of responses or exceptions, recording what was asked."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(
    script: Script, slept: list[float], attempts: int = 4, base_url: str = "http://api.test"
) -> ApiClient:
    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    return ApiClient(
        "cxengage",
        CXENGAGE_CAPABILITIES,
        base_url,
        ClientOptions(
            partition="cxengage/2026-03-08",
            max_in_flight=2,
            retry=RetryPolicy(attempts=attempts, base_delay_s=0.5, max_delay_s=4, sleep=fake_sleep),
            transport=httpx.MockTransport(script),
            connect_timeout_s=5,
        ),
    )


def run(api: ApiClient, call: Callable[[ApiClient], object]) -> object:
    async def go() -> object:
        try:
            return await call(api)  # type: ignore[misc]
        finally:
            await api.aclose()

    return asyncio.run(go())


def get(path: str = "/v1/x", **kwargs: object) -> Callable[[ApiClient], object]:
    return lambda api: api.request_json("GET", path, params={"a": 1}, **kwargs)  # type: ignore[arg-type]


def test_429_waits_exactly_retry_after() -> None:
    slept: list[float] = []
    script = Script(
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.Response(200, json={"ok": True}),
    )
    api = client(script, slept)
    assert run(api, get()) == {"ok": True}
    assert slept == [7.0, 0.0]
    assert (api.stats.rate_limited, api.stats.retries, api.stats.requests) == (2, 2, 3)


def test_5xx_and_dropped_connections_back_off_then_succeed() -> None:
    slept: list[float] = []
    script = Script(
        httpx.Response(503),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        httpx.ReadTimeout("timed out"),
        httpx.Response(200, json=[1]),
    )
    api = client(script, slept)
    assert run(api, get()) == [1]
    assert (api.stats.server_errors, api.stats.connection_errors, api.stats.retries) == (1, 2, 3)
    assert all(0 < s <= 4 + 0.5 for s in slept)  # backoff with jitter, capped


def test_gives_up_after_bounded_attempts_naming_vendor_partition_and_url() -> None:
    slept: list[float] = []
    script = Script(httpx.Response(500))
    api = client(script, slept, attempts=3, base_url="http://sim-user:sim-pass@api.test")
    with pytest.raises(VendorError) as caught:
        run(api, get("/v1/tenants/t/wfm/rta"))
    error = caught.value
    assert len(script.requests) == 3 and len(slept) == 2
    assert (error.vendor, error.partition, error.status) == ("cxengage", "cxengage/2026-03-08", 500)
    assert "api.test/v1/tenants/t/wfm/rta?a=1" in str(error)
    assert "sim-pass" not in str(error) and "sim-user" not in str(error)


def test_unreachable_host_is_a_vendor_error() -> None:
    slept: list[float] = []
    api = client(Script(httpx.ConnectError("connection refused")), slept, attempts=2)
    with pytest.raises(VendorError, match="unreachable after 2 attempts.*ConnectError"):
        run(api, get())


def test_client_errors_fail_at_once_with_the_body() -> None:
    slept: list[float] = []
    script = Script(httpx.Response(422, text="startTime must be before endTime"))
    api = client(script, slept)
    with pytest.raises(VendorError, match="startTime must be before endTime") as caught:
        run(api, get())
    assert caught.value.status == 422 and len(script.requests) == 1 and not slept


def test_404_is_empty_only_where_the_api_says_so() -> None:
    assert run(client(Script(httpx.Response(404)), []), get(not_found_ok=True)) is None
    with pytest.raises(VendorError):
        run(client(Script(httpx.Response(404)), []), get())


def test_bad_payload_is_an_error_not_a_skip() -> None:
    api = client(Script(httpx.Response(200, text="<html>maintenance</html>")), [])
    with pytest.raises(VendorError, match="not JSON") as caught:
        run(api, get("/v1/rta"))
    assert "api.test/v1/rta" in caught.value.url


class CountingAuth:
    def __init__(self) -> None:
        self.renewals = 0

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer token-{self.renewals}"}

    async def unauthorized(self, sent: dict[str, str]) -> None:
        self.renewals += 1


def test_401_renews_credentials_once() -> None:
    auth = CountingAuth()
    script = Script(httpx.Response(401), httpx.Response(200, json={}))
    assert run(client(script, []), get(auth=auth)) == {}
    assert auth.renewals == 1
    assert [r.headers["Authorization"] for r in script.requests] == [
        "Bearer token-0",
        "Bearer token-1",
    ]

    auth = CountingAuth()
    with pytest.raises(VendorError, match="credentials rejected") as caught:
        run(client(Script(httpx.Response(401)), []), get(auth=auth))
    assert caught.value.status == 401 and auth.renewals == 1


class IssuingAuth:
    """A new token at each call, as a token that aged past its renewal time gets one."""

    def __init__(self) -> None:
        self.issued: list[str] = []

    async def headers(self) -> dict[str, str]:
        self.issued.append(f"Bearer t{len(self.issued)}")
        return {"Authorization": self.issued[-1]}

    async def unauthorized(self, sent: dict[str, str]) -> None:
        pass


def test_credentials_are_taken_when_a_request_s_turn_comes_not_while_it_waits() -> None:
    """Requests queued behind the concurrency gate take their token when they are sent: each
    sends the newest token (before: all took theirs at once, and the last sent a token as old
    as the queue was long, expired when the queue outlived it)."""
    auth, sent_was_newest = IssuingAuth(), []

    async def answer(request: httpx.Request) -> httpx.Response:
        sent_was_newest.append(request.headers["Authorization"] == auth.issued[-1])
        await asyncio.sleep(0.01)  # the others queue meanwhile
        return httpx.Response(200, json={})

    async def six(api: ApiClient) -> object:
        return await asyncio.gather(*(get(auth=auth)(api) for _ in range(6)))  # type: ignore[misc]

    one_at_a_time = ApiClient(
        "cxengage",
        CXENGAGE_CAPABILITIES,
        "http://api.test",
        ClientOptions(
            partition="cxengage/2026-03-08",
            max_in_flight=1,  # five wait their turn
            transport=httpx.MockTransport(answer),
        ),
    )
    run(one_at_a_time, six)
    assert sent_was_newest == [True] * 6


@pytest.mark.parametrize("header", ["Wed, 21 Oct 2026 07:28:00 GMT", "nan", "soon"])
def test_a_retry_after_that_is_not_seconds_falls_back_to_backoff(header: str) -> None:
    slept: list[float] = []
    script = Script(
        httpx.Response(429, headers={"Retry-After": header}), httpx.Response(200, json={})
    )
    assert run(client(script, slept), get()) == {}
    assert len(slept) == 1 and 0 < slept[0] <= 4 + 0.5


def test_a_rejected_request_carries_the_body_for_callers_to_act_on() -> None:
    script = Script(httpx.Response(400, text="range longer than the maximum of 6:00:00"))
    with pytest.raises(RequestRejected) as caught:
        run(client(script, []), get())
    assert caught.value.detail == "range longer than the maximum of 6:00:00"
    assert isinstance(caught.value, VendorError) and caught.value.status == 400


def test_gather_all_keeps_order_and_a_failure_cancels_the_rest() -> None:
    cancelled: list[int] = []

    async def page(number: int, fail: bool = False) -> int:
        try:
            await asyncio.sleep(0 if fail else 0.5)
        except asyncio.CancelledError:
            cancelled.append(number)
            raise
        if fail:
            raise VendorError("page failed", vendor="cxone", url="http://api.test/p")
        return number

    async def ordered() -> list[int]:
        async def quick(number: int) -> int:
            await asyncio.sleep(0.001 * (3 - number))
            return number

        return await gather_all([quick(n) for n in range(3)])

    assert asyncio.run(ordered()) == [0, 1, 2]
    with pytest.raises(VendorError, match="page failed"):
        asyncio.run(gather_all([page(1), page(2, fail=True), page(3)]))
    assert sorted(cancelled) == [1, 3]


def test_cxengage_gives_up_when_the_total_never_settles() -> None:
    """A range that changes on every read: bounded re-reads, then an error naming it."""
    reads: list[int] = []

    def rta(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        reads.append(offset)
        total = 3 + len(reads)  # grows with every request
        rows = [{"eventId": f"e{i}"} for i in range(offset, min(offset + 2, total))]
        return httpx.Response(200, json={"total": total, "results": rows})

    async def go() -> None:
        async with cxengage_client(
            "http://api.test",
            "t",
            "u",
            "p",
            partition="cxengage/2026-03-08",
            page_size=2,
            transport=httpx.MockTransport(rta),
        ) as engage:
            await engage.fetch_intervals(  # one 10-minute window
                datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 3, 8, 0, 10, tzinfo=UTC), FIELDS
            )

    with pytest.raises(VendorError, match="kept changing") as caught:
        asyncio.run(go())
    assert caught.value.partition == "cxengage/2026-03-08"
    assert reads.count(0) == MAX_REREADS + 1


FIELDS = {"eventId": pa.string()}


def test_a_forked_worker_parses_pages_with_threads_of_its_own() -> None:
    """A worker forked after its parent parsed pages (a Celery prefork child) starts its own
    page parsers: a pool shared across the fork would wait forever on threads that did not
    survive it (the child is killed by an alarm after 10 s instead)."""
    page = httpx.Response(200, json={"results": [{"eventId": "e1"}], "total": 1})

    def rows_read() -> int:
        api = client(Script(page), [])

        async def read() -> int:
            try:
                answer = await api.request_page("/rta", key="results", fields=FIELDS)
            finally:
                await api.aclose()
            assert answer is not None
            return answer[1].num_rows

        return asyncio.run(read())

    assert rows_read() == 1
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's outcome is its exit status
        code = 1
        try:
            signal.alarm(10)
            code = 0 if rows_read() == 1 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
