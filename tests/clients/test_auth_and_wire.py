"""Token renewal, JWT claims and page-to-Arrow conversion (unit level)."""

from __future__ import annotations

import asyncio
import warnings
from urllib.parse import parse_qsl

import httpx
import jwt
import orjson
import pyarrow as pa
import pytest
from jwt.warnings import InsecureKeyLengthWarning

from agentstate_etl.auth import KoreJwtAuth, OAuthClientCredentials
from agentstate_etl.errors import VendorError
from agentstate_etl.http import ApiClient, ClientOptions
from agentstate_etl.validation import WIRE_ERROR
from agentstate_etl.vendors.cxone import CAPABILITIES as CXONE_CAPABILITIES
from agentstate_etl.wire import PageShapeError, concat_pages, decode_page, page_to_table


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
            CXONE_CAPABILITIES,
            "http://sim",
            ClientOptions(
                partition=None,
                max_in_flight=2,
                transport=httpx.MockTransport(token_endpoint),
                connect_timeout_s=5,
            ),
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
    # the history tutorial's way: the client credentials in the form, no Basic header
    form = dict(parse_qsl(issued[0].content.decode()))
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "sim-client",
        "client_secret": "sim-secret",
    }
    assert "Authorization" not in issued[0].headers


def test_oauth_can_send_basic_and_a_scope_as_the_snapshot_document_does() -> None:
    issued: list[httpx.Request] = []

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        issued.append(request)
        return httpx.Response(200, json={"access_token": "t", "expires_in": 100})

    async def go() -> None:
        options = ClientOptions(transport=httpx.MockTransport(token_endpoint))
        api = ApiClient("cxone", CXONE_CAPABILITIES, "http://sim", options)
        auth = OAuthClientCredentials(
            api,
            "http://sim/oauth/token",
            "sim-client",
            "sim-secret",
            send_credentials="basic",
            scope="urn:nice:cxone:agent:state:read",
        )
        await auth.headers()
        await api.aclose()

    asyncio.run(go())
    form = dict(parse_qsl(issued[0].content.decode()))
    assert form == {"grant_type": "client_credentials", "scope": "urn:nice:cxone:agent:state:read"}
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


def test_token_endpoint_with_a_bad_expiry_is_a_vendor_error() -> None:
    def token_endpoint(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": "t", "expires_in": "soon"})

    async def go() -> None:
        api = ApiClient(
            "cxone",
            CXONE_CAPABILITIES,
            "http://sim",
            ClientOptions(
                partition="cxone/2026-03-08",
                max_in_flight=1,
                transport=httpx.MockTransport(token_endpoint),
                connect_timeout_s=5,
            ),
        )
        try:
            await OAuthClientCredentials(api, "http://sim/oauth/token", "id", "secret").headers()
        finally:
            await api.aclose()

    with pytest.raises(VendorError, match="expires_in is str") as caught:
        asyncio.run(go())
    assert caught.value.partition == "cxone/2026-03-08" and "secret" not in str(caught.value)


WIRE = {"text": pa.string(), "count": pa.int64(), "seconds": pa.float64(), "nested": pa.string()}
OK = None


@pytest.mark.parametrize(
    ("record", "expected", "error"),
    [
        # text arrives verbatim, even when Arrow would read it as a timestamp or a date
        ({"text": "2026-03-04T05:06:07Z"}, {"text": "2026-03-04T05:06:07Z"}, OK),
        ({"text": "2026-03-04"}, {"text": "2026-03-04"}, OK),
        # numbers where text is expected are ids: kept as text
        ({"text": 4100001}, {"text": "4100001"}, OK),
        ({"text": 1.5}, {"text": "1.5"}, OK),
        ({"text": 2**63}, {"text": "9223372036854775808"}, OK),
        # whole numbers are integers; integers are floats
        ({"count": 5000.0, "seconds": 3}, {"count": 5000, "seconds": 3.0}, OK),
        # nested values become their JSON, keys missing from some objects stay missing
        (
            {"nested": [{"a": 1, "t": "2026-03-04T05:06:07Z"}, {"b": None}]},
            {"nested": '[{"a":1,"t":"2026-03-04T05:06:07Z"},{"b":null}]'},
            OK,
        ),
        ({"nested": []}, {"nested": "[]"}, OK),
        ({"nested": {"a": [1, 2]}}, {"nested": '{"a":[1,2]}'}, OK),
        # what the vendor should not send: null, and the row flagged for quarantine
        ({"count": "5000"}, {}, "bad_value:count:str where int64 expected"),
        ({"count": 1.5}, {}, "bad_value:count:float where int64 expected"),
        ({"count": 2**63}, {}, "bad_value:count:int where int64 expected"),
        ({"count": True}, {}, "bad_value:count:bool where int64 expected"),
        ({"seconds": False}, {}, "bad_value:seconds:bool where double expected"),
        ({"seconds": "sixty"}, {}, "bad_value:seconds:str where double expected"),
        ({"seconds": [60]}, {}, "bad_value:seconds:list where double expected"),
        ({"text": True}, {}, "bad_value:text:bool where string expected"),
    ],
)
def test_a_value_lands_the_same_whether_arrow_or_orjson_parsed_the_page(
    record: dict, expected: dict, error: str | None
) -> None:
    fine = {"text": "x", "count": 1, "seconds": 1.0, "nested": "[]"}
    records = [{**fine, "nested": []}, record]  # a good row first: only the second is flagged
    want = {name: None for name in WIRE} | expected | {WIRE_ERROR: error}
    body = orjson.dumps({"total": 2, "results": records})
    head, parsed = decode_page(body, "results", WIRE)
    assert head == {"total": 2}
    for table in (parsed, page_to_table(records, WIRE)):
        assert table.schema == pa.schema([*WIRE.items(), (WIRE_ERROR, pa.string())])
        assert table.to_pylist() == [{**fine, WIRE_ERROR: None}, want]


@pytest.mark.parametrize(
    "body",
    [b'{"total": 1}', b'{"total": 1, "results": {"a": 1}}', b"[1, 2]", b'{"results": 3}'],
)
def test_a_page_without_a_list_of_records_is_a_shape_error(body: bytes) -> None:
    with pytest.raises(PageShapeError):
        decode_page(body, "results", WIRE)


def test_no_pages_is_an_empty_table_with_the_schema() -> None:
    table = concat_pages([], WIRE)
    assert table.num_rows == 0 and table.column_names == [*WIRE, WIRE_ERROR]
