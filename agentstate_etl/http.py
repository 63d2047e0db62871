"""One way to call a vendor API: bounded concurrency, one retry policy, counters, clear errors.

Retries use tenacity (exponential backoff with jitter, bounded attempts) rather than a
hand-written loop; a 429's `Retry-After` overrides the backoff. Every error names the
vendor, the partition and the URL, never a credential: the credentials a client sends are
collected as it sends them and redacted from every error text (`agentstate_etl.redaction`).

Two deadlines bound a hostile vendor (one that trickles a byte every few seconds never trips
a per-read timeout): each request as a whole, body included (`Timeouts.request_s`, retried
like a dropped connection), and a partition's whole fetch (`Timeouts.partition_s`, not
retried).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import os
import ssl
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, Protocol, Self, TypeVar
from urllib.parse import quote

import httpx
import orjson
import pyarrow as pa
from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from agentstate_etl.errors import VendorError
from agentstate_etl.redaction import SCAN_CHARS, Secrets
from agentstate_etl.vendors.capabilities import Capabilities
from agentstate_etl.wire import PageShapeError, decode_page

REQUEST_TIMEOUT_VARIABLE = "AGENTSTATE_REQUEST_TIMEOUT_S"
PARTITION_TIMEOUT_VARIABLE = "AGENTSTATE_PARTITION_TIMEOUT_S"
MAX_PARTITION_RECORDS_VARIABLE = "AGENTSTATE_MAX_PARTITION_RECORDS"
# A partition holding more records than this is a vendor gone wrong (a day of a large center
# holds a few hundred thousand); it bounds a partition's memory (docs/vendors.md, #22.5).
DEFAULT_MAX_PARTITION_RECORDS = 5_000_000


@functools.cache
def _page_parsers(pid: int) -> ThreadPoolExecutor:
    """The threads that parse pages off the event loop, one per core (at most 4), shared by
    every client of process `pid` (a forked worker makes its own: threads do not survive a
    fork). Not asyncio's default pool of cores + 4: parsing holds the GIL between Arrow calls,
    and more parsers than cores only queue for it, delaying the event loop's next request (on
    2 cores a 1,500-agent week was fetched in 6.9 s with 2 parsers, 8.0 s with 6)."""
    return ThreadPoolExecutor(min(4, os.cpu_count() or 1), thread_name_prefix="agentstate-page")


@dataclass
class FetchStats:
    """What a fetch cost; every field lands in run metadata."""

    requests: int = 0
    pages: int = 0
    retries: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    connection_errors: int = 0
    token_renewals: int = 0
    rereads: int = 0
    duplicates_dropped: int = 0
    conflicting_duplicates: int = 0
    request_timeouts: int = 0
    records: int = 0
    summary_failures: int = 0  # per-agent summary reports that failed (CXone)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_delay_s: float = 0.2
    max_delay_s: float = 10.0
    max_retry_after_s: float = 120.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)


@dataclass(frozen=True)
class Timeouts:
    """Deadlines in seconds: one request, body included (a timed-out request is retried), and
    one partition's whole fetch, retries and waits included (not retried)."""

    request_s: float = 60.0
    partition_s: float = 1800.0

    def __post_init__(self) -> None:
        for name, seconds in (("request_s", self.request_s), ("partition_s", self.partition_s)):
            if not (math.isfinite(seconds) and seconds > 0):
                raise ValueError(f"Timeouts.{name} must be a positive number, got {seconds}")


class AuthHook(Protocol):
    """Credentials sent as headers, renewed when the API says 401."""

    async def headers(self) -> dict[str, str]: ...

    async def unauthorized(self, sent: dict[str, str]) -> None: ...


T = TypeVar("T")
P = ParamSpec("P")


class RequestRejected(VendorError):
    """A 4xx the API will answer the same way again; `detail` is its (trimmed) body."""

    def __init__(self, message: str, *, detail: str, **where: Any) -> None:
        super().__init__(message, **where)
        self.detail = detail


class _Retryable(Exception):
    """A response worth another attempt (429, 5xx, or a 401 after renewing credentials)."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


class _RequestDeadline(Exception):
    """A request that did not complete, body included, within `Timeouts.request_s`."""


def iso_utc(moment: datetime) -> str:
    """`2026-03-04T05:06:07.123Z`: the one timestamp format we send to vendors."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def path_segment(value: str) -> str:
    """`value` as one URL path segment: an id never becomes a path (`../x`, `a/b?q`)."""
    return quote(value, safe="")


