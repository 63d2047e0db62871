"""The real clients against the real simulator, every fault on: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pyarrow as pa
import pytest

from agentstate_etl.errors import VendorError
from agentstate_etl.http import FetchStats, RetryPolicy
from agentstate_etl.simulator.config import CREDENTIALS, Faults, SimConfig
from agentstate_etl.simulator.server import SimulatorServer
from agentstate_etl.simulator.world import to_ms
from agentstate_etl.vendors.cxengage import records as cxengage
from agentstate_etl.vendors.cxengage.client import CxEngageClient
from agentstate_etl.vendors.cxone import records as cxone
from agentstate_etl.vendors.koreai import records as koreai
from tests.clients.clients import cxone_client, koreai_client, simulated_cxengage
from tests.clock import ManualClock

NOW = datetime(2026, 3, 9, 10, 0, 0, 123000, tzinfo=UTC)
START = datetime(2026, 3, 7, 12, tzinfo=UTC)  # a partition's window: the day plus 12 h lookback
END = datetime(2026, 3, 9, tzinfo=UTC)
NO_WAIT = RetryPolicy(attempts=4, base_delay_s=0.001, max_delay_s=0.01)


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    faults = Faults.all(retry_after_s=0)
    config = SimConfig(
        seed=3,
        agents=8,
        start=date(2026, 3, 6),
        now=NOW,
        faults=faults,
        koreai_timezone="America/New_York",
    )
    with SimulatorServer(config) as running:
        yield running


def served(server: SimulatorServer, vendor: str, start: datetime, end: datetime) -> list[dict]:
    """What the simulator holds for the range once every late record has arrived."""
    window = server.world.data(vendor).stream.window(to_ms(start), to_ms(end))
    return [orjson.loads(r) for r in window.page(0, window.total)]


def cxengage_of(env: dict[str, str], **options: Any) -> CxEngageClient:
    """The CxEngage client of a simulated tenant, for one partition."""
    return simulated_cxengage(env, partition="cxengage/2026-03-08", retry=NO_WAIT, **options)


def koreai_activity(server: SimulatorServer) -> tuple[pa.Table, FetchStats]:
    """Kore.ai activity of [START, END) through the real client, and its fetch counters."""
    env = server.env()

    async def fetch() -> tuple[pa.Table, FetchStats]:
        async with koreai_client(
            env["KOREAI_BASE_URL"],
            env["KOREAI_ACCOUNT_ID"],
            env["KOREAI_CLIENT_ID"],
            env["KOREAI_CLIENT_SECRET"],
            retry=NO_WAIT,
        ) as client:
            return await client.fetch_activity(START, END, koreai.RAW_FIELDS), client.stats

    return asyncio.run(fetch())


def rows(table: pa.Table, fields: dict) -> list[dict]:
    return table.select(list(fields)).to_pylist()


def test_cxengage_returns_each_record_once_despite_late_events_and_faults(
    server: SimulatorServer,
) -> None:
    env = server.env()

    async def fetch() -> tuple[pa.Table, FetchStats]:
        async with cxengage_of(env, page_size=200) as client:
            return await client.fetch_intervals(START, END, cxengage.RAW_FIELDS), client.stats

    table, stats = asyncio.run(fetch())
    expected, seen = [], set()
    for record in served(server, "cxengage", START, END):
        if record["eventId"] is None or record["eventId"] not in seen:
            expected.append(record["eventId"])
            seen.add(record["eventId"])
    assert table.column("eventId").to_pylist() == expected
    assert stats.duplicates_dropped >= 1 and stats.retries >= 1
    capacity = [c for c in table.column("capacity").to_pylist() if c != "[]"]
    assert orjson.loads(capacity[0])[0]["channelType"] == "voice"


def test_cxengage_against_a_capped_server_pages_by_what_it_received() -> None:
    """The server serves 7 records a page whatever `limit` asks (1000): every record of six
    hours comes back once, late events and duplicates included, each request a window of at
    most 10 minutes, each offset the previous plus the records received."""
    config = SimConfig(
        seed=3,
        agents=8,
        start=date(2026, 3, 6),
        now=NOW,
        faults=Faults(late_events=True, duplicates=True),
        cxengage_max_limit=7,
    )
    start, end = datetime(2026, 3, 8, 6, tzinfo=UTC), datetime(2026, 3, 8, 12, tzinfo=UTC)
    with SimulatorServer(config) as capped:
        env = capped.env()

        async def fetch() -> pa.Table:
            async with cxengage_of(env, page_size=1000) as client:
                return await client.fetch_intervals(start, end, cxengage.RAW_FIELDS)

        table = asyncio.run(fetch())
        expected = {r["eventId"] for r in served(capped, "cxengage", start, end)}
        asked = [query for path, query in capped.simulator.request_log if "/wfm/rta" in path]
    assert sorted(table.column("eventId").to_pylist()) == sorted(expected)
    assert {query["limit"] for query in asked} == {"1000"}
    assert all(int(query["offset"]) % 7 == 0 for query in asked)
    assert max(int(query["offset"]) for query in asked) >= 14, "some window takes 3 pages"
    for query in asked:
        length = datetime.fromisoformat(query["end"]) - datetime.fromisoformat(query["start"])
        assert length <= timedelta(minutes=10)


def test_cxone_history_summary_and_snapshot_with_short_lived_tokens(
    server: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = server.env()
    clock = ManualClock()  # the simulator's token lifetimes and the client's, without waiting
    monkeypatch.setattr(server.simulator, "clock", clock)

    async def fetch() -> tuple[pa.Table, pa.Table, list, FetchStats]:
        async with cxone_client(
            env["CXONE_BASE_URL"],
            env["CXONE_TOKEN_URL"],
            env["CXONE_CLIENT_ID"],
            env["CXONE_CLIENT_SECRET"],
            page_size=300,
            retry=NO_WAIT,
        ) as client:
            client.auth.clock = clock
            roster = [str(a.wire_id) for a in server.world.data("cxone").agents]
            history = await client.fetch_history(START, END, cxone.RAW_FIELDS, roster)
            clock.advance(1.1)  # the simulator's tokens live 2 s: the client renews early
            agents = sorted(set(history.column("agentId").drop_null().to_pylist()))
            summaries = await client.fetch_summaries(
                agents, END - timedelta(days=1), END, cxone.SUMMARY_FIELDS
            )
            snapshot = await client.fetch_snapshot()
            return history, summaries, snapshot, client.stats

    history, summaries, snapshot, stats = asyncio.run(fetch())
    expected = served(server, "cxone", START, END)
    actual = rows(history, cxone.RAW_FIELDS)

    def key(r: dict) -> tuple:
        return (str(r["agentId"]), str(r["timestamp"]), str(r["state"]))

    # one agent per request: each agent's events in the vendor's order, agents one after another
    assert sorted(map(key, actual)) == sorted(map(key, expected))
    assert stats.requests >= len(server.world.data("cxone").agents)
    assert stats.token_renewals >= 1
    asked = set(summaries.column("agentId").to_pylist())
    no_report = server.world.data("cxone").agents[2].agent_id  # the simulator's 404 agent
    assert no_report not in asked and len(asked) >= 5
    assert summaries.column_names == [*cxone.SUMMARY_FIELDS, "_wire_error"]
    assert snapshot == server.world.snapshot()


def test_koreai_splits_windows_and_keeps_api_order(server: SimulatorServer) -> None:

    table, stats = koreai_activity(server)
    assert stats.pages == 6  # 36 h in windows of 6 h
    assert rows(table, koreai.RAW_FIELDS) == served(server, "koreai", START, END)


def test_wrong_credentials_fail_naming_vendor_partition_and_url_without_secrets(
    server: SimulatorServer,
) -> None:
    env = server.env()

    async def fetch() -> None:
        wrong = {**env, "CXENGAGE_USERNAME": "sim-user", "CXENGAGE_PASSWORD": "not-the-password"}
        async with cxengage_of(wrong) as client:
            await client.fetch_intervals(START, END, cxengage.RAW_FIELDS)

    with pytest.raises(VendorError) as caught:
        asyncio.run(fetch())
    message = str(caught.value)
    assert caught.value.status == 401 and "partition=cxengage/2026-03-08" in message
    assert "/wfm/rta" in message and "not-the-password" not in message
    assert CREDENTIALS.cxengage_password not in message


def test_koreai_halves_a_window_the_server_says_is_too_long() -> None:
    config = SimConfig(
        seed=5,
        agents=4,
        start=date(2026, 3, 6),
        now=NOW,
        faults=Faults.all(retry_after_s=0),
        koreai_max_window=timedelta(hours=2),  # the client still asks for 6 h
    )
    with SimulatorServer(config) as narrow:
        table, stats = koreai_activity(narrow)
        assert stats.pages == 6 * 4  # each 6 h window: 3 h, then 1.5 h twice
        assert rows(table, koreai.RAW_FIELDS) == served(narrow, "koreai", START, END)


def test_cxone_history_of_a_range_without_data_is_empty(server: SimulatorServer) -> None:
    env = server.env()

    async def fetch() -> pa.Table:
        async with cxone_client(
            env["CXONE_BASE_URL"],
            env["CXONE_TOKEN_URL"],
            env["CXONE_CLIENT_ID"],
            env["CXONE_CLIENT_SECRET"],
            retry=NO_WAIT,
        ) as client:
            before = datetime(2026, 1, 1, tzinfo=UTC)  # the simulated world starts in March
            return await client.fetch_history(
                before, before + timedelta(days=1), cxone.RAW_FIELDS, ["4100014"]
            )

    table = asyncio.run(fetch())
    assert table.num_rows == 0 and table.column_names == [*cxone.RAW_FIELDS, "_wire_error"]
