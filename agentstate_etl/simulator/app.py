"""The vendor APIs of docs/vendors.md as one Starlette app, served from the simulated world.

All paths sit at the root, so one base URL serves every vendor. Faults (429, 5xx, dropped
connections, slow answers, revoked tokens, trickled bodies) are injected per request by
`FaultPlan`; data faults live in the world itself.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import jwt
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from agentstate_etl.simulator.config import TOKEN_PATH
from agentstate_etl.simulator.faults import FaultPlan
from agentstate_etl.simulator.world import World, iso_one, to_ms
from agentstate_etl.vendors.cxengage import CAPABILITIES as CXENGAGE

MAX_LIMIT = 1000
DROP_MESSAGE = "ASGI callable returned without completing response."
REVOKED_GRACE_S = 5.0  # a token renewed after a revocation cannot be revoked for this long,
REVOKED_GRACE_USES = 16  # nor in its first uses (however long they take on a loaded machine)


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return Response(content, status, headers=headers, media_type="application/json")


class DroppedConnection:
    """Starts a response and stops half-way, so the client sees the connection close mid-body."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"results": [', "more_body": True})


class TrickledResponse:
    """Sends status and headers at once, then the body one byte every `interval_s`, as a
    gateway that stalls does: no single read waits long, the whole response takes forever.
    Stops as soon as the client hangs up."""

    def __init__(self, response: Response, interval_s: float) -> None:
        self.response = response
        self.interval_s = interval_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = bytes(self.response.body)
        start = {"type": "http.response.start", "status": self.response.status_code}
        await send({**start, "headers": self.response.raw_headers})
        for at in range(len(body)):
            more = at + 1 < len(body)
            await send({"type": "http.response.body", "body": body[at : at + 1], "more_body": more})
            if more and await _hung_up(receive, self.interval_s):
                return


async def _hung_up(receive: Receive, seconds: float) -> bool:
    """Whether the client disconnects within `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            while (await receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:
        return False
    return True


class QuietDrops(logging.Filter):
    """Deliberately dropped connections are not server errors worth a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != DROP_MESSAGE


def _param(request: Request, name: str, status: int = 400) -> str:
    value = request.query_params.get(name)
    if value is None or value == "":
        raise ApiError(status, f"missing query parameter {name}")
    return value


def _instant(request: Request, name: str, status: int) -> int:
    text = _param(request, name, status)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(status, f"{name} is not an ISO-8601 timestamp: {text!r}") from None
    if moment.tzinfo is None:
        raise ApiError(status, f"{name} needs a UTC offset or Z: {text!r}")
    return to_ms(moment)


def _int(request: Request, name: str, default: int, status: int = 400) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise ApiError(status, f"{name} must be an integer, got {text!r}") from None


WHOLE_SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def _whole_second_range(request: Request, start: str, end: str) -> tuple[int, int]:
    """A range given strictly as `YYYY-MM-DDTHH:MM:SSZ` (no fraction, no offset): else 422."""
    for name in (start, end):
        text = _param(request, name, 422)
        if not WHOLE_SECOND.fullmatch(text):
            raise ApiError(422, f"{name} must be YYYY-MM-DDTHH:MM:SSZ, got {text!r}")
    return _range(request, start, end, 422)


def _range(request: Request, start: str, end: str, status: int) -> tuple[int, int]:
    lo, hi = _instant(request, start, status), _instant(request, end, status)
    if lo >= hi:
        raise ApiError(status, f"{start} must be before {end}")
    return lo, hi


def _page_body(head: dict[str, Any], key: str, items: list[bytes]) -> bytes:
    """`{...head, key: [items]}` without decoding the pre-encoded records again."""
    prefix = orjson.dumps(head)[:-1] + (b"," if head else b"")
    return b"".join((prefix, b'"', key.encode(), b'":[', b",".join(items), b"]}"))