def safe_url(url: httpx.URL | str) -> str:
    """The URL without user info (credentials never go in a URL we print)."""
    return str(httpx.URL(str(url)).copy_with(userinfo=b""))


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's default TLS context (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), built once.

    Building one loads the CA bundle (~40 ms); a client per partition would pay it every day.
    """
    return httpx.create_ssl_context()


class WindowMemo:
    """The time windows one fetch read, for the next fetch of the same run: a backfill fetches
    its days one after the other, and day n+1's lookback is the end of day n, read seconds
    before. A window the next fetch asks for again (same start and end) is taken from here
    instead of asked again; only the last fetch's windows are held."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], pa.Table] = {}

    def take(self) -> dict[tuple[str, str], pa.Table]:
        """The windows the last fetch kept, handed over once (and no longer held here)."""
        last, self._last = self._last, {}
        return last

    def keep(self, windows: dict[tuple[str, str], pa.Table]) -> None:
        self._last = windows


@dataclass(frozen=True)
class ClientOptions:
    """How one client of a tenant runs, the same for every vendor: the partition it serves (for
    errors), a transport (tests), deadlines, retries, page size and the per-tenant limits
    (None: what the vendor's capabilities declare)."""

    partition: str | None = None
    transport: httpx.AsyncBaseTransport | None = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    page_size: int = 1000
    connect_timeout_s: float = 30.0
    max_in_flight: int | None = None
    requests_per_s: float | None = None
    max_partition_records: int = DEFAULT_MAX_PARTITION_RECORDS
    # windows read by the run's previous fetch, for a vendor read in time windows (None: every
    # window is asked for)
    window_memo: WindowMemo | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.max_partition_records < 1:
            raise ValueError(
                f"max_partition_records must be at least 1, got {self.max_partition_records}"
            )
        if self.page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {self.page_size}")
        if self.max_in_flight is not None and self.max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {self.max_in_flight}")


