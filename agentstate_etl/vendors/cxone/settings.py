"""A NICE CXone tenant's settings: API and token URLs, OAuth client id (the tenant) and secret."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import httpx

from agentstate_etl.http import Timeouts
from agentstate_etl.settings import Secret, VendorSettings, http_url, setting
from agentstate_etl.vendors.cxone.client import CxOneClient


@dataclass(frozen=True)
class CxOneSettings(VendorSettings):
    vendor: ClassVar[str] = "cxone"
    tenant_field: ClassVar[str] = "client_id"

    base_url: str = setting("CXONE_BASE_URL", check=http_url)
    token_url: str = setting("CXONE_TOKEN_URL", check=http_url)
    client_id: str = setting("CXONE_CLIENT_ID")
    client_secret: Secret = setting("CXONE_CLIENT_SECRET", credential=True)

    @property
    def tenant_id(self) -> str:
        return self.client_id

    def client(
        self,
        *,
        partition: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeouts: Timeouts | None = None,
    ) -> CxOneClient:
        return CxOneClient(
            self.base_url,
            self.token_url,
            self.client_id,
            self.client_secret.reveal(),
            partition=partition,
            transport=transport,
            timeouts=timeouts,
        )
