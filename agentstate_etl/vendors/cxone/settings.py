"""A NICE CXone tenant's settings: API and token URLs, OAuth client id (the tenant) and secret."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from agentstate_etl.http import ClientOptions
from agentstate_etl.settings import (
    Secret,
    VendorSettings,
    http_url,
    readable_file,
    setting,
    tenant_identifier,
)
from agentstate_etl.vendors.capabilities import Capabilities
from agentstate_etl.vendors.cxone import CAPABILITIES
from agentstate_etl.vendors.cxone.client import CxOneClient


def token_auth(text: str) -> str:
    if text not in ("form", "basic"):
        raise ValueError(f"must be form or basic, got {text!r}")
    return text


@dataclass(frozen=True)
class CxOneSettings(VendorSettings):
    vendor: ClassVar[str] = "cxone"
    capabilities: ClassVar[Capabilities] = CAPABILITIES
    tenant_field: ClassVar[str] = "client_id"

    base_url: str = setting("CXONE_BASE_URL", check=http_url)
    token_url: str = setting("CXONE_TOKEN_URL", check=http_url)
    client_id: str = setting("CXONE_CLIENT_ID", check=tenant_identifier)
    client_secret: Secret = setting("CXONE_CLIENT_SECRET", credential=True)
    # the documents name different hosts for history, snapshot and summary; unset, each is
    # served from CXONE_BASE_URL
    history_url: str = setting("CXONE_HISTORY_URL", default="", check=http_url)
    snapshot_url: str = setting("CXONE_SNAPSHOT_URL", default="", check=http_url)
    summary_url: str = setting("CXONE_SUMMARY_URL", default="", check=http_url)
    # how the token endpoint takes the client credentials: in the form (the history tutorial)
    # or as HTTP Basic (the snapshot document), and the scope to ask for, if any
    token_auth: str = setting("CXONE_TOKEN_AUTH", default="form", check=token_auth)
    scope: str = setting("CXONE_SCOPE", default="")
    # agents to ask history for besides those the snapshot and the lake name (CSV agent_id[,agent_name])
    agents_file: str = setting("CXONE_AGENTS_FILE", default="", check=readable_file)

    @property
    def roster_file(self) -> str:
        return self.agents_file

    def url_of(self, service: str) -> str:
        """The base URL of `history`, `snapshot` or `summary`."""
        return getattr(self, f"{service}_url") or self.base_url

    @property
    def tenant_id(self) -> str:
        return self.client_id

    def client(self, options: ClientOptions) -> CxOneClient:
        return CxOneClient(self, options)
