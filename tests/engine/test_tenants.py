"""Typed vendor settings and the tenants file: declared once, checked at once, secrets never shown."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from agentstate_etl.config import Config, resolve_all
from agentstate_etl.errors import ConfigError
from agentstate_etl.http import ClientOptions
from agentstate_etl.settings import Secret, Settings
from agentstate_etl.tenants import (
    DEFAULT_SLUG,
    environment_tenants,
    read_tenants_file,
    slug_of,
    tenants_toml,
)
from agentstate_etl.vendors.cxone.client import CxOneClient
from agentstate_etl.vendors.registry import VENDOR_SPECS

EXAMPLE = Path(__file__).parents[2] / "examples" / "tenants.toml"
SECRET = "s3cr3t-Value!"

CXONE = """
[[tenants]]
vendor = "cxone"
tenant_id = "bu-emea"
base_url = "https://api.example.com"
token_url = "https://auth.example.com/token"
credentials = {{ client_secret = "{name}" }}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tenants.toml"
    path.write_text(text)
    return path


def test_the_documented_example_is_a_valid_tenants_file() -> None:
    tenants = read_tenants_file(EXAMPLE)
    assert [t.vendor for t in tenants] == ["cxengage", "cxengage", "cxone", "koreai"]
    assert [t.slug for t in tenants] == ["eu", "us", "bu_emea_client", "north_america"]
    assert tenants[3].values["timezone"] == "America/New_York"
    assert tenants[2].variables == {"client_secret": "CXONE_EMEA_CLIENT_SECRET"}


def test_a_written_tenants_file_reads_back_the_same(tmp_path: Path) -> None:
    tenants = read_tenants_file(EXAMPLE)
    again = read_tenants_file(write(tmp_path, tenants_toml(tenants)))
    assert [dataclasses.replace(t, origin="") for t in again] == [
        dataclasses.replace(t, origin="") for t in tenants
    ]


@pytest.mark.parametrize(
    "value",
    # the last: an inlined uppercase base32 secret (a TOTP seed) is shaped like a variable name
    [SECRET, "sk_live_abc", "hunter2", "two words", "JBSWY3DPEHPK3PXPQ7ZA"],
)
def test_a_secret_where_a_variable_name_belongs_is_refused_and_not_shown(
    tmp_path: Path, value: str
) -> None:
    with pytest.raises(ConfigError, match="NAME of an environment variable") as error:
        read_tenants_file(write(tmp_path, CXONE.format(name=value)))
    assert value not in str(error.value)
    assert "client_secret" in str(error.value)


def test_a_secret_under_an_unknown_key_is_refused_and_not_shown(tmp_path: Path) -> None:
    text = CXONE.format(name="CXONE_EMEA_SECRET") + f'client_secret = "{SECRET}"\n'
    with pytest.raises(ConfigError, match="unknown key.*client_secret") as error:
        read_tenants_file(write(tmp_path, text))
    assert SECRET not in str(error.value)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('"cxone"', '"genesys"'), "vendor must be one of"),
        (lambda t: t.replace('tenant_id = "bu-emea"\n', ""), "tenant_id must be"),
        (lambda t: t.replace('token_url = "https://auth.example.com/token"\n', ""), "token_url"),
        (lambda t: t.replace("https://api.example.com", "api.example.com"), "base_url"),
        (lambda t: t.replace("credentials = { client_secret", "credentials = { secret"), "exactly"),
        (lambda t: t + '\n[other]\nx = "y"\n', "nothing else"),
        (lambda t: t.replace("[[tenants]]", '[[tenants]]\nname = "EMEA"'), "name must be"),
        (lambda t: t.replace("= {", "= ["), "not valid TOML"),
    ],
)
def test_an_invalid_tenants_file_names_what_is_wrong(
    tmp_path: Path, edit: object, message: str
) -> None:
    text = edit(CXONE.format(name="CXONE_EMEA_SECRET"))  # type: ignore[operator]
    with pytest.raises(ConfigError, match=message):
        read_tenants_file(write(tmp_path, text))


def test_an_invalid_koreai_timezone_in_a_tenants_file_fails_when_read(tmp_path: Path) -> None:
    text = (
        '[[tenants]]\nvendor = "koreai"\ntenant_id = "acct"\nbase_url = "https://k.example"\n'
        'timezone = "Mars/Olympus"\n'
        'credentials = { client_id = "K_ID", client_secret = "K_SECRET" }\n'
    )
    with pytest.raises(ConfigError, match="koreai/acct timezone.*Mars/Olympus"):
        read_tenants_file(write(tmp_path, text))


