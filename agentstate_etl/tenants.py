"""Vendor tenants (docs/tenants.md): from a tenants file, or one per vendor from the per-vendor variables (docs/configuration.md).

A `Tenant` is a tenant as configured: each setting either as a value (URLs, the tenant id, the
Kore.ai zone) or as the name of the environment variable holding it (credentials, and every
setting of the tenant the per-vendor variables (docs/configuration.md) define). Nothing here holds a secret; `resolve()` reads
the variables and returns the vendor's typed, validated settings, which build its client.

The tenants file is TOML (`AGENTSTATE_TENANTS`), one `[[tenants]]` table per tenant:

    [[tenants]]
    vendor = "cxone"
    tenant_id = "bu-emea"                    # the value of the tenant_id column
    name = "emea"                            # optional: its name in Dagster (default: from tenant_id)
    base_url = "https://api.example.com"
    token_url = "https://auth.example.com/token"
    credentials = { client_secret = "CXONE_EMEA_CLIENT_SECRET" }   # variable NAMES only

See docs/tenants.md for every vendor's keys.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from agentstate_etl.canonical import VENDORS
from agentstate_etl.errors import ConfigError
from agentstate_etl.settings import ENV_NAME, VendorSettings
from agentstate_etl.vendors.registry import vendor_spec

DEFAULT_SLUG = "default"  # the one tenant per vendor that the per-vendor variables (docs/configuration.md) define
ENVIRONMENT = "environment"
CREDENTIALS = "credentials"
NAME = "name"  # optional: the tenant's name in Dagster (asset keys, jobs, --tenant)
SLUG = re.compile(r"[a-z][a-z0-9_]*")
VARIABLE_WORDS = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")  # CXONE_EMEA_CLIENT_SECRET


def slug_of(tenant_id: str) -> str:
    """A tenant id as a Dagster name part: lower case letters, digits and underscores."""
    slug = re.sub(r"[^a-z0-9]+", "_", tenant_id.lower()).strip("_")
    return slug if slug and not slug[0].isdigit() else f"t_{slug}"


@dataclass(frozen=True)
class Tenant:
    """One vendor tenant as configured: values, and variable names for the rest (no secrets)."""

    vendor: str
    slug: str
    values: Mapping[str, str]  # setting -> value, never a credential
    variables: Mapping[str, str]  # setting -> name of the environment variable holding it
    origin: str = ENVIRONMENT  # "environment" or the tenants file, for messages

    @property
    def settings_class(self) -> type[VendorSettings]:
        return vendor_spec(self.vendor).settings

    @property
    def declared_id(self) -> str | None:
        """The tenant id when the configuration states it (a tenants file does)."""
        return self.values.get(self.settings_class.tenant_field)

    @property
    def label(self) -> str:
        """`vendor/tenant` for messages: the tenant id where known, else the slug."""
        return f"{self.vendor}/{self.declared_id or self.slug}"

    def matches(self, name: str) -> bool:
        return name in {self.slug, self.declared_id}

    def where(self, setting: str) -> str:
        """Where a setting comes from, for an error message (never its value)."""
        if setting in self.variables:
            return self.variables[setting]
        if self.origin == ENVIRONMENT:
            return self.settings_class.variables()[setting].env
        return f"{self.label} {setting} ({self.origin})"

    def missing(self, environ: Mapping[str, str] | None = None) -> list[str]:
        """The variables this tenant needs that are unset or empty (names only)."""
        environ = os.environ if environ is None else environ
        declared = self.settings_class.variables()
        return [
            name
            for setting, name in self.variables.items()
            if declared[setting].default is None and not environ.get(name, "").strip()
        ]

    def resolve(self, environ: Mapping[str, str] | None = None) -> VendorSettings:
        """The tenant's typed settings, failing at once with every missing or invalid variable."""
        environ = os.environ if environ is None else environ
        missing = self.missing(environ)
        if missing:
            raise ConfigError(
                f"{self.label} is not configured: set {', '.join(missing)} (environment or .env)"
            )
        values = {**self.values}
        values.update({s: environ.get(name, "") for s, name in self.variables.items()})
        return self.settings_class.build(values, self.where)


