"""A CxEngage tenant's settings: RTA base URL, tenant id and HTTP Basic credentials."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from agentstate_etl.http import ClientOptions
from agentstate_etl.settings import Secret, VendorSettings, http_url, setting
from agentstate_etl.vendors.cxengage.client import CxEngageClient


@dataclass(frozen=True)
class CxEngageSettings(VendorSettings):
    vendor: ClassVar[str] = "cxengage"
    tenant_field: ClassVar[str] = "tenant_id"

    base_url: str = setting("CXENGAGE_BASE_URL", check=http_url)
    tenant_id: str = setting("CXENGAGE_TENANT_ID")
    username: str = setting("CXENGAGE_USERNAME", credential=True)
    password: Secret = setting("CXENGAGE_PASSWORD", credential=True)

    def client(self, options: ClientOptions) -> CxEngageClient:
        return CxEngageClient(self, options)