KOREAI = (
    '[[tenants]]\nvendor = "koreai"\ntenant_id = "acct"\nbase_url = "https://k.example"\n'
    "{extra}"
    'credentials = {{ client_id = "K_ID", client_secret = "K_SECRET" }}\n'
)


def test_a_koreai_tenant_of_a_tenants_file_must_state_its_zone(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"koreai/acct\): timezone is missing"):
        read_tenants_file(write(tmp_path, KOREAI.format(extra="")))


def test_a_koreai_reason_codes_file_names_codes_and_leaves_the_others(tmp_path: Path) -> None:
    codes = tmp_path / "codes.csv"
    codes.write_text("code,name\n1,Lunch\n2, Coaching \n\n")
    extra = f'timezone = "Asia/Kolkata"\nreason_codes_file = "{codes}"\n'
    (tenant,) = read_tenants_file(write(tmp_path, KOREAI.format(extra=extra)))
    settings = tenant.resolve({"K_ID": "id", "K_SECRET": "secret"})
    assert settings.reason_names == {"1": "Lunch", "2": "Coaching"}
    codes.write_text("code,name\n1,Lunch break\n")  # an edit is read again
    assert settings.reason_names == {"1": "Lunch break"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "must name a readable CSV file"),
        ("reason,label\n1,Lunch\n", "header code,name.*'reason,label'"),
        ("code,name\n1,Lunch\n1,Break\n", "line 3: code '1' is named twice"),
        ("code,name\n1,\n", "line 2: expected a code and a name"),
        ("code,name\n1,Lunch,extra\n", "line 2: expected a code and a name"),
    ],
)
def test_a_bad_reason_codes_file_fails_when_read_naming_tenant_and_line(
    tmp_path: Path, content: str | None, message: str
) -> None:
    codes = tmp_path / "codes.csv"
    if content is not None:
        codes.write_text(content)
    extra = f'timezone = "UTC"\nreason_codes_file = "{codes}"\n'
    with pytest.raises(ConfigError, match=f"koreai/acct reason_codes_file .*{message}"):
        read_tenants_file(write(tmp_path, KOREAI.format(extra=extra)))


def test_two_tenants_of_a_vendor_need_their_own_ids_and_names(tmp_path: Path) -> None:
    one = CXONE.format(name="A_SECRET")
    with pytest.raises(ConfigError, match="same tenant"):
        read_tenants_file(write(tmp_path, one + one.replace("A_SECRET", "B_SECRET")))
    clash = one + one.replace("bu-emea", "bu_emea").replace("A_SECRET", "B_SECRET")
    with pytest.raises(ConfigError, match="share the name 'bu_emea'"):
        read_tenants_file(write(tmp_path, clash))


def test_a_missing_tenants_file_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AGENTSTATE_TENANTS names .*cannot be read"):
        read_tenants_file(tmp_path / "nope.toml")


def test_slugs_are_dagster_names() -> None:
    assert slug_of("Tenant-B.eu") == "tenant_b_eu"
    assert slug_of("5f7e9a") == "t_5f7e9a"


def test_settings_never_print_their_secrets_and_build_the_vendor_client(tmp_path: Path) -> None:
    (tenant,) = read_tenants_file(write(tmp_path, CXONE.format(name="CXONE_EMEA_SECRET")))
    settings = tenant.resolve({"CXONE_EMEA_SECRET": SECRET})
    assert settings.tenant_id == "bu-emea"
    assert isinstance(settings.client_secret, Secret)  # type: ignore[attr-defined]
    for text in (repr(settings), str(settings), f"{settings}", str(vars(settings))):
        assert SECRET not in text
    assert settings.client_secret.reveal() == SECRET  # type: ignore[attr-defined]
    client = settings.client(ClientOptions(partition="cxone/bu-emea/2026-03-06"))
    assert isinstance(client, CxOneClient)


def test_the_environment_defines_one_tenant_per_vendor_from_the_spec_variables() -> None:
    tenants = environment_tenants({"KOREAI_TIMEZONE": "America/New_York"})
    assert [(t.vendor, t.slug) for t in tenants] == [
        (vendor, DEFAULT_SLUG) for vendor in VENDOR_SPECS
    ]
    koreai = tenants[2]
    assert koreai.values == {"timezone": "America/New_York", "reason_codes_file": ""}
    assert koreai.variables == {
        "base_url": "KOREAI_BASE_URL",
        "account_id": "KOREAI_ACCOUNT_ID",
        "client_id": "KOREAI_CLIENT_ID",
        "client_secret": "KOREAI_CLIENT_SECRET",
    }


