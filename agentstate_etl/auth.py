"""Credentials that expire: CXone OAuth client-credentials tokens and Kore.ai HS256 JWTs.

Both are sent as headers and renewed before they expire, and once more when the API answers
401. Secrets are kept out of `repr` so they cannot leak into logs or run metadata.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import jwt
from jwt.warnings import InsecureKeyLengthWarning

from agentstate_etl.http import ApiClient, expect


@dataclass
class OAuthClientCredentials:
    """A cached bearer token from `grant_type=client_credentials`.

    The client id and secret go in the form body (`form`, as CXone's history tutorial sends
    them) or as HTTP Basic (`basic`, as its snapshot document does); `scope` is asked for when
    set (the snapshot document's `urn:nice:cxone:agent:state:read`)."""

    api: ApiClient = field(repr=False)
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    send_credentials: str = "form"
    scope: str = ""
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    _token: str | None = field(default=None, repr=False)
    _renew_at: float = 0.0
    _fetched: int = 0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    async def headers(self) -> dict[str, str]:
        async with self._lock:
            if self._token is None or self.clock() >= self._renew_at:
                await self._fetch()
            return {"Authorization": f"Bearer {self._token}"}

    async def unauthorized(self, sent: dict[str, str]) -> None:
        async with self._lock:
            if sent.get("Authorization") == f"Bearer {self._token}":
                self._token = None  # the next request fetches a new one

    async def _fetch(self) -> None:
        asked_at = self.clock()
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        basic = None
        if self.send_credentials == "basic":
            basic = (self.client_id, self.client_secret)
        else:
            form |= {"client_id": self.client_id, "client_secret": self.client_secret}
        body = await self.api.request_json(
            "POST", self.token_url, data=form, basic=basic, gated=False
        )
        body = expect(self.api, body, self.token_url, access_token=str)
        expires_in = body.get("expires_in", 3600)  # RFC 6749 only recommends it
        if not isinstance(expires_in, int | float) or isinstance(expires_in, bool):
            raise self.api.error(
                f"unexpected token payload: expires_in is {type(expires_in).__name__}",
                self.token_url,
            )
        expires_in = max(float(expires_in), 0.0)
        self._token = body["access_token"]
        # renew a minute early, or half-way through a short-lived token
        self._renew_at = asked_at + max(expires_in - 60, expires_in * 0.5)
        if self._fetched:
            self.api.stats.token_renewals += 1
        self._fetched += 1


@dataclass
class KoreJwtAuth:
    """`auth: <JWT>` signed HS256 with the client secret, claims `appId`, `iat`, `exp`."""

    client_id: str
    client_secret: str = field(repr=False)
    lifetime_s: int = 300
    clock: Callable[[], float] = field(default=time.time, repr=False)
    _token: str | None = field(default=None, repr=False)
    _expires: float = 0.0

    def sign(self) -> str:
        now = int(self.clock())
        with warnings.catch_warnings():
            # the vendor chooses the secret's length; a short one is still what it verifies with
            warnings.simplefilter("ignore", InsecureKeyLengthWarning)
            token = jwt.encode(
                {"appId": self.client_id, "iat": now, "exp": now + self.lifetime_s},
                self.client_secret,
                algorithm="HS256",
            )
        self._token, self._expires = token, now + self.lifetime_s
        return token

    async def headers(self) -> dict[str, str]:
        if self._token is None or self.clock() >= self._expires - 60:
            self.sign()
        return {"auth": self._token or self.sign()}

    async def unauthorized(self, sent: dict[str, str]) -> None:
        self._token = None
