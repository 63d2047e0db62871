"""A Kore.ai SmartAssist tenant's settings: base URL, account (the tenant), JWT app credentials
and the zone its `EventTime` is written in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from agentstate_etl.http import ClientOptions
from agentstate_etl.settings import (
    Secret,
    VendorSettings,
    http_url,
    iana_zone,
    setting,
    tenant_identifier,
)
from agentstate_etl.vendors.capabilities import Capabilities
from agentstate_etl.vendors.koreai import CAPABILITIES
from agentstate_etl.vendors.koreai.client import KoreAiClient


@dataclass(frozen=True)
class KoreAiSettings(VendorSettings):
    vendor: ClassVar[str] = "koreai"
    capabilities: ClassVar[Capabilities] = CAPABILITIES
    tenant_field: ClassVar[str] = "account_id"

    base_url: str = setting("KOREAI_BASE_URL", check=http_url)
    account_id: str = setting("KOREAI_ACCOUNT_ID", check=tenant_identifier)
    client_id: str = setting("KOREAI_CLIENT_ID", credential=True)
    client_secret: Secret = setting("KOREAI_CLIENT_SECRET", credential=True)
    timezone: str = setting("KOREAI_TIMEZONE", default="UTC", check=iana_zone)

    @property
    def tenant_id(self) -> str:
        return self.account_id

    @property
    def zone(self) -> str:
        return self.timezone

    def client(self, options: ClientOptions) -> KoreAiClient:
        return KoreAiClient(self, options)