def test_every_missing_and_invalid_variable_of_every_tenant_is_named_at_once() -> None:
    tenants = environment_tenants({})
    environ = {"CXENGAGE_BASE_URL": "not a url", "CXONE_CLIENT_ID": "c"}
    with pytest.raises(ConfigError) as error:
        resolve_all(tenants, environ)
    message = str(error.value)
    for name in [
        "CXENGAGE_TENANT_ID",
        "CXENGAGE_PASSWORD",
        "CXONE_BASE_URL",
        "CXONE_CLIENT_SECRET",
        "KOREAI_ACCOUNT_ID",
        "KOREAI_CLIENT_SECRET",
    ]:
        assert name in message
    complete = {"CXENGAGE_TENANT_ID": "t", "CXENGAGE_USERNAME": "u", "CXENGAGE_PASSWORD": "p"}
    with pytest.raises(ConfigError, match="CXENGAGE_BASE_URL must be an absolute http"):
        tenants[0].resolve({**environ, **complete})


def test_an_unknown_tenant_is_refused_with_the_configured_ones() -> None:
    config = Config(settings=Settings.from_env(), tenants=tuple(read_tenants_file(EXAMPLE)))
    assert [t.slug for t in config.select(["cxengage"], "us")] == ["us"]
    assert [
        t.slug for t in config.select(["cxengage"], "c3a1e5d2-0000-4000-8000-000000000001")
    ] == ["eu"]
    with pytest.raises(ConfigError, match="no tenant 'asia'.*cxengage/c3a1.*name eu.*name us"):
        config.select(["cxengage"], "asia")


HOSTILE_IDS = [
    "../../../../tmp/x",
    "x/../../other?limit=1#",
    "a b",
    "%2e%2e",
    "..",
    "-a",
    "é",
    "x" * 129,
]


@pytest.mark.parametrize("tenant_id", HOSTILE_IDS)
def test_a_tenant_id_outside_the_documented_charset_is_refused(
    tmp_path: Path, tenant_id: str
) -> None:
    """A tenant id becomes a URL path segment and a lake key: `../../tmp/x` sent the
    credentialed request to another path of the vendor host. Refused in a tenants file and in
    the per-vendor variables, before any request."""
    text = CXONE.format(name="CXONE_EMEA_SECRET").replace('"bu-emea"', json.dumps(tenant_id))
    with pytest.raises(ConfigError, match="must be a tenant id"):
        read_tenants_file(write(tmp_path, text))
    environ = {
        "CXENGAGE_BASE_URL": "https://rta.example.com",
        "CXENGAGE_TENANT_ID": tenant_id,
        "CXENGAGE_USERNAME": "u",
        "CXENGAGE_PASSWORD": "p",
    }
    (cxengage,) = [t for t in environment_tenants({}) if t.vendor == "cxengage"]
    with pytest.raises(ConfigError, match="CXENGAGE_TENANT_ID must be a tenant id"):
        cxengage.resolve(environ)


@pytest.mark.parametrize(
    "tenant_id", ["c3a1e5d2-0000-4000-8000-000000000001", "bu_emea.client", "app@acme.com", "7"]
)
def test_tenant_ids_in_the_documented_charset_are_kept(tmp_path: Path, tenant_id: str) -> None:
    text = CXONE.format(name="CXONE_EMEA_SECRET").replace('"bu-emea"', json.dumps(tenant_id))
    (tenant,) = read_tenants_file(write(tmp_path, text))
    assert tenant.declared_id == tenant_id


def test_a_one_word_variable_name_is_taken_only_when_it_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name of one word (no `_`) could be a pasted secret: it is taken as a variable name
    only when the environment has that variable; unset, it is refused and not shown."""
    path = write(tmp_path, CXONE.format(name="SECRETVALUE"))
    monkeypatch.delenv("SECRETVALUE", raising=False)
    with pytest.raises(ConfigError, match="NAME of an environment variable") as error:
        read_tenants_file(path)
    assert "SECRETVALUE" not in str(error.value)
    monkeypatch.setenv("SECRETVALUE", "x")
    (tenant,) = read_tenants_file(path)
    assert tenant.variables == {"client_secret": "SECRETVALUE"}
