"""Vendor clients built as the product builds them (settings → `client(options)`), from values."""

from __future__ import annotations

from typing import Any

from agentstate_etl.http import ClientOptions
from agentstate_etl.settings import Secret
from agentstate_etl.vendors.cxengage.client import CxEngageClient
from agentstate_etl.vendors.cxengage.settings import CxEngageSettings
from agentstate_etl.vendors.cxone.client import CxOneClient
from agentstate_etl.vendors.cxone.settings import CxOneSettings
from agentstate_etl.vendors.koreai.client import KoreAiClient
from agentstate_etl.vendors.koreai.settings import KoreAiSettings


def cxengage_client(
    base_url: str, tenant_id: str, username: str, password: str, **options: Any
) -> CxEngageClient:
    settings = CxEngageSettings(
        base_url=base_url, tenant_id=tenant_id, username=username, password=Secret(password)
    )
    return settings.client(ClientOptions(**options))


def simulated_cxengage(env: dict[str, str], **options: Any) -> CxEngageClient:
    """The CxEngage client of a simulated tenant, from the variables the simulator gives it."""
    return cxengage_client(
        env["CXENGAGE_BASE_URL"],
        env["CXENGAGE_TENANT_ID"],
        env["CXENGAGE_USERNAME"],
        env["CXENGAGE_PASSWORD"],
        **options,
    )


def cxone_client(
    base_url: str, token_url: str, client_id: str, client_secret: str, **options: Any
) -> CxOneClient:
    settings = CxOneSettings(
        base_url=base_url,
        token_url=token_url,
        client_id=client_id,
        client_secret=Secret(client_secret),
    )
    return settings.client(ClientOptions(**options))


def koreai_client(
    base_url: str, account_id: str, client_id: str, client_secret: str, **options: Any
) -> KoreAiClient:
    settings = KoreAiSettings(
        base_url=base_url,
        account_id=account_id,
        client_id=client_id,
        client_secret=Secret(client_secret),
    )
    return settings.client(ClientOptions(**options))
