"""A CxEngage tenant's settings: RTA base URL, tenant id and HTTP Basic credentials."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

from agentstate_etl.http import ClientOptions
from agentstate_etl.settings import (
    Secret,
    VendorSettings,
    http_url,
    positive_days,
    setting,
    tenant_identifier,
)
from agentstate_etl.vendors.capabilities import Capabilities
from agentstate_etl.vendors.cxengage import CAPABILITIES
from agentstate_etl.vendors.cxengage.client import CxEngageClient


@dataclass(frozen=True)
class CxEngageSettings(VendorSettings):
    vendor: ClassVar[str] = "cxengage"
    capabilities: ClassVar[Capabilities] = CAPABILITIES
    tenant_field: ClassVar[str] = "tenant_id"

    base_url: str = setting("CXENGAGE_BASE_URL", check=http_url)
    tenant_id: str = setting("CXENGAGE_TENANT_ID", check=tenant_identifier)
    username: str = setting("CXENGAGE_USERNAME", credential=True)
    password: Secret = setting("CXENGAGE_PASSWORD", credential=True)
    # the vendor keeps three days; a tenant whose contract keeps more says so here
    retention_days: str = setting(
        "CXENGAGE_RETENTION_DAYS",
        default=str(CAPABILITIES.retention.days if CAPABILITIES.retention else 3),
        check=positive_days,
    )

    @property
    def limits(self) -> Capabilities:
        return CAPABILITIES.with_retention(timedelta(days=float(self.retention_days)))

    def client(self, options: ClientOptions) -> CxEngageClient:
        return CxEngageClient(self, options)
