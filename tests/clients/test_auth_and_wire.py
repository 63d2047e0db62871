"""Token renewal, JWT claims and page-to-Arrow conversion (unit level)."""

from __future__ import annotations

import asyncio
import warnings

import httpx
import jwt
import pyarrow as pa
from jwt.warnings import InsecureKeyLengthWarning

from agentstate_etl.auth import KoreJwtAuth, OAuthClientCredentials
from agentstate_etl.http import ApiClient
from agentstate_etl.validation import WIRE_ERROR
from agentstate_etl.wire import page_to_table


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_oauth_token_is_cached_renewed_before_expiry_and_after_401() -> None:
    issued: list[httpx.Request] = []

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        issued.append(request)
        return httpx.Response(
            200, json={"access_token": f"t{len(issued)}", "token_type": "Bearer", "expires_in": 100}
        )

    clock = Clock()

    async def go() -> list[str]:
        api = ApiClient(
            "cxone",
            None,
            base_url="http://sim",
            concurrency=2,
            retry=None,
            transport=httpx.MockTransport(token_endpoint),
            timeout_s=5,
        )
        auth = OAuthClientCredentials(
            api, "http://sim/oauth/token", "sim-client", "sim-secret", clock=clock
        )
        seen = [(await auth.headers())["Authorization"]]
        clock.now += 49
        seen.append((await auth.headers())["Authorization"])  # still cached
        clock.now += 1
        seen.append((await auth.headers())["Authorization"])  # half-way through 100 s: renewed
        await auth.unauthorized({"Authorization": "Bearer t1"})  # an old token: nothing to do
        seen.append((await auth.headers())["Authorization"])
        await auth.unauthorized({"Authorization": "Bearer t2"})
        seen.append((await auth.headers())["Authorization"])
        assert "sim-secret" not in repr(auth)
        assert api.stats.token_renewals == 2
        await api.aclose()
        return seen

    assert asyncio.run(go()) == ["Bearer t1", "Bearer t1", "Bearer t2", "Bearer t2", "Bearer t3"]
    form = issued[0].content.decode()
    assert form == "grant_type=client_credentials"
    assert issued[0].headers["Authorization"].startswith("Basic ")


def test_kore_jwt_claims_and_re_signing() -> None:
    clock = Clock()
    auth = KoreJwtAuth("sim-app", "short", clock=clock)  # a short vendor secret must still work
    token = asyncio.run(auth.headers())["auth"]
    with warnings.catch_warnings():  # verifying with a short key warns; signing must not
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        claims = jwt.decode(token, "short", algorithms=["HS256"], options={"verify_exp": False})
    assert claims == {"appId": "sim-app", "iat": 1000, "exp": 1300}
    clock.now += 200
    assert asyncio.run(auth.headers())["auth"] == token
    clock.now += 41  # within a minute of expiry
    assert asyncio.run(auth.headers())["auth"] != token
    assert "short" not in repr(auth)


FIELDS = {
    "agentId": pa.string(),
    "duration": pa.int64(),
    "capacity": pa.string(),
    "score": pa.float64(),
}


def test_page_to_table_converts_and_flags_bad_values() -> None:
    table = page_to_table(
        [
            {
                "agentId": 4100001,
                "duration": 5000,
                "capacity": [{"channelType": "voice"}],
                "score": 1,
            },
            {"agentId": "a2", "duration": "sixty seconds", "capacity": [], "score": 2.5},
            {"duration": None},
            "not a record",
        ],
        FIELDS,
    )
    assert table.column_names == [*FIELDS, WIRE_ERROR]
    rows = table.to_pylist()
    assert rows[0] == {
        "agentId": "4100001",
        "duration": 5000,
        "capacity": '[{"channelType":"voice"}]',
        "score": 1.0,
        WIRE_ERROR: None,
    }
    assert (
        rows[1]["duration"] is None
        and rows[1][WIRE_ERROR] == "bad_value:duration:str where int64 expected"
    )
    assert rows[2] == {
        "agentId": None,
        "duration": None,
        "capacity": None,
        "score": None,
        WIRE_ERROR: None,
    }
    assert rows[3][WIRE_ERROR].startswith("bad_value:record:")


def test_empty_page_has_the_schema() -> None:
    table = page_to_table([], FIELDS)
    assert table.num_rows == 0 and table.schema.field("duration").type == pa.int64()
