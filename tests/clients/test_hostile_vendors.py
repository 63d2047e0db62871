"""Vendors that misbehave on purpose: echo our credentials back, trickle, stall.

Redaction runs on scripted transports (a gateway echoing the request); deadlines run against
the real simulator, whose `trickle` fault sends a body one byte at a time.
"""

from __future__ import annotations

import asyncio
import base64
import html
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import orjson
import pyarrow as pa
import pytest

from agentstate_etl.errors import VendorError
from agentstate_etl.http import ApiClient, ClientOptions, RetryPolicy, Timeouts, VendorClient
from agentstate_etl.pipeline import land_raw
from agentstate_etl.settings import Settings
from agentstate_etl.simulator.config import Faults, SimConfig
from agentstate_etl.simulator.server import SimulatorServer
from agentstate_etl.tenants import environment_tenant
from agentstate_etl.vendors.cxengage import records as cxengage
from agentstate_etl.vendors.cxengage.client import CxEngageClient
from agentstate_etl.vendors.cxone import CAPABILITIES as CXONE_CAPABILITIES
from agentstate_etl.vendors.cxone import records as cxone
from agentstate_etl.vendors.koreai import records as koreai
from tests.clients.clients import (
    cxengage_client,
    cxone_client,
    koreai_client,
    simulated_cxengage,
)

START = datetime(2026, 3, 7, 12, tzinfo=UTC)
END = datetime(2026, 3, 9, tzinfo=UTC)
NO_WAIT = RetryPolicy(attempts=2, base_delay_s=0.001, max_delay_s=0.01)
USER, PASSWORD = "etl-user", "p@ss:w0rd/+&=Secret!"
CLIENT_ID, CLIENT_SECRET = "etl-client", "cl1ent-s3cret/+=value"
ACCESS_TOKEN = "opaque-access-token-0123456789"


