"""A NICE CXone tenant's settings: API and token URLs, OAuth client id (the tenant) and secret."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from agentstate_etl.http import ClientOptions
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

    def client(self, options: ClientOptions) -> CxOneClient:
        return CxOneClient(self, options)
