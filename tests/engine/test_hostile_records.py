"""Records a vendor should not have sent, through `land_raw`: outside the window asked for,
conflicting versions of one id, a malformed record of megabytes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from agentstate_etl import lake
from agentstate_etl.errors import ValidationError
from agentstate_etl.pipeline import land_intervals, land_raw
from agentstate_etl.settings import Settings, VendorSettings
from agentstate_etl.tenants import environment_tenant

DAY = date(2026, 3, 8)  # fetched window: [2026-03-07T12:00Z, 2026-03-09T00:00Z)
NOW = datetime(2026, 3, 10, tzinfo=UTC)
BASE = "http://vendor.test"
CONFIG = {
    "cxengage": {
        "CXENGAGE_BASE_URL": BASE,
        "CXENGAGE_TENANT_ID": "t1",
        "CXENGAGE_USERNAME": "u",
        "CXENGAGE_PASSWORD": "password-1",
    },
    "cxone": {
        "CXONE_BASE_URL": BASE,
        "CXONE_TOKEN_URL": f"{BASE}/oauth/token",
        "CXONE_CLIENT_ID": "c1",
        "CXONE_CLIENT_SECRET": "secret-1",
    },
    "koreai": {
        "KOREAI_BASE_URL": BASE,
        "KOREAI_ACCOUNT_ID": "a1",
        "KOREAI_CLIENT_ID": "k1",
        "KOREAI_CLIENT_SECRET": "kore-secret-0123456789abcdef0123456789",
        "KOREAI_TIMEZONE": "UTC",
    },
}


def tenant_of(vendor: str) -> VendorSettings:
    """The vendor's one tenant, as the per-vendor variables (docs/configuration.md) in CONFIG define it."""
    tenant = environment_tenant(vendor, CONFIG[vendor])
    return tenant.resolve(CONFIG[vendor])


def settings(home: Path, max_quarantine_rate: float = 1.0) -> Settings:
    return Settings(
        home=home,
        dagster_home=home / "dagster",
        report_tz="UTC",
        drift_tolerance_s=2.0,
        lookback_hours=12,
        max_quarantine_rate=max_quarantine_rate,
        now_override=NOW,
    )


def vendor_serving(records: list[dict[str, Any]]) -> httpx.MockTransport:
    """A vendor that answers every range with the same records, whatever was asked."""

    def answer(request: httpx.Request) -> httpx.Response:
        path, params = request.url.path, request.url.params
        if path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "tok", "expires_in": 3600})
        if path.endswith("/wfm/rta"):  # read in 10-minute windows: each record served once
            offset, limit = int(params["offset"]), int(params["limit"])
            served = [r for r in records if in_window(r.get("start"), params)]
            page = served[offset : offset + limit]
            return httpx.Response(200, json={"total": len(served), "results": page})
        if path.endswith("/agents/states"):  # the roster: every record is agent 7's
            return httpx.Response(200, json=[{"agentId": 7, "state": {"type": "Available"}}])
        if path.endswith("/agent-state-history"):
            return httpx.Response(200, json={"totalRecords": len(records), "records": records})
        if path.endswith("/agentactivity"):  # split in windows: serve once, in the first
            first = params["fromTimeStamp"].startswith("2026-03-07T12:00")
            account = path.split("/account/")[1].split("/")[0]
            body = {"accountId": account, "AgentUpdates": records if first else []}
            return httpx.Response(200, json=body)
        return httpx.Response(404)

    return httpx.MockTransport(answer)


FIRST_WINDOW = "2026-03-07T12:00:00.000Z"  # where the partition's fetch begins


def in_window(start: object, params: Any) -> bool:
    """A record goes to the window holding its `start`; one whose start is outside the range
    asked or unreadable goes to the first window (a vendor answering what was not asked)."""
    first = params["start"] == FIRST_WINDOW
    try:
        at = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
    except ValueError:
        return first
    lo = datetime.fromisoformat(params["start"].replace("Z", "+00:00"))
    hi = datetime.fromisoformat(params["end"].replace("Z", "+00:00"))
    fetched = datetime(2026, 3, 7, 12, tzinfo=UTC) <= at < datetime(2026, 3, 9, tzinfo=UTC)
    return lo <= at < hi if fetched else first


