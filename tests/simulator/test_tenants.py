"""Several tenants per vendor: each its own data and credentials; another tenant's get 401."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from agentstate_etl.simulator.config import Credentials
from agentstate_etl.simulator.server import SimulatorServer
from agentstate_etl.simulator.world import World
from tests.simulator.conftest import HISTORY_DAY, config, cxone_agent
from tests.simulator.test_wire_formats import DAY, kore_jwt

ONE, TWO = Credentials.of_tenant(1), Credentials.of_tenant(2)


@pytest.fixture(scope="module")
def two() -> Iterator[SimulatorServer]:
    with SimulatorServer(config(tenants=2)) as server:
        yield server


def rta(client: httpx.Client, tenant: Credentials, auth: Credentials) -> httpx.Response:
    return client.get(
        f"/v1/tenants/{tenant.cxengage_tenant_id}/wfm/rta",
        params={**DAY, "limit": 1000},
        auth=(auth.cxengage_username, auth.cxengage_password),
    )


def kore(client: httpx.Client, tenant: Credentials, auth: Credentials) -> httpx.Response:
    return client.get(
        f"/agentassist/api/public/analytics/account/{tenant.koreai_account_id}/agentactivity",
        params={"fromTimeStamp": "2026-03-07T00:00:00Z", "toTimeStamp": "2026-03-07T06:00:00Z"},
        headers={"auth": kore_jwt(auth.koreai_client_secret, auth.koreai_client_id)},
    )


def cxone_history(
    client: httpx.Client, auth: Credentials, agent: str | None = None
) -> httpx.Response:
    token = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(auth.cxone_client_id, auth.cxone_client_secret),
    )
    if token.status_code != 200:
        return token
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    return client.get(
        "/api/reporting/v2/agent-state-history",
        params={**HISTORY_DAY, "agentId": agent or cxone_agent(), "pageSize": 1000},
        headers=bearer,
    )


def test_tenant_one_is_the_single_world_of_the_seed() -> None:
    single, first = World(config()), World(config(tenants=3), tenant=1)
    assert single.data("cxengage").stream.encoded == first.data("cxengage").stream.encoded


def test_each_tenant_has_its_own_data_and_credentials(two: SimulatorServer) -> None:
    with httpx.Client(base_url=two.base_url, timeout=10) as client:
        for fetch in (
            lambda tenant: rta(client, tenant, tenant).json()["results"],
            lambda tenant: kore(client, tenant, tenant).json()["AgentUpdates"],
        ):
            first, second = fetch(ONE), fetch(TWO)
            assert first and second and first != second
        first = cxone_history(client, ONE, cxone_agent(1))
        second = cxone_history(client, TWO, cxone_agent(2))
        assert first.status_code == second.status_code == 200
        assert first.json()["records"] != second.json()["records"]


def test_another_tenants_credentials_get_401(two: SimulatorServer) -> None:
    with httpx.Client(base_url=two.base_url, timeout=10) as client:
        assert rta(client, ONE, TWO).status_code == 401
        assert rta(client, TWO, ONE).status_code == 401
        assert kore(client, ONE, TWO).status_code == 401
        assert kore(client, TWO, ONE).status_code == 401
        wrong_secret = Credentials(cxone_client_id=TWO.cxone_client_id)  # tenant 1's secret
        assert cxone_history(client, wrong_secret).status_code == 401
