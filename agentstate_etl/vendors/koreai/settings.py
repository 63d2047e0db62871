"""A Kore.ai SmartAssist tenant's settings: base URL, account (the tenant), JWT app credentials,
the zone its `EventTime` is written in and the names of its reason codes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from agentstate_etl.http import ClientOptions
from agentstate_etl.reasons import read_reason_names, reason_names_file
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
    # `EventTime` carries no zone: each tenant states its own (the default serves only the one
    # tenant the variables define; a tenants file must say)
    timezone: str = setting(
        "KOREAI_TIMEZONE", default="UTC", check=iana_zone, required_in_file=True
    )
    # `ReasonCode` is a code ("1"): a CSV `code,name` names them; unnamed codes stay codes
    reason_codes_file: str = setting(
        "KOREAI_REASON_CODES_FILE", default="", check=reason_names_file
    )

    @property
    def tenant_id(self) -> str:
        return self.account_id

    @property
    def zone(self) -> str:
        return self.timezone

    @property
    def reason_names(self) -> Mapping[str, str]:
        return read_reason_names(self.reason_codes_file) if self.reason_codes_file else {}

    def client(self, options: ClientOptions) -> KoreAiClient:
        return KoreAiClient(self, options)