class ApiClient:
    """An httpx client for one vendor and partition, with retries, a concurrency bound, a
    request-rate bound and stats."""

    def __init__(
        self,
        vendor: str,
        capabilities: Capabilities,
        base_url: str,
        options: ClientOptions,
        *,
        auth: httpx.Auth | None = None,
    ) -> None:
        """The connect timeout is `options.connect_timeout_s`; reads are bounded by the request
        deadline instead, so a vendor that is slow but within `timeouts.request_s` is not cut
        off after one read."""
        self.vendor = vendor
        self.capabilities = capabilities
        self.partition = options.partition
        self.options = options
        self.stats = FetchStats()
        self.policy = options.retry
        self.timeouts = options.timeouts
        self.secrets = Secrets()
        self._last_request: tuple[str, str, dict[str, Any] | None] = ("GET", "", None)
        concurrency = options.max_in_flight or capabilities.max_in_flight
        self._gate = asyncio.Semaphore(concurrency)
        rate = options.requests_per_s or capabilities.requests_per_s
        # a leaky bucket of one second: at most `rate` requests start in any second
        self._rate = AsyncLimiter(rate, 1.0) if rate else None
        self._backoff = wait_exponential_jitter(
            multiplier=self.policy.base_delay_s,
            max=self.policy.max_delay_s,
            jitter=self.policy.base_delay_s,
        )
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self.http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            auth=auth,
            transport=options.transport,
            limits=limits,
            timeout=httpx.Timeout(
                None, connect=min(options.connect_timeout_s, self.timeouts.request_s)
            ),
            verify=_ssl_context(),
        )

    def time(self, moment: datetime) -> str:
        """A request's time written as this vendor accepts it."""
        return self.capabilities.format_time(moment)

    async def aclose(self) -> None:
        await self.http.aclose()

    def error(self, message: str, url: httpx.URL | str, status: int | None = None) -> VendorError:
        """A VendorError whose text has every credential this client sent redacted."""
        return VendorError(
            self.secrets.redact(message),
            vendor=self.vendor,
            url=self.printable(url),
            partition=self.partition,
            status=status,
        )

    def printable(self, url: httpx.URL | str) -> str:
        """A URL for an error: no user info, no credential this client sent."""
        return self.secrets.redact(safe_url(url), limit=2000)

    def body_text(self, response: httpx.Response) -> str:
        """The start of a response body, redacted and bounded, for an error message."""
        head = response.content[: SCAN_CHARS * 4].decode(response.encoding or "utf-8", "replace")
        return self.secrets.redact(head) or "(empty body)"

    def _transport_text(self, exc: httpx.TransportError) -> str:
        """`ConnectTimeout: ...` with something to act on even when httpx gives no text."""
        name, text = type(exc).__name__, str(exc).strip()
        if text:
            return f"{name}: {self.secrets.redact(text)}"
        if isinstance(exc, httpx.TimeoutException):
            phase = {
                httpx.ConnectTimeout: "connect",
                httpx.ReadTimeout: "read",
                httpx.WriteTimeout: "write",
                httpx.PoolTimeout: "pool",
            }.get(type(exc), "")
            seconds = getattr(self.http.timeout, phase, None) if phase else None
            if seconds is not None:
                return f"{name}: no {phase} progress within the {phase} timeout of {seconds:g} s"
            return f"{name}: timed out ({phase or 'transport'} phase, httpx gave no detail)"
        return f"{name} (httpx gave no detail)"

    async def within_partition_deadline(self, call: Awaitable[T]) -> T:
        """`call` (a partition's fetch), cancelled with a VendorError after `partition_s`."""
        seconds = self.timeouts.partition_s
        deadline = asyncio.timeout(seconds)
        try:
            async with deadline:
                return await call
        except TimeoutError:
            if not deadline.expired():
                raise
            raise self.error(
                f"the partition's fetch did not finish within its deadline of {seconds:g} s "
                f"({PARTITION_TIMEOUT_VARIABLE}; requests: {self.stats.requests}, retries: "
                f"{self.stats.retries}, the URL is the last one requested)",
                self._url(*self._last_request),
            ) from None

    def _url(self, method: str, url: str, params: dict[str, Any] | None) -> httpx.URL:
        """The full URL a request goes to (for errors raised before or without a response)."""
        return self.http.build_request(method, url, params=params).url

    def _wait(self, state: RetryCallState) -> float:
        backoff = self._backoff(state)
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Retryable) and error.response.status_code == 429:
            header = error.response.headers.get("Retry-After", "")
            try:
                seconds = float(header)
            except ValueError:  # an HTTP date, or garbage: our own backoff
                return backoff
            if math.isnan(seconds):
                return backoff
            return min(max(seconds, 0.0), self.policy.max_retry_after_s)
        return backoff

    def _count_retry(self, state: RetryCallState) -> None:
        self.stats.retries += 1

    async def request_json(self, method: str, url: str, **kwargs: Any) -> Any:
        """One logical call, its JSON body decoded (None for an allowed 404)."""
        response = await self._send(method, url, **kwargs)
        if response is None:
            return None
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise self.error(f"response is not JSON ({exc})", response.request.url) from None

    async def request_page(
        self, url: str, *, key: str, fields: dict[str, pa.DataType], **kwargs: Any
    ) -> tuple[dict[str, Any], pa.Table] | None:
        """One page of records: its other fields, and the records under `key` as Arrow."""
        response = await self._send("GET", url, **kwargs)
        if response is None:
            return None
        try:
            # parsing releases the GIL: a parser thread overlaps it with the next responses
            head, table = await asyncio.get_running_loop().run_in_executor(
                _page_parsers(os.getpid()), decode_page, response.content, key, fields
            )
        except (PageShapeError, orjson.JSONDecodeError) as exc:
            raise self.error(f"unexpected payload: {exc}", response.request.url) from None
        self.stats.pages += 1
        return head, table

    async def _send(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        auth: AuthHook | None = None,
        basic: tuple[str, str] | None = None,
        not_found_ok: bool = False,
        gated: bool = True,
    ) -> httpx.Response | None:
        """Retried on 429/5xx/transport errors, renewed once on 401; None for an allowed 404.

        A gated call waits for its turn (the concurrency gate, then the rate limit) before it
        takes its credentials, so a token never ages in the queue: with a backlog longer than
        a token's remaining life, headers taken before the wait were expired when sent, and
        the request failed as "credentials rejected" after its one renewal. The token request
        itself is not gated (it is made from inside a gated call's turn)."""
        renewed = False
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.policy.attempts),
            wait=self._wait,
            retry=retry_if_exception_type((_Retryable, _RequestDeadline, httpx.TransportError)),
            sleep=self.policy.sleep,
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    if basic:
                        self.secrets.add_basic(*basic)
                    async with self._gate if gated else contextlib.nullcontext():
                        if self._rate is not None and gated:
                            await self._rate.acquire()
                        headers = await auth.headers() if auth else None
                        for value in (headers or {}).values():
                            self.secrets.add_header(value)
                        self.stats.requests += 1
                        self._last_request = (method, url, params)
                        deadline = asyncio.timeout(self.timeouts.request_s)
                        try:
                            async with deadline:
                                response = await self.http.request(
                                    method,
                                    url,
                                    params=params,
                                    data=data,
                                    headers=headers,
                                    auth=basic or httpx.USE_CLIENT_DEFAULT,
                                )
                        except httpx.TransportError:
                            self.stats.connection_errors += 1
                            raise
                        except TimeoutError:
                            if not deadline.expired():
                                raise
                            self.stats.request_timeouts += 1
                            raise _RequestDeadline() from None
                    status = response.status_code
                    if status == 401 and auth and not renewed:
                        renewed = True
                        await auth.unauthorized(headers or {})
                        raise _Retryable(response)
                    if status == 429:
                        self.stats.rate_limited += 1
                        raise _Retryable(response)
                    if status >= 500:
                        self.stats.server_errors += 1
                        raise _Retryable(response)
        except _Retryable as exc:
            raise self.error(
                f"{self.vendor} API still failing after {self.policy.attempts} attempts "
                f"(last answer HTTP {exc.response.status_code}: {self.body_text(exc.response)})",
                exc.response.request.url,
                exc.response.status_code,
            ) from None
        except _RequestDeadline:
            raise self.error(
                f"no complete response within the request deadline of "
                f"{self.timeouts.request_s:g} s ({REQUEST_TIMEOUT_VARIABLE}) in "
                f"{self.policy.attempts} attempts: the vendor is stalled or slower than that",
                self._url(method, url, params),
            ) from None
        except httpx.TransportError as exc:
            raise self.error(
                f"{self.vendor} API unreachable after {self.policy.attempts} attempts: "
                f"{self._transport_text(exc)}",
                exc.request.url if _has_request(exc) else url,
            ) from None
        return self._check(response, not_found_ok)

    def _check(self, response: httpx.Response, not_found_ok: bool) -> httpx.Response | None:
        status, url = response.status_code, response.request.url
        if status == 404 and not_found_ok:
            return None
        if status == 401:
            raise self.error(
                f"credentials rejected (HTTP 401: {self.body_text(response)}); "
                "check the vendor variables",
                url,
                401,
            )
        if status >= 400:
            text = self.body_text(response)
            raise RequestRejected(
                f"request rejected: {text}",
                detail=text,
                vendor=self.vendor,
                url=self.printable(url),
                partition=self.partition,
                status=status,
            )
        return response