def echo(status: int, token_ok: bool = True) -> Callable[[httpx.Request], httpx.Response]:
    """A gateway that answers `status` with the request it got: headers first, then the body
    (a token endpoint answers with a token when `token_ok`)."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token" and token_ok:
            return httpx.Response(200, json={"access_token": ACCESS_TOKEN, "expires_in": 3600})
        credential = request.headers.get("authorization") or request.headers.get("auth")
        body = request.content.decode()
        seen = {
            "credential": credential,  # as an API gateway quotes a header it cannot parse
            # as other gateways quote it: in an HTML page, .NET's JSON, lowercase percent-hex,
            # and a folded header whose base64 continues on the next line
            "html": html.escape(f"{credential} {body}"),
            "dotnet": orjson.dumps(f"{credential} {body}").decode().replace("&", "\\u0026"),
            "lower_hex": re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), body),
            "folded": (credential or "")[:14] + "\r\n\t" + (credential or "")[14:],
            "body": body,
            "headers": dict(request.headers),
            "url": str(request.url),
        }
        return httpx.Response(status, content=orjson.dumps({"echo": seen}))

    return answer


def every_form(*secrets: str) -> list[str]:
    """Each secret as is, URL-encoded, and base64 (standard and URL-safe, padded or not)."""
    forms = []
    for secret in secrets:
        raw = secret.encode()
        std, url = base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()
        forms += [secret, quote(secret, safe=""), quote_plus(secret), std, url, std.rstrip("=")]
    return forms


def failure(client: VendorClient, fetch: Callable[[VendorClient], object]) -> VendorError:
    async def go() -> None:
        async with client:
            await fetch(client)  # type: ignore[misc]

    with pytest.raises(VendorError) as caught:
        asyncio.run(go())
    return caught.value


def assert_clean(error: VendorError, secrets: list[str]) -> None:
    text = f"{error} {error.url} {getattr(error, 'detail', '')}"
    leaked = [form for form in secrets if form in text]
    assert not leaked, f"leaked {leaked} in {text}"
    assert "echo" in str(error) and len(str(error)) < 1500  # the body is quoted, bounded


@pytest.mark.parametrize("status", [400, 503])
def test_cxengage_echo_of_basic_auth_is_redacted(status: int) -> None:
    client = cxengage_client(
        "http://gateway.test",
        "t",
        USER,
        PASSWORD,
        partition="cxengage/2026-03-08",
        retry=NO_WAIT,
        transport=httpx.MockTransport(echo(status)),
    )
    error = failure(client, lambda c: c.fetch_intervals(START, END, cxengage.RAW_FIELDS))  # type: ignore[attr-defined]
    assert error.status == status
    assert_clean(error, every_form(PASSWORD, f"{USER}:{PASSWORD}"))


@pytest.mark.parametrize(
    ("status", "token_ok"), [(400, False), (401, False), (400, True), (500, True)]
)
def test_cxone_echo_of_client_secret_and_bearer_token_is_redacted(
    status: int, token_ok: bool
) -> None:
    """From the token endpoint (Basic and the form), or from the history endpoint (the
    bearer token)."""
    client = cxone_client(
        "http://gateway.test",
        "http://gateway.test/oauth/token",
        CLIENT_ID,
        CLIENT_SECRET,
        partition="cxone/2026-03-08",
        retry=NO_WAIT,
        transport=httpx.MockTransport(echo(status, token_ok)),
    )
    error = failure(client, lambda c: c.fetch_history(START, END, cxone.RAW_FIELDS, ["a1"]))  # type: ignore[attr-defined]
    assert_clean(error, every_form(CLIENT_SECRET, f"{CLIENT_ID}:{CLIENT_SECRET}", ACCESS_TOKEN))


def test_koreai_echo_of_the_jwt_is_redacted() -> None:
    sent: list[str] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["auth"])
        return echo(400)(request)

    client = koreai_client(
        "http://gateway.test",
        "acct",
        CLIENT_ID,
        CLIENT_SECRET,
        partition="koreai/2026-03-08",
        retry=NO_WAIT,
        transport=httpx.MockTransport(gateway),
    )
    error = failure(client, lambda c: c.fetch_activity(START, END, koreai.RAW_FIELDS))  # type: ignore[attr-defined]
    token = sent[0]
    assert_clean(error, [token, *token.split("."), *every_form(CLIENT_SECRET)])


def test_httpx_exception_text_is_redacted() -> None:
    def proxy_refuses(request: httpx.Request) -> httpx.Response:
        header = request.headers["authorization"]
        raise httpx.ProxyError(f"proxy refused CONNECT with Authorization: {header}")

    client = cxengage_client(
        "http://gateway.test",
        "t",
        USER,
        PASSWORD,
        retry=NO_WAIT,
        transport=httpx.MockTransport(proxy_refuses),
    )
    error = failure(client, lambda c: c.fetch_intervals(START, END, cxengage.RAW_FIELDS))  # type: ignore[attr-defined]
    assert "ProxyError: proxy refused CONNECT" in str(error)
    assert not [form for form in every_form(f"{USER}:{PASSWORD}") if form in str(error)]


def test_a_timeout_without_text_still_says_what_timed_out() -> None:
    def stalls(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("")

    api = ApiClient(
        "cxone",
        CXONE_CAPABILITIES,
        "http://gateway.test",
        ClientOptions(
            partition="cxone/2026-03-08",
            max_in_flight=1,
            retry=NO_WAIT,
            transport=httpx.MockTransport(stalls),
            connect_timeout_s=7,
        ),
    )

    async def go() -> None:
        try:
            await api.request_json("GET", "/x")
        finally:
            await api.aclose()

    with pytest.raises(VendorError) as caught:
        asyncio.run(go())
    assert "ConnectTimeout: no connect progress within the connect timeout of 7 s" in str(
        caught.value
    )
    assert "partition=cxone/2026-03-08" in str(caught.value)


# --- deadlines, against the simulator --------------------------------------------------

NOW = datetime(2026, 3, 9, 10, tzinfo=UTC)
DAY = date(2026, 3, 8)


@pytest.fixture(scope="module")
def trickling() -> Iterator[SimulatorServer]:
    """Every request's first two attempts get their body a byte every 50 ms (a page of
    records would take hours), the third is answered at once."""
    config = SimConfig(
        seed=9,
        agents=4,
        start=date(2026, 3, 6),
        now=NOW,
        faults=Faults(trickle=1.0, trickle_s=0.05),
    )
    with SimulatorServer(config) as server:
        yield server


def trickled_client(server: SimulatorServer, timeouts: Timeouts, attempts: int) -> CxEngageClient:
    return simulated_cxengage(
        server.env(),
        partition="cxengage/2026-03-08",
        retry=RetryPolicy(attempts=attempts, base_delay_s=0.001, max_delay_s=0.01),
        timeouts=timeouts,
    )


def fetch(client: CxEngageClient, start: datetime, hours: float = 6) -> pa.Table:
    async def go() -> pa.Table:
        async with client:
            return await client.fetch_intervals(
                start, start + timedelta(hours=hours), cxengage.RAW_FIELDS
            )

    return asyncio.run(go())


def test_a_trickling_vendor_hits_the_request_deadline(trickling: SimulatorServer) -> None:
    client = trickled_client(trickling, Timeouts(request_s=0.5), attempts=2)
    with pytest.raises(VendorError) as caught:
        fetch(client, datetime(2026, 3, 8, 0, tzinfo=UTC), hours=1 / 6)  # one window
    message = str(caught.value)
    assert "request deadline of 0.5 s (AGENTSTATE_REQUEST_TIMEOUT_S) in 2 attempts" in message
    assert "vendor=cxengage partition=cxengage/2026-03-08" in message
    assert "/wfm/rta?start=2026-03-08T00" in caught.value.url
    assert client.stats.request_timeouts == 2


def test_a_request_deadline_is_retried_like_a_dropped_connection(
    trickling: SimulatorServer,
) -> None:
    client = trickled_client(trickling, Timeouts(request_s=0.5), attempts=3)
    table = fetch(client, datetime(2026, 3, 8, 12, tzinfo=UTC), hours=1 / 6)
    assert table.num_rows > 0
    assert (client.stats.request_timeouts, client.stats.retries) == (2, 2)


def test_a_trickling_vendor_hits_the_partition_deadline(trickling: SimulatorServer) -> None:
    """The request deadline alone would allow hours; the partition's deadline stops it."""
    client = trickled_client(trickling, Timeouts(request_s=3600, partition_s=0.5), attempts=6)
    with pytest.raises(VendorError) as caught:
        fetch(client, datetime(2026, 3, 8, 12, tzinfo=UTC))
    message = str(caught.value)
    assert "deadline of 0.5 s (AGENTSTATE_PARTITION_TIMEOUT_S" in message
    assert "vendor=cxengage partition=cxengage/2026-03-08" in message
    assert "/wfm/rta?start=2026-03-08T12" in caught.value.url