def plausible_variable_name(name: object, environ: Mapping[str, str] | None = None) -> bool:
    """Whether a credentials entry can be shown as a variable name (docs/tenants.md): words of
    A-Z and 0-9 joined by `_` (`CXONE_EMEA_CLIENT_SECRET`), or any name the environment has.
    An uppercase secret (a base32 seed such as a TOTP key) is one word: unless a variable of
    that name exists, it is refused without being echoed, here and in "set ..." messages."""
    if not isinstance(name, str) or not ENV_NAME.fullmatch(name):
        return False
    environ = os.environ if environ is None else environ
    return bool(VARIABLE_WORDS.fullmatch(name)) or name in environ


def _check_values(tenant: Tenant) -> None:
    """Validate the values a configuration states (not the variables, read at run time)."""
    declared = tenant.settings_class.variables()
    problems = []
    for setting, value in tenant.values.items():
        check = declared[setting].check
        if check is not None and value:  # an optional setting left empty is not checked
            try:
                check(value)
            except ValueError as exc:
                problems.append(f"{tenant.where(setting)} {exc}")
    if problems:
        raise ConfigError("; ".join(problems))


def environment_tenants(environ: Mapping[str, str] | None = None) -> list[Tenant]:
    """One tenant per vendor from the per-vendor variables (docs/configuration.md), as before tenants files existed.

    Required settings stay variable names (Dagster resolves them at run time, so the code
    location loads while they are unset); settings with a default are read now.
    """
    environ = os.environ if environ is None else environ
    tenants = []
    for vendor in VENDORS:
        declared = vendor_spec(vendor).settings.variables()
        values = {
            setting: environ.get(v.env, "").strip() or v.default
            for setting, v in declared.items()
            if v.default is not None
        }
        variables = {setting: v.env for setting, v in declared.items() if v.default is None}
        tenant = Tenant(vendor, DEFAULT_SLUG, values, variables)
        _check_values(tenant)
        tenants.append(tenant)
    return tenants


def environment_tenant(vendor: str, environ: Mapping[str, str] | None = None) -> Tenant:
    """The one tenant the per-vendor variables (docs/configuration.md) define for `vendor`."""
    (tenant,) = [t for t in environment_tenants(environ) if t.vendor == vendor]
    return tenant


# ---- the tenants file ----------------------------------------------------------------------


def _file_keys(settings: type[VendorSettings]) -> dict[str, str]:
    """Tenants-file key -> setting, for the settings a file states as values."""
    keys = {"tenant_id": settings.tenant_field}
    for setting, variable in settings.variables().items():
        if not variable.credential and setting != settings.tenant_field:
            keys[setting] = setting
    return keys


def _credential_settings(settings: type[VendorSettings]) -> list[str]:
    return [s for s, v in settings.variables().items() if v.credential]


