"""The simulator holds clients to what CxEngage's document says, by default (docs/vendors.md, CxEngage):
at most 10 minutes a request, three days kept, 15 s late, and pages a server may cap."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from agentstate_etl.auth import KoreJwtAuth
from agentstate_etl.simulator.config import CREDENTIALS, Faults, SimConfig
from agentstate_etl.simulator.server import SimulatorServer
from agentstate_etl.simulator.world import to_ms
from agentstate_etl.vendors.cxengage import CAPABILITIES as CXENGAGE
from tests.simulator.conftest import NOW, START

RTA = f"/v1/tenants/{CREDENTIALS.cxengage_tenant_id}/wfm/rta"
BASIC = (CREDENTIALS.cxengage_username, CREDENTIALS.cxengage_password)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def window(start: datetime, minutes: float = 10) -> dict[str, str]:
    return {"start": iso(start), "end": iso(start + timedelta(minutes=minutes))}


@pytest.fixture(scope="module")
def strict() -> Iterator[SimulatorServer]:
    """The simulator as `agentstate simulate` serves by default, with pages capped at 5."""
    config = SimConfig(seed=11, agents=40, start=START, now=NOW, faults=Faults())
    with SimulatorServer(config) as server:
        yield server


@pytest.fixture()
def http(strict: SimulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=strict.base_url, timeout=10) as client:
        yield client


def test_a_range_over_ten_minutes_is_refused(http: httpx.Client) -> None:
    start = datetime(2026, 3, 10, 9, tzinfo=UTC)
    assert http.get(RTA, params=window(start, 10), auth=BASIC).status_code == 200
    over = http.get(RTA, params=window(start, 10.001), auth=BASIC)
    assert over.status_code == 400 and "10 minutes" in over.json()["error"]


def test_nothing_older_than_three_days_is_served(
    http: httpx.Client, strict: SimulatorServer
) -> None:
    """A window starting before now - 3 days returns nothing, though the world has data."""
    kept_from = NOW - timedelta(days=3)
    stream = strict.world.data("cxengage").stream

    def served(start: datetime) -> tuple[int, int]:
        body = http.get(RTA, params={**window(start), "limit": 1000}, auth=BASIC).json()
        held = stream.window(to_ms(start), to_ms(start + timedelta(minutes=10))).total
        return body["total"], held

    old_total, old_held = served(kept_from - timedelta(minutes=1))
    assert old_held > 0 and old_total == 0
    new_total, new_held = served(kept_from + timedelta(minutes=1))
    assert new_total == new_held > 0


def test_the_last_fifteen_seconds_are_not_published_yet(
    http: httpx.Client, strict: SimulatorServer
) -> None:
    start = NOW - timedelta(minutes=10)
    body = http.get(RTA, params={**window(start), "limit": 1000}, auth=BASIC).json()
    starts = [datetime.fromisoformat(r["start"]) for r in body["results"]]
    assert starts, "no interval began in the last 10 minutes: the test would prove nothing"
    assert max(starts) < NOW - timedelta(seconds=15)
    held = strict.world.data("cxengage").stream.window(to_ms(start), to_ms(NOW))
    assert held.total > len(starts), "nothing fell in the unpublished 15 s: proves nothing"


def test_a_capped_page_size_is_reported_and_paged_by_what_was_received() -> None:
    config = SimConfig(
        seed=11, agents=40, start=START, now=NOW, faults=Faults(), cxengage_max_limit=5
    )
    with SimulatorServer(config) as server, httpx.Client(base_url=server.base_url) as http:
        params = {**window(datetime(2026, 3, 10, 9, tzinfo=UTC)), "limit": 1000}
        first = http.get(RTA, params={**params, "offset": 0}, auth=BASIC).json()
        assert first["limit"] == 5 and len(first["results"]) == 5 and first["total"] > 10
        assert first["page"] == 0
        ids = [r["eventId"] for r in first["results"]]
        offset = len(first["results"])
        while offset < first["total"]:
            page = http.get(RTA, params={**params, "offset": offset}, auth=BASIC).json()
            ids += [r["eventId"] for r in page["results"]]
            offset += len(page["results"])
        assert len(ids) == len(set(ids)) == first["total"]


def test_authentication_comes_before_anything_else(http: httpx.Client) -> None:
    """An unauthenticated caller learns nothing: not whether the tenant exists, not whether
    its range is valid."""
    too_long = window(datetime(2026, 3, 10, 9, tzinfo=UTC), 60)
    assert http.get("/v1/tenants/nobody/wfm/rta", params=too_long).status_code == 401
    assert http.get(RTA, params=too_long, auth=("sim-user", "wrong")).status_code == 401


def test_koreai_checks_the_jwt_first_and_refuses_fractional_seconds(
    http: httpx.Client,
) -> None:
    kore = (
        f"/agentassist/api/public/analytics/account/{CREDENTIALS.koreai_account_id}/agentactivity"
    )
    hour = {"fromTimeStamp": "2026-03-10T09:00:00Z", "toTimeStamp": "2026-03-10T10:00:00Z"}
    unknown = "/agentassist/api/public/analytics/account/nobody/agentactivity"
    assert http.get(unknown, params=hour).status_code == 401  # not 404: nothing is told
    token = KoreJwtAuth(CREDENTIALS.koreai_client_id, CREDENTIALS.koreai_client_secret).sign()
    auth = {"auth": token}
    assert http.get(kore, params=hour, headers=auth).status_code == 200
    assert http.get(unknown, params=hour, headers=auth).status_code == 404
    fractional = {**hour, "toTimeStamp": "2026-03-10T10:00:00.000Z"}
    assert http.get(kore, params=fractional, headers=auth).status_code == 400


def test_an_interval_still_running_when_published_is_served_open(
    http: httpx.Client, strict: SimulatorServer
) -> None:
    """The world knows when each interval ends; the vendor, 15 s behind, does not yet for one
    that ends after its publication horizon: served with `end`, `durationSeconds` and
    `nextEventId` null. Every interval that ended by then is served closed."""
    published = to_ms(NOW - CXENGAGE.delay)
    start = NOW - timedelta(minutes=10)
    data = strict.world.data("cxengage")
    ends_after_horizon = set()  # (agent, start) of intervals that end after the horizon
    for agent, timeline in zip(data.agents, data.timelines, strict=True):
        for begun, following in zip(timeline.starts, timeline.starts[1:], strict=False):
            if to_ms(start) <= begun < published <= following:
                ends_after_horizon.add((agent.agent_id, begun))
    assert ends_after_horizon, "no interval ran across the horizon: the test would prove nothing"

    body = http.get(RTA, params={**window(start), "limit": 1000}, auth=BASIC).json()
    served = {
        (r["agentId"], to_ms(datetime.fromisoformat(r["start"]))): r
        for r in body["results"]
        if r.get("agentId") and r.get("start")
    }
    for key in ends_after_horizon:
        assert served[key]["end"] is None
        assert served[key]["durationSeconds"] is None and served[key]["nextEventId"] is None
    closed = [r for r in served.values() if r["end"] is not None]
    assert closed and all(to_ms(datetime.fromisoformat(r["end"])) < published for r in closed)