async def gather_all(calls: list[Coroutine[Any, Any, T]]) -> list[T]:
    """Results in call order; the first failure cancels the calls still running and is raised.

    A TaskGroup rather than `asyncio.gather`, so a failed page does not leave its siblings
    retrying against a client that is about to close.
    """
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(call) for call in calls]
    except BaseExceptionGroup as failed:
        first = failed.exceptions[0]
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
    return [task.result() for task in tasks]


def _has_request(exc: httpx.TransportError) -> bool:
    try:
        exc.request  # noqa: B018 - raises when the error has no request attached
    except RuntimeError:
        return False
    return True


def expect(client: ApiClient, body: Any, url: str, **shape: type) -> dict[str, Any]:
    """Check a JSON body is an object with fields of the given types, or fail naming the URL."""
    if not isinstance(body, dict):
        raise client.error(
            f"unexpected payload: expected an object, got {type(body).__name__}", url
        )
    for name, kind in shape.items():
        if not isinstance(body.get(name), kind) or isinstance(body.get(name), bool):
            raise client.error(
                f"unexpected payload: field {name!r} should be {kind.__name__}, "
                f"got {type(body.get(name)).__name__}",
                url,
            )
    return body


class VendorClient:
    """What every vendor client shares: one `ApiClient`, closed when `async with` ends."""

    api: ApiClient

    @property
    def stats(self) -> FetchStats:
        return self.api.stats

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.api.aclose()


VendorClientT = TypeVar("VendorClientT", bound=VendorClient)


def partition_deadline(
    fetch: Callable[Concatenate[VendorClientT, P], Awaitable[T]],
) -> Callable[Concatenate[VendorClientT, P], Coroutine[Any, Any, T]]:
    """Bound a client's fetch of one partition, as a whole, by its `Timeouts.partition_s`."""

    @functools.wraps(fetch)
    async def bounded(client: VendorClientT, *args: P.args, **kwargs: P.kwargs) -> T:
        return await client.api.within_partition_deadline(fetch(client, *args, **kwargs))

    return bounded
