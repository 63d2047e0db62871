"""The simulator speaks docs/vendors.md: paths, parameters, fields, types, paging and auth failures."""

from __future__ import annotations

import re
import time

import httpx
import jwt
import pytest

from agentstate_etl.simulator.config import CREDENTIALS
from agentstate_etl.simulator.server import SimulatorServer
from tests.simulator.conftest import HISTORY_DAY, config, cxone_agent, cxone_token

RTA = f"/v1/tenants/{CREDENTIALS.cxengage_tenant_id}/wfm/rta"
HISTORY = "/api/reporting/v2/agent-state-history"
KORE = f"/agentassist/api/public/analytics/account/{CREDENTIALS.koreai_account_id}/agentactivity"
BASIC = (CREDENTIALS.cxengage_username, CREDENTIALS.cxengage_password)
DAY = {"start": "2026-03-08T00:00:00.000Z", "end": "2026-03-09T00:00:00.000Z"}
CXENGAGE_FIELDS = [
    "eventId",
    "agentId",
    "platformAgentId",
    "tenantAgentId",
    "agentName",
    "sessionId",
    "loginTimestamp",
    "eventType",
    "presence",
    "state",
    "reasonId",
    "reasonName",
    "reasonListId",
    "reasonListName",
    "start",
    "end",
    "durationSeconds",
    "nextEventId",
    "allocation",
    "direction",
    "capacity",
    "transfers",
]
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def kore_jwt(
    secret: str = CREDENTIALS.koreai_client_secret, app_id: str = CREDENTIALS.koreai_client_id
) -> str:
    now = int(time.time())
    return jwt.encode({"appId": app_id, "iat": now, "exp": now + 300}, secret, algorithm="HS256")


def test_cxengage_pages_by_offset_until_total(http: httpx.Client) -> None:
    first = http.get(RTA, params={**DAY, "limit": 100, "offset": 0}, auth=BASIC).json()
    assert set(first) == {
        "tenantId",
        "timezone",
        "limit",
        "offset",
        "start",
        "end",
        "page",
        "total",
        "results",
    }
    seen, offset = [], 0
    while offset < first["total"]:
        page = http.get(RTA, params={**DAY, "limit": 100, "offset": offset}, auth=BASIC).json()
        assert page["total"] == first["total"] and page["offset"] == offset
        seen += page["results"]
        offset += 100
    assert len(seen) == first["total"] > 100
    assert [r["start"] for r in seen] == sorted(r["start"] for r in seen)
    record = seen[0]
    assert list(record) == CXENGAGE_FIELDS
    assert ISO_MS.match(record["start"]) and isinstance(record["capacity"], list)
    assert {r["state"] for r in seen} <= {"ready", "away", "busy", "wrap-up", "offline"}
    assert {r["presence"] for r in seen} <= {"ready", "not-ready", "busy", "wrap-up", "offline"}
    assert {r["eventType"] for r in seen} <= {
        "agent-ready",
        "agent-not-ready",
        "agent-busy",
        "agent-wrap-up",
        "agent-offline",
    }
    assert all(DAY["start"] <= r["start"] < DAY["end"] for r in seen)


def test_cxengage_open_intervals_have_null_end(http: httpx.Client, clean: SimulatorServer) -> None:
    params = {"start": "2026-03-10T00:00:00Z", "end": "2026-03-11T00:00:00Z", "limit": 1000}
    results = http.get(RTA, params=params, auth=BASIC).json()["results"]
    open_ = [r for r in results if r["end"] is None]
    assert open_ and len({r["agentId"] for r in open_}) == len(open_)  # one open state per agent
    assert all(r["durationSeconds"] is None and r["nextEventId"] is None for r in open_)
    closed = [r for r in results if r["end"] is not None]
    assert all(r["nextEventId"] and r["durationSeconds"] > 0 for r in closed)


@pytest.mark.parametrize(
    ("params", "auth", "status"),
    [
        ({**DAY, "limit": 1001}, BASIC, 400),
        ({**DAY, "limit": 10}, ("sim-user", "wrong"), 401),
        ({"start": "yesterday", "end": DAY["end"]}, BASIC, 400),
        ({"start": DAY["end"], "end": DAY["start"]}, BASIC, 400),
    ],
)
def test_cxengage_rejects(http: httpx.Client, params: dict, auth: tuple, status: int) -> None:
    assert http.get(RTA, params=params, auth=auth).status_code == status


def test_cxengage_unknown_tenant_and_missing_auth(http: httpx.Client) -> None:
    assert http.get("/v1/tenants/other/wfm/rta", params=DAY, auth=BASIC).status_code == 404
    assert http.get(RTA, params=DAY).status_code == 401


def test_cxone_token_by_form_or_basic_and_bad_client(http: httpx.Client) -> None:
    by_form = http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": CREDENTIALS.cxone_client_id,
            "client_secret": CREDENTIALS.cxone_client_secret,
        },
    )
    assert by_form.status_code == 200
    body = by_form.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0 and body["access_token"]
    assert cxone_token(http)["Authorization"].startswith("Bearer ")
    bad = http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("sim-client", "no")
    )
    assert bad.status_code == 401
    assert (
        http.get(HISTORY, params={"startTime": DAY["start"], "endTime": DAY["end"]}).status_code
        == 401
    )