def interval(event_id: str, start: str, end: str | None, agent: str = "a1", **more: Any) -> dict:
    return {
        "eventId": event_id,
        "agentId": agent,
        "agentName": agent,
        "state": "ready",
        "start": start,
        "end": end,
        **more,
    }


def quarantine_of(home: Settings, key: lake.PartitionKey) -> list[dict[str, Any]]:
    rows = home.lake.read(lake.QUARANTINE, key).to_pylist()
    return [{**row, "raw_record": orjson.loads(row["raw_record"])} for row in rows]


OUTSIDE: dict[str, tuple[list[dict], Callable[[dict], str]]] = {
    "cxengage": (
        [
            interval("e-epoch", "1970-01-01T00:00:00.000Z", None, agent="a-epoch"),
            interval("e-first", "2026-03-07T12:00:00.000Z", "2026-03-07T12:10:00.000Z"),
            interval("e-day", "2026-03-08T09:00:00.000Z", "2026-03-08T09:10:00.000Z"),
            interval("e-end", "2026-03-09T00:00:00.000Z", None),
            interval("e-2027", "2027-01-01T00:00:00.000Z", None),
            interval("e-9999", "9999-12-31T23:59:59.000Z", None),
        ],
        lambda record: record["eventId"],
    ),
    "cxone": (
        [
            {"agentId": 7, "timestamp": "1970-01-01T00:00:00.000Z", "state": "READY"},
            {"agentId": 7, "timestamp": "2026-03-07T12:00:00.000Z", "state": "READY"},
            {"agentId": 7, "timestamp": "2026-03-08T09:00:00.000Z", "state": "LOGOUT"},
            {"agentId": 7, "timestamp": "2026-03-09T00:00:00.000Z", "state": "READY"},
            {"agentId": 7, "timestamp": "2027-01-01T00:00:00.000Z", "state": "READY"},
            {"agentId": 7, "timestamp": "9999-12-31T23:59:59.000Z", "state": "READY"},
        ],
        lambda record: record["timestamp"][:4] + record["timestamp"][8:10],
    ),
    "koreai": (
        [
            {"AgentId": "k", "EventTime": "1/1/1970 0:00:00", "Activity": "ready"},
            {"AgentId": "k", "EventTime": "3/7/2026 12:00:00", "Activity": "ready"},
            {"AgentId": "k", "EventTime": "3/8/2026 9:00:00", "Activity": "logout"},
            {"AgentId": "k", "EventTime": "3/9/2026 0:00:00", "Activity": "ready"},
            {"AgentId": "k", "EventTime": "1/1/2027 0:00:00", "Activity": "ready"},
            {"AgentId": "k", "EventTime": "12/31/9999 23:59:59", "Activity": "ready"},
        ],
        lambda record: record["EventTime"],
    ),
}


@pytest.mark.parametrize("vendor", sorted(OUTSIDE))
def test_records_outside_the_fetched_window_are_quarantined(vendor: str, tmp_path: Path) -> None:
    records, name = OUTSIDE[vendor]
    home = settings(tmp_path)
    landing = land_raw(tenant_of(vendor), DAY, home, transport=vendor_serving(records))
    assert (landing.fetched, landing.valid, landing.quarantined) == (6, 2, 4)
    assert landing.quarantine_reasons == {"outside_window": 4}
    quarantined = quarantine_of(home, landing.key)
    assert {row["reason"] for row in quarantined} == {"outside_window"}
    # the window's first instant is in, its end is out
    assert [name(row["raw_record"]) for row in quarantined] == [
        name(records[i]) for i in (0, 3, 4, 5)
    ]
    assert home.lake.read(lake.RAW, landing.key).num_rows == 2