def _entry_tenant(entry: object, number: int, path: Path) -> Tenant:
    where = f"{path}: tenant #{number}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table ([[tenants]])")
    vendor = entry.get("vendor")
    if vendor not in VENDORS:
        raise ConfigError(f"{where}: vendor must be one of {', '.join(VENDORS)}, got {vendor!r}")
    settings = vendor_spec(vendor).settings
    keys = _file_keys(settings)
    tenant_id = entry.get("tenant_id")
    if not isinstance(tenant_id, str) or not tenant_id.strip():
        raise ConfigError(f"{where} ({vendor}): tenant_id must be a non-empty string")
    where = f"{path}: tenant #{number} ({vendor}/{tenant_id})"
    unknown = sorted(set(entry) - {"vendor", NAME, CREDENTIALS, *keys})
    if unknown:
        allowed = ", ".join(["vendor", NAME, *keys, CREDENTIALS])
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; a {vendor} tenant has {allowed} "
            "(credentials name environment variables and never hold a value)"
        )
    values: dict[str, str] = {}
    for key, setting in keys.items():
        value = entry.get(key)
        if value is None:
            declared = settings.variables()[setting]
            if declared.default is None or declared.required_in_file:
                raise ConfigError(f"{where}: {key} is missing")
            continue
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be a string")
        values[setting] = value.strip()
    credentials = entry.get(CREDENTIALS, {})
    expected = _credential_settings(settings)
    if not isinstance(credentials, dict):
        raise ConfigError(f"{where}: {CREDENTIALS} must be a table of variable names")
    if set(credentials) != set(expected):
        raise ConfigError(
            f"{where}: {CREDENTIALS} must name the variables of exactly {', '.join(expected)}"
            f" (got {', '.join(sorted(credentials)) or 'none'})"
        )
    for setting, name in credentials.items():
        if not plausible_variable_name(name):
            raise ConfigError(
                f"{where}: {CREDENTIALS}.{setting} must be the NAME of an environment variable "
                "(words of A-Z and 0-9 joined by _, such as CXONE_EMEA_CLIENT_SECRET, or a "
                "variable that is set), not a secret; what it holds is not shown. Put the "
                "secret in an environment variable and its name here."
            )
    name = entry.get(NAME, slug_of(tenant_id))
    if not isinstance(name, str) or not SLUG.fullmatch(name):
        raise ConfigError(
            f"{where}: {NAME} must be lower-case letters, digits and _ (a Dagster name), "
            f"got {name!r}"
        )
    tenant = Tenant(vendor, name, values, dict(credentials), str(path))
    _check_values(tenant)
    return tenant


def read_tenants_file(path: str | Path) -> list[Tenant]:
    """Every tenant of a tenants file, checked: keys, URLs, zones, unique ids and names."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"AGENTSTATE_TENANTS names {path}, which cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"AGENTSTATE_TENANTS: {path} is not valid TOML: {exc}") from None
    entries = document.get("tenants")
    if not isinstance(entries, list) or not entries or set(document) != {"tenants"}:
        raise ConfigError(
            f"AGENTSTATE_TENANTS: {path} must hold one or more [[tenants]] tables and nothing "
            "else (see docs/tenants.md)"
        )
    tenants = [_entry_tenant(entry, n, path) for n, entry in enumerate(entries, start=1)]
    seen: dict[tuple[str, str], Tenant] = {}
    for tenant in tenants:
        for key in ((tenant.vendor, tenant.declared_id or ""), (tenant.vendor, tenant.slug)):
            if key in seen and seen[key] is not tenant:
                raise ConfigError(
                    f"{path}: {tenant.label} and {seen[key].label} are the same tenant or share "
                    f"the name {tenant.slug!r}; each tenant of a vendor needs its own tenant_id"
                )
            seen[key] = tenant
    return tenants


def tenants_toml(tenants: Iterable[Tenant]) -> str:
    """A tenants file stating these tenants (what `read_tenants_file` reads back)."""
    blocks = []
    for tenant in tenants:
        settings = tenant.settings_class
        lines = ["[[tenants]]", f"vendor = {json.dumps(tenant.vendor)}"]
        if tenant.slug != slug_of(tenant.declared_id or ""):
            lines.append(f"{NAME} = {json.dumps(tenant.slug)}")
        for key, setting in _file_keys(settings).items():
            if setting in tenant.values:
                lines.append(f"{key} = {json.dumps(tenant.values[setting])}")
        names = ", ".join(
            f"{setting} = {json.dumps(tenant.variables[setting])}"
            for setting in _credential_settings(settings)
        )
        lines.append(f"{CREDENTIALS} = {{ {names} }}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