def test_cxone_history_pages_by_number(http: httpx.Client) -> None:
    """One agent a request, pages from 1, no total: the last page is the short one."""
    headers = cxone_token(http)
    agent = cxone_agent()
    params = {**HISTORY_DAY, "agentId": agent, "pageSize": 7}
    records, number = [], 1
    while True:
        page = http.get(HISTORY, params={**params, "pageNumber": number}, headers=headers)
        assert page.status_code == 200 and set(page.json()) == {"records"}
        records += page.json()["records"]
        if len(page.json()["records"]) < 7:
            break
        number += 1
    assert number > 1, "one page held the agent's day: the test would prove nothing"
    assert {str(r["agentId"]) for r in records} == {agent}
    assert list(records[0]) == [
        "agentId",
        "agentName",
        "timestamp",
        "state",
        "subState",
        "duration",
    ]
    assert isinstance(records[0]["agentId"], int)
    assert {r["state"] for r in records} <= {
        "LOGIN",
        "READY",
        "NOT_READY",
        "PAID_BREAK",
        "INBOUND_CONTACT",
        "OUTBOUND_CONTACT",
        "WRAP_UP",
        "LOGOUT",
    }
    assert {r["subState"] for r in records if r["state"] == "NOT_READY"} <= {
        "Lunch",
        "Meeting",
        "Training",
    }


def test_cxone_history_serves_the_next_page_token_when_asked_to() -> None:
    with (
        SimulatorServer(config(cxone_paging="token")) as server,
        httpx.Client(base_url=server.base_url) as http,
    ):
        headers = cxone_token(http)
        params = {**HISTORY_DAY, "agentId": cxone_agent(), "pageSize": 7}
        first = http.get(HISTORY, params={**params, "pageNumber": 1}, headers=headers).json()
        token = first["nextPageToken"]
        second = http.get(HISTORY, params={**params, "pageToken": token}, headers=headers)
        assert second.status_code == 200 and second.json()["records"] != first["records"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"startTime": "03/08/2026", "endTime": HISTORY_DAY["endTime"]}, 422),
        ({"startTime": HISTORY_DAY["endTime"], "endTime": HISTORY_DAY["startTime"]}, 422),
        ({"startTime": DAY["start"], "endTime": DAY["end"]}, 422),  # milliseconds
        ({**HISTORY_DAY, "pageSize": 1001}, 400),
        ({"startTime": "2027-01-01T00:00:00Z", "endTime": "2027-01-02T00:00:00Z"}, 404),
        ({**HISTORY_DAY, "agentId": None}, 422),  # the tutorial: agentId is required
    ],
)
def test_cxone_history_rejects(http: httpx.Client, params: dict, status: int) -> None:
    asked = {"agentId": cxone_agent(), **params}
    asked = {k: v for k, v in asked.items() if v is not None}
    assert http.get(HISTORY, params=asked, headers=cxone_token(http)).status_code == status


def test_cxone_snapshot_and_summary(http: httpx.Client, clean: SimulatorServer) -> None:
    headers = cxone_token(http)
    snapshot = http.get("/api/v2/agents/states", headers=headers).json()
    assert isinstance(snapshot, list) and snapshot
    assert set(snapshot[0]) == {"agentId", "siteId", "timestamp", "state"}
    assert set(snapshot[0]["state"]) == {"type", "subState"}
    assert all(s["state"]["type"] != "LOGOUT" for s in snapshot)
    agent = snapshot[0]["agentId"]
    summary = http.get(
        "/api/v2/reports/agent-status-summary",
        headers=headers,
        params={
            "userId": agent,
            "startTime": "2026-03-09T00:00:00Z",
            "endTime": "2026-03-10T00:00:00Z",
        },
    ).json()
    assert summary["agentId"] == agent
    for item in summary["intervals"]:
        assert set(item) == {"startTime", "endTime", "state", "duration"}
        assert item["state"] in {"available", "busy", "acw", "lunch", "break", "meeting", "offline"}
        assert (
            "2026-03-09T00:00:00.000Z"
            <= item["startTime"]
            <= item["endTime"]
            <= "2026-03-10T00:00:00.000Z"
        )
    unknown = http.get(
        "/api/v2/reports/agent-status-summary",
        headers=headers,
        params={"userId": "1", **HISTORY_DAY},
    )
    assert unknown.status_code == 404


def test_koreai_activity_format(http: httpx.Client) -> None:
    params = {"fromTimeStamp": "2026-03-08T06:00:00Z", "toTimeStamp": "2026-03-08T12:00:00Z"}
    body = http.get(KORE, params=params, headers={"auth": kore_jwt()}).json()
    assert set(body) == {"accountId", "AgentUpdates"} and body["AgentUpdates"]
    update = body["AgentUpdates"][0]
    assert list(update) == ["AgentId", "EventTime", "Activity", "ReasonCode"]
    times = [u["EventTime"] for u in body["AgentUpdates"]]
    assert all(
        re.match(r"^([1-9]|1[0-2])/([1-9]|[12]\d|3[01])/\d{4} ([0-9]|1\d|2[0-3]):\d\d:\d\d$", t)
        for t in times
    )
    assert any(re.match(r"^\d+/\d+/\d{4} \d:", t) for t in times)  # hours without a leading zero
    assert {u["Activity"] for u in body["AgentUpdates"]} <= {
        "login",
        "ready",
        "notready",
        "busy",
        "acw",
        "logout",
    }


@pytest.mark.parametrize(
    ("token", "to", "status"),
    [
        (lambda: kore_jwt(), "2026-03-08T12:00:01Z", 400),  # longer than 6 h
        (lambda: kore_jwt(secret="x" * 40), "2026-03-08T07:00:00Z", 401),
        (lambda: kore_jwt(app_id="other"), "2026-03-08T07:00:00Z", 401),
        (lambda: "", "2026-03-08T07:00:00Z", 401),
    ],
)
def test_koreai_rejects(http: httpx.Client, token, to: str, status: int) -> None:  # noqa: ANN001
    params = {"fromTimeStamp": "2026-03-08T06:00:00Z", "toTimeStamp": to}
    assert http.get(KORE, params=params, headers={"auth": token()}).status_code == status