def test_land_raw_takes_its_deadlines_from_settings(
    trickling: SimulatorServer, tmp_path: Path
) -> None:
    settings = Settings(
        home=tmp_path,
        dagster_home=tmp_path,
        report_tz="UTC",
        drift_tolerance_s=2.0,
        lookback_hours=12,
        max_quarantine_rate=0.01,
        now_override=NOW,
        request_timeout_s=3600,
        partition_timeout_s=0.5,
    )
    with pytest.raises(VendorError, match="AGENTSTATE_PARTITION_TIMEOUT_S") as caught:
        tenant = environment_tenant("koreai", trickling.env())
        land_raw(tenant.resolve(trickling.env()), DAY, settings)
    assert caught.value.partition == "koreai/acct-sim/2026-03-08"
    assert "agentactivity" in caught.value.url


def test_the_read_timeout_no_longer_cuts_a_slow_answer_short() -> None:
    """`timeout_s` bounds connecting; a vendor slower than it, within the request deadline,
    is answered (it used to be a ReadTimeout on every attempt)."""
    config = SimConfig(
        seed=9, agents=4, start=date(2026, 3, 6), now=NOW, faults=Faults(slow=1.0, slow_s=0.6)
    )
    with SimulatorServer(config) as server:
        client = simulated_cxengage(
            server.env(),
            retry=RetryPolicy(attempts=2, base_delay_s=0.001, max_delay_s=0.01),
            connect_timeout_s=0.3,
            timeouts=Timeouts(request_s=30),
        )
        assert fetch(client, datetime(2026, 3, 8, 12, tzinfo=UTC)).num_rows > 0
        assert client.stats.retries == 0


def test_an_absurd_total_is_refused_at_the_first_page() -> None:
    """A vendor claiming 10^9 records for one 10-minute range: one request, then an error
    naming the partition's record cap and its variable, before any other page is asked for
    (#22.5: this vendor took over 5 GB in 60 s before paging was bounded)."""
    asked: list[str] = []

    def absurd(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(200, json={"total": 10**9, "results": [{"eventId": "e1"}]})

    client = cxengage_client(
        "http://vendor.test",
        "t",
        USER,
        PASSWORD,
        partition="cxengage/2026-03-08",
        retry=NO_WAIT,
        transport=httpx.MockTransport(absurd),
    )
    window_start = datetime(2026, 3, 8, 12, tzinfo=UTC)

    async def go() -> None:
        async with client:
            await client.fetch_intervals(
                window_start, window_start + timedelta(minutes=10), cxengage.RAW_FIELDS
            )

    with pytest.raises(VendorError) as caught:
        asyncio.run(go())
    assert "a range of 1,000,000,000 records would take the partition past its cap of " in str(
        caught.value
    )
    assert "5,000,000 records (AGENTSTATE_MAX_PARTITION_RECORDS)" in str(caught.value)
    assert caught.value.partition == "cxengage/2026-03-08"
    assert len(asked) == 1


def test_koreai_answer_for_another_account_is_refused() -> None:
    """The response's `accountId` must be the account asked for: a gateway that routes to
    another account's data must not land it under this one."""

    def other_account(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"accountId": "someone-else", "AgentUpdates": []})

    client = koreai_client(
        "http://vendor.test",
        "acct",
        CLIENT_ID,
        CLIENT_SECRET,
        retry=NO_WAIT,
        transport=httpx.MockTransport(other_account),
    )
    error = failure(client, lambda c: c.fetch_activity(START, END, koreai.RAW_FIELDS))  # type: ignore[attr-defined]
    assert "someone-else" in str(error) and "'acct'" in str(error)
