"""Each injected fault happens, as specified, and never more than twice in a row."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import orjson
import pytest

from agentstate_etl.errors import ConfigError
from agentstate_etl.simulator.config import Faults
from agentstate_etl.simulator.faults import FaultPlan
from agentstate_etl.simulator.server import SimulatorServer
from tests.clock import ManualClock
from tests.simulator.conftest import HISTORY_DAY, config, cxone_agent, cxone_token
from tests.simulator.test_wire_formats import BASIC, DAY, HISTORY, RTA


def serve(faults: Faults) -> Iterator[httpx.Client]:
    with (
        SimulatorServer(config(faults)) as server,
        httpx.Client(base_url=server.base_url) as client,
    ):
        yield client


def test_fault_plan_is_seeded_and_bounded() -> None:
    plan = FaultPlan(1, Faults(server_errors=1.0))
    assert [plan.decide("GET /x") for _ in range(4)] == [
        "server_errors",
        "server_errors",
        None,
        None,
    ]
    plan.succeeded("GET /x")
    assert plan.decide("GET /x") == "server_errors"  # a fresh request may fail again
    a, b = FaultPlan(5, Faults.all()), FaultPlan(5, Faults.all())
    keys = [f"GET /page/{n}" for n in range(500)]
    assert [a.decide(k) for k in keys] == [b.decide(k) for k in keys]
    assert sum(a.injected.values()) > 30


def test_parse_faults() -> None:
    assert Faults.parse("none") == Faults()
    assert Faults.parse("all") == Faults.all()
    parsed = Faults.parse("rate_limit,late_events,token_ttl_s=5,retry_after_s=0")
    assert parsed.rate_limit > 0 and parsed.late_events and parsed.token_ttl_s == 5
    assert parsed.retry_after_s == 0 and not parsed.duplicates
    with pytest.raises(ConfigError, match="unknown fault"):
        Faults.parse("meteor_strike")


def test_rate_limit_says_when_to_retry() -> None:
    for client in serve(Faults(rate_limit=1.0, retry_after_s=3)):
        params = {**DAY, "limit": 10}
        first = client.get(RTA, params=params, auth=BASIC)
        assert first.status_code == 429 and first.headers["Retry-After"] == "3"
        assert client.get(RTA, params=params, auth=BASIC).status_code == 429
        assert client.get(RTA, params=params, auth=BASIC).status_code == 200


def test_server_errors_and_dropped_connections() -> None:
    for client in serve(Faults(server_errors=1.0)):
        assert client.get(RTA, params={**DAY, "limit": 10}, auth=BASIC).status_code >= 500
    for client in serve(Faults(drop_connections=1.0)):
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(RTA, params={**DAY, "limit": 10}, auth=BASIC)


def test_slow_answers_still_answer() -> None:
    with SimulatorServer(config(Faults(slow=1.0, slow_s=0.2))) as server:
        clock = ManualClock()
        server.simulator.sleep = clock.sleep
        with httpx.Client(base_url=server.base_url) as client:
            response = client.get(RTA, params={**DAY, "limit": 10}, auth=BASIC)
    assert response.status_code == 200 and response.json()["results"]
    assert clock.slept == [0.2]  # held back as long as the fault says, then answered


def test_tokens_expire_and_get_revoked() -> None:
    with SimulatorServer(config(Faults(token_ttl_s=0.05))) as server:
        clock = ManualClock()
        server.simulator.clock = clock
        with httpx.Client(base_url=server.base_url) as client:
            headers = cxone_token(client)
            params = {**HISTORY_DAY, "agentId": cxone_agent(), "pageSize": 5}
            assert client.get(HISTORY, params=params, headers=headers).status_code == 200
            clock.advance(0.04)
            assert client.get(HISTORY, params=params, headers=headers).status_code == 200
            clock.advance(0.02)  # past its 0.05 s
            assert client.get(HISTORY, params=params, headers=headers).status_code == 401
    for client in serve(Faults(revoke_tokens=1.0)):
        headers = cxone_token(client)
        params = {**HISTORY_DAY, "agentId": cxone_agent(), "pageSize": 5}
        assert client.get(HISTORY, params=params, headers=headers).status_code == 401
        assert (
            client.get(HISTORY, params=params, headers=headers).status_code == 401
        )  # revoked for good
        assert client.get(HISTORY, params=params, headers=cxone_token(client)).status_code == 200


def test_a_token_renewed_after_a_revocation_survives_its_first_uses_however_late() -> None:
    """A loaded client may use its renewed token long after the revocation: the token's first
    uses are never revoked, so a client renewing once per request never sees two revocations
    in a row (before: the renewal's grace was 5 s of the simulator's clock only)."""
    with SimulatorServer(config(Faults(revoke_tokens=1.0))) as server:
        clock = ManualClock()
        server.simulator.clock = clock
        with httpx.Client(base_url=server.base_url) as client:
            params = {**HISTORY_DAY, "agentId": cxone_agent(), "pageSize": 5}
            assert (
                client.get(HISTORY, params=params, headers=cxone_token(client)).status_code == 401
            )
            renewed = cxone_token(client)
            clock.advance(60)  # far past the grace's seconds
            statuses = {
                client.get(HISTORY, params=params, headers=renewed).status_code for _ in range(8)
            }
            assert statuses == {200}


def test_late_events_appear_after_the_first_read_of_a_window() -> None:
    for client in serve(Faults(late_events=True)):
        params = {**DAY, "limit": 100}
        first = client.get(RTA, params={**params, "offset": 0}, auth=BASIC).json()
        second = client.get(RTA, params={**params, "offset": 100}, auth=BASIC).json()
        assert second["total"] > first["total"]
        again = client.get(RTA, params={**params, "offset": 0}, auth=BASIC).json()
        assert again["total"] == second["total"]
        first_ids = {r["eventId"] for r in first["results"]}
        # records inserted before offset 100 push earlier records onto the second page
        assert first_ids & {r["eventId"] for r in second["results"]}


def test_duplicates_are_repeated_records() -> None:
    for client in serve(Faults(duplicates=True)):
        results = client.get(RTA, params={**DAY, "limit": 1000}, auth=BASIC).json()["results"]
        ids = [r["eventId"] for r in results]
        assert len(ids) > len(set(ids))


def test_malformed_and_unknown_states_are_served() -> None:
    for client in serve(Faults(malformed=True, unknown_states=True)):
        body = client.get(RTA, params={**DAY, "limit": 1000}, auth=BASIC).content
        results = orjson.loads(body)["results"]
        assert any(r["eventId"] is None for r in results) or b"JUNK-" in body
        assert "coaching" in {r["state"] for r in results}


def test_a_token_renewed_after_a_revocation_is_not_revoked_again_at_once() -> None:
    """So a client that renews once per request always gets through, however many processes
    share its client id: the renewed token serves even while every request draws a revocation
    (the first request of a URL after a success may be revoked, so each pass would be)."""
    params = {**HISTORY_DAY, "agentId": cxone_agent(), "pageSize": 5}
    for client in serve(Faults(revoke_tokens=1.0)):
        assert client.get(HISTORY, params=params, headers=cxone_token(client)).status_code == 401
        renewed = cxone_token(client)
        for _ in range(3):
            assert client.get(HISTORY, params=params, headers=renewed).status_code == 200