def test_a_1970_open_interval_gives_no_carried_in_time(tmp_path: Path) -> None:
    records, _ = OUTSIDE["cxengage"]
    home = settings(tmp_path)
    landing = land_raw(tenant_of("cxengage"), DAY, home, transport=vendor_serving(records))
    land_intervals(landing.key, home)
    intervals = home.lake.read(lake.INTERVALS, landing.key).to_pylist()
    assert "a-epoch" not in {row["agent_id"] for row in intervals}


def test_conflicting_versions_of_an_event_id_are_quarantined_and_the_last_is_landed(
    tmp_path: Path,
) -> None:
    first = interval("e-1", "2026-03-08T09:00:00.000Z", None)
    closed = interval("e-1", "2026-03-08T09:00:00.000Z", "2026-03-08T09:10:00.000Z")
    other = interval("e-2", "2026-03-08T10:00:00.000Z", "2026-03-08T10:05:00.000Z")
    records = [first, first, other, closed, other]  # e-1 twice as is, then changed
    home = settings(tmp_path)
    landing = land_raw(tenant_of("cxengage"), DAY, home, transport=vendor_serving(records))
    assert landing.fetch_stats["duplicates_dropped"] == 2  # exact repeats still count once
    assert landing.fetch_stats["conflicting_duplicates"] == 1
    assert landing.quarantine_reasons == {"conflicting_duplicate": 2}
    quarantined = quarantine_of(home, landing.key)
    assert [row["reason"] for row in quarantined] == ["conflicting_duplicate:eventId"] * 2
    assert [row["raw_record"]["end"] for row in quarantined] == [None, closed["end"]]
    raw = home.lake.read(lake.RAW, landing.key).to_pylist()
    assert sorted((row["eventId"], row["end"]) for row in raw) == [
        ("e-1", closed["end"]),
        ("e-2", other["end"]),
    ]


def test_a_quarantine_rate_failure_quotes_a_short_sample(tmp_path: Path) -> None:
    huge = interval(None, "2026-03-08T09:00:00.000Z", None, agentName="x" * 3_000_000)  # type: ignore[arg-type]
    records = [
        huge,
        interval("e-1", "2026-03-08T10:00:00.000Z", "2026-03-08T10:05:00.000Z"),
        interval("e-2", "2026-03-08T11:00:00.000Z", "2026-03-08T11:05:00.000Z"),
        interval("e-3", "2026-03-08T12:00:00.000Z", None),
    ]
    with pytest.raises(ValidationError) as caught:
        land_raw(
            tenant_of("cxengage"),
            DAY,
            settings(tmp_path, max_quarantine_rate=0.01),
            transport=vendor_serving(records),
        )
    message = str(caught.value)
    assert len(message) < 1500
    assert "1 of 4 records failed validation" in message
    assert "'missing_required': 1" in message and "missing_required:eventId" in message
    assert "more characters" in message


def test_an_interval_whose_successor_never_arrived_is_a_reported_gap(tmp_path: Path) -> None:
    """nextEventId chains an agent's intervals: a successor the vendor never served is a
    gap in its data, counted in the partition's figures (docs/vendors.md, CxEngage)."""
    records = [
        interval("e-1", "2026-03-08T09:00:00.000Z", "2026-03-08T09:05:00.000Z", nextEventId="e-2"),
        interval("e-2", "2026-03-08T09:05:00.000Z", "2026-03-08T09:20:00.000Z", nextEventId="e-9"),
        interval("e-3", "2026-03-08T23:50:00.000Z", None),  # open: names no successor yet
    ]
    home = settings(tmp_path)
    landing = land_raw(tenant_of("cxengage"), DAY, home, transport=vendor_serving(records))
    assert landing.chain_gaps is not None and landing.chain_gaps.metadata() == {
        "chain_gaps": 1,
        "chain_gap_agents": 1,
        "chain_gap_sample": ["a1 e-2 → e-9"],
    }