class Simulator:
    """Request handling over the tenants' worlds: auth, parameters, paging and faults.

    Each tenant has its own world and credentials; the credentials (or the tenant in the path)
    choose the world, and another tenant's credentials get 401.
    """

    def __init__(self, worlds: Sequence[World]) -> None:
        self.worlds = {world.tenant: world for world in worlds}
        self.world = self.worlds[1]
        self.faults = self.world.config.faults
        self.plan = FaultPlan(self.world.config.seed, self.faults)
        self.tokens: dict[str, float] = {}  # CXone access token -> monotonic expiry
        self.token_tenant: dict[str, int] = {}  # CXone access token -> tenant it was issued to
        self.token_scopes: dict[str, set[str]] = {}  # CXone access token -> scopes granted
        self.revoked: set[str] = set()
        # tenant -> when its last token was revoked; token -> until when it cannot be revoked
        self.last_revocation: dict[int, float] = {}
        self.immune_until: dict[str, float] = {}
        self.immune_uses: dict[str, int] = {}
        self.answered_windows: set[tuple[int, int, int, int]] = set()
        self._lock = threading.Lock()
        self.requests = 0
        # token lifetimes and slow answers run on these; tests replace them with a manual clock
        self.clock: Callable[[], float] = time.monotonic
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        # (path, query parameters) of every request, for tests that assert what was asked
        self.request_log: list[tuple[str, dict[str, str]]] = []

    def _world_by(self, vendor: str, tenant_id: str) -> World | None:
        for world in self.worlds.values():
            if world.credentials.tenant_id(vendor) == tenant_id:
                return world
        return None

    async def _caller(self, request: Request) -> int:
        """The tenant a request speaks for (1 when it cannot tell), so each tenant's requests
        draw their own faults; tenant 1's requests draw exactly what they did before."""
        params = request.path_params
        if "tenant_id" in params:
            world = self._world_by("cxengage", params["tenant_id"])
        elif "account_id" in params:
            world = self._world_by("koreai", params["account_id"])
        elif request.url.path == TOKEN_PATH:
            form = parse_qs((await request.body()).decode())
            client_id = (form.get("client_id") or [""])[0] or _basic_user(request)
            world = self._world_by("cxone", client_id)
        else:
            token = request.headers.get("authorization", "").partition(" ")[2]
            world = self.worlds.get(self.token_tenant.get(token, 1))
        return world.tenant if world is not None else 1

    def handler(self, endpoint: Callable[[Request], Awaitable[Response]], *, bearer: bool = False):
        async def handle(request: Request) -> Response:
            self.requests += 1
            self.request_log.append((request.url.path, dict(request.query_params)))
            key = (
                f"{request.method} {request.url.path}?{sorted(request.query_params.multi_items())}"
            )
            tenant = await self._caller(request)
            if tenant != 1:
                key = f"tenant {tenant}: {key}"
            allowed = ("rate_limit", "server_errors", "drop_connections", "slow", "trickle")
            fault = self.plan.decide(key, (*allowed, "revoke_tokens") if bearer else allowed)
            if fault == "rate_limit":
                retry_after = f"{self.faults.retry_after_s:g}"
                return json_response(
                    {"error": "too many requests"}, 429, {"Retry-After": retry_after}
                )
            if fault == "server_errors":
                status = 503 if self.plan.seed % 2 else 500
                return json_response({"error": "temporarily unavailable"}, status)
            if fault == "drop_connections":
                return DroppedConnection()  # type: ignore[return-value]
            if fault == "slow":
                await self.sleep(self.faults.slow_s)
            try:
                if bearer:
                    self._check_bearer(request, revoke=fault == "revoke_tokens")
                response = await endpoint(request)
            except ApiError as error:
                return json_response({"error": error.message}, error.status, error.headers)
            if fault == "trickle":  # not a success: the next attempt may trickle too
                return TrickledResponse(response, self.faults.trickle_s)  # type: ignore[return-value]
            self.plan.succeeded(key)
            return response

        return handle

    # --- CxEngage ---------------------------------------------------------------------

    async def cxengage_rta(self, request: Request) -> Response:
        """The RTA feed as its document says: at most 10 minutes a request, nothing older
        than the retention, nothing newer than now less the publication delay."""
        tenant = request.path_params["tenant_id"]
        world = self._world_by("cxengage", tenant)
        self._check_basic(request, world)
        if world is None:
            raise ApiError(404, f"unknown tenant {tenant}")
        start, end = _range(request, "start", "end", 400)
        outage = world.config.cxengage_outage
        if outage and to_ms(outage[0]) <= start < to_ms(outage[1]):
            raise ApiError(503, "service unavailable for this range")
        max_window = world.config.cxengage_max_window
        if end - start > max_window.total_seconds() * 1000:
            minutes = max_window.total_seconds() / 60
            raise ApiError(400, f"the range may not exceed {minutes:g} minutes")
        limit = _int(request, "limit", 100)
        offset = _int(request, "offset", 0)
        if not 1 <= limit <= MAX_LIMIT:
            raise ApiError(400, f"limit must be between 1 and {MAX_LIMIT}")
        if offset < 0:
            raise ApiError(400, "offset must be >= 0")
        config = world.config
        limit = min(limit, config.cxengage_max_limit)  # a server may cap the page size
        served = world.served_ms()
        published = served - int(CXENGAGE.delay.total_seconds() * 1000)
        kept_from = served - int(config.cxengage_retention.total_seconds() * 1000)
        stream = world.data("cxengage").stream
        # a window starting before the retention returns nothing (the document's word)
        hi = start if start < kept_from else min(end, max(published, start))
        window = stream.window(start, hi)
        query = (world.tenant, start, end, limit)
        with self._lock:
            first_answer = query not in self.answered_windows
            self.answered_windows.add(query)
        if first_answer and window.total > limit and self.faults.late_events:
            # late events have not arrived yet the first time this window is read
            window = stream.window(start, hi, hide_late=True)
        head = {
            "tenantId": tenant,
            "timezone": "UTC",
            "limit": limit,
            "offset": offset,
            "start": iso_one(start),
            "end": iso_one(end),
            "page": offset // limit,
            "total": window.total,
        }
        # an interval still running at the publication horizon is served open
        records = window.page(offset, limit, served_until=published)
        return json_response(_page_body(head, "results", records))

    def _check_basic(self, request: Request, world: World | None) -> None:
        """The tenant's own user and password; for an unknown tenant, any tenant's (then 404)."""
        challenge = {"WWW-Authenticate": 'Basic realm="cxengage"'}
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            raise ApiError(401, "bad basic credentials", challenge) from None
        allowed = {
            (w.credentials.cxengage_username, w.credentials.cxengage_password)
            for w in ([world] if world is not None else self.worlds.values())
        }
        if scheme.lower() != "basic" or (user, password) not in allowed:
            raise ApiError(401, "bad basic credentials", challenge)

    # --- CXone ------------------------------------------------------------------------

    async def cxone_token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        basic = scheme.lower() == "basic"
        if basic:
            try:
                client_id, _, client_secret = base64.b64decode(encoded).decode().partition(":")
            except ValueError:
                raise ApiError(401, "invalid_client") from None
        accepted = self.world.config.cxone_token_auth
        if accepted != "any" and accepted != ("basic" if basic else "form"):
            raise ApiError(
                401, f"invalid_client: this token endpoint takes credentials as {accepted}"
            )
        if form.get("grant_type") != "client_credentials":
            raise ApiError(400, "unsupported_grant_type")
        world = self._world_by("cxone", client_id or "")
        if world is None or client_secret != world.credentials.cxone_client_secret:
            raise ApiError(401, "invalid_client")
        token = secrets.token_urlsafe(24)
        ttl = self.faults.token_ttl_s
        with self._lock:
            now = self.clock()
            self.tokens[token] = now + ttl
            self.token_tenant[token] = world.tenant
            self.token_scopes[token] = set(form.get("scope", "").split())
            # a token renewed because of a revocation is not revoked again at once: a real
            # vendor revokes rarely, and a client renews once per request (docs/vendors.md, CXone), however
            # many of its processes share the client id
            if now - self.last_revocation.get(world.tenant, -REVOKED_GRACE_S) < REVOKED_GRACE_S:
                self.immune_until[token] = now + REVOKED_GRACE_S
                self.immune_uses[token] = REVOKED_GRACE_USES
        return json_response({"access_token": token, "token_type": "Bearer", "expires_in": ttl})

    def _bearer_world(self, request: Request) -> World:
        """The world of the tenant the (already checked) bearer token was issued to."""
        token = request.headers.get("authorization", "").partition(" ")[2]
        return self.worlds[self.token_tenant[token]]

    def _check_bearer(self, request: Request, *, revoke: bool) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with self._lock:
            expiry = self.tokens.get(token)
            now = self.clock()
            immune = now < self.immune_until.get(token, 0.0) or self.immune_uses.get(token, 0) > 0
            if token in self.immune_uses:
                self.immune_uses[token] -= 1
            if revoke and expiry is not None and not immune:
                self.revoked.add(token)
                self.last_revocation[self.token_tenant[token]] = now
            valid = (
                scheme.lower() == "bearer"
                and expiry is not None
                and expiry > now
                and token not in self.revoked
            )
        if not valid:
            raise ApiError(401, "invalid or expired token", {"WWW-Authenticate": "Bearer"})

    async def cxone_history(self, request: Request) -> Response:
        """One agent's events as the tutorial documents them: `agentId` required, times
        strictly `YYYY-MM-DDTHH:MM:SSZ` (else 422), pages numbered from 1, no total; the last
        page is short (or empty), and in `token` paging a `nextPageToken` names the next."""
        agent_id = request.query_params.get("agentId")
        if not agent_id:
            raise ApiError(422, "agentId is required")
        start, end = _whole_second_range(request, "startTime", "endTime")
        page_size = _int(request, "pageSize", 100)
        page_number = _int(request, "pageNumber", 1)
        if not 1 <= page_size <= MAX_LIMIT or page_number < 1:
            raise ApiError(400, f"pageSize must be 1..{MAX_LIMIT} and pageNumber >= 1")
        world = self._bearer_world(request)
        token = request.query_params.get("pageToken")
        if token is not None:
            if world.config.cxone_paging != "token" or not token.isdigit():
                raise ApiError(400, f"unknown pageToken {token!r}")
            page_number = int(token)
        stream = world.data("cxone").stream
        end = max(start, min(end, world.served_ms()))  # nothing is published before it happens
        window = stream.window(start, end).only_agent(world.agent_index("cxone", agent_id))
        if window.total == 0:
            raise ApiError(404, "no data")
        records = window.page((page_number - 1) * page_size, page_size)
        head: dict[str, Any] = {}
        more = page_number * page_size < window.total
        if world.config.cxone_paging == "token" and more:
            head["nextPageToken"] = str(page_number + 1)
        return json_response(_page_body(head, "records", records))

    async def cxone_snapshot(self, request: Request) -> Response:
        """Logged-in agents' current states; 403 for a token without the scope the snapshot
        document requires, when the simulator is told to require one."""
        world = self._bearer_world(request)
        required = world.config.cxone_snapshot_scope
        token = request.headers.get("authorization", "").partition(" ")[2]
        if required and required not in self.token_scopes.get(token, set()):
            raise ApiError(403, f"Forbidden: the client lacks the {required!r} scope")
        return json_response(world.snapshot())

    async def cxone_summary(self, request: Request) -> Response:
        agent_id = _param(request, "userId")
        start, end = _whole_second_range(request, "startTime", "endTime")
        intervals = self._bearer_world(request).summary(agent_id, start, end)
        if intervals is None:
            raise ApiError(404, f"no summary for agent {agent_id}")
        wire_id: Any = int(agent_id) if agent_id.isdigit() else agent_id
        return json_response({"agentId": wire_id, "intervals": intervals})

    # --- Kore.ai ----------------------------------------------------------------------

    async def koreai_activity(self, request: Request) -> Response:
        account = request.path_params["account_id"]
        world = self._world_by("koreai", account)
        # the JWT first, against the account's app (or any tenant's, for an unknown account):
        # an unauthenticated caller learns nothing, not even whether the account exists
        candidates = [world] if world is not None else list(self.worlds.values())
        if not any(self._jwt_valid(request, w) for w in candidates):
            raise ApiError(401, "invalid auth token")
        if world is None:
            raise ApiError(404, f"unknown account {account}")
        for name in ("fromTimeStamp", "toTimeStamp"):  # the document's sample: no fraction
            text = _param(request, name)
            if not WHOLE_SECOND.fullmatch(text):
                raise ApiError(400, f"{name} must be YYYY-MM-DDTHH:MM:SSZ, got {text!r}")
        start, end = _range(request, "fromTimeStamp", "toTimeStamp", 400)
        max_window = self.world.config.koreai_max_window
        if end - start > max_window.total_seconds() * 1000:
            raise ApiError(400, f"range longer than the maximum of {max_window}")
        end = max(start, min(end, world.served_ms()))  # nothing is published before it happens
        window = world.data("koreai").stream.window(start, end)
        body = _page_body({"accountId": account}, "AgentUpdates", window.page(0, window.total))
        return json_response(body)

    @staticmethod
    def _jwt_valid(request: Request, world: World) -> bool:
        try:
            claims = jwt.decode(
                request.headers.get("auth", ""),
                world.credentials.koreai_client_secret,
                algorithms=["HS256"],
                options={"require": ["exp", "iat"]},
            )
        except jwt.PyJWTError:
            return False
        return claims.get("appId") == world.credentials.koreai_client_id

    async def index(self, request: Request) -> Response:
        return json_response(
            {
                "simulator": "agentstate-etl vendor simulator",
                "now": datetime.fromtimestamp(self.world.served_ms() / 1000, UTC).isoformat(),
                "faults": self.faults.describe(),
                "endpoints": [route.path for route in routes(self)],
            }
        )


def routes(sim: Simulator) -> list[Route]:
    h = sim.handler
    return [
        Route("/", sim.index),
        Route("/v1/tenants/{tenant_id}/wfm/rta", h(sim.cxengage_rta)),
        Route(TOKEN_PATH, h(sim.cxone_token), methods=["POST"]),
        Route("/api/reporting/v2/agent-state-history", h(sim.cxone_history, bearer=True)),
        Route("/api/v2/agents/states", h(sim.cxone_snapshot, bearer=True)),
        Route("/api/v2/reports/agent-status-summary", h(sim.cxone_summary, bearer=True)),
        Route(
            "/agentassist/api/public/analytics/account/{account_id}/agentactivity",
            h(sim.koreai_activity),
        ),
    ]


def _basic_user(request: Request) -> str:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        return base64.b64decode(encoded).decode().partition(":")[0]
    except ValueError:
        return ""


def create_app(worlds: World | Sequence[World]) -> Starlette:
    """The app over one world, or over each tenant's world (tenant 1 first)."""
    sim = Simulator([worlds] if isinstance(worlds, World) else worlds)
    app = Starlette(routes=routes(sim))
    app.state.simulator = sim
    return app
