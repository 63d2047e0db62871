"""The whole configuration, read and checked in one place: settings plus the vendor tenants.

Commands call `load_config()` first, so an invalid variable fails before anything runs; the
Dagster code location builds its definitions from the same object.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agentstate_etl.canonical import VENDORS
from agentstate_etl.errors import ConfigError
from agentstate_etl.settings import Settings, VendorSettings, load_env_file
from agentstate_etl.tenants import Tenant, environment_tenants, read_tenants_file

TENANTS_VARIABLE = "AGENTSTATE_TENANTS"


@dataclass(frozen=True)
class Config:
    settings: Settings
    tenants: tuple[Tenant, ...]

    def of_vendor(self, vendor: str) -> list[Tenant]:
        return [t for t in self.tenants if t.vendor == vendor]

    def select(self, vendors: Sequence[str], tenant: str | None = None) -> list[Tenant]:
        """The tenants of these vendors, or the one named (by tenant id or slug) among them."""
        unknown = [v for v in vendors if v not in VENDORS]
        if unknown:
            raise ConfigError(
                f"unknown vendor {', '.join(unknown)}; expected one of {', '.join(VENDORS)} or all"
            )
        candidates = [t for t in self.tenants if t.vendor in vendors]
        if tenant is None:
            return candidates
        chosen = [t for t in candidates if t.matches(tenant)]
        if not chosen:
            known = ", ".join(f"{t.label} (name {t.slug})" for t in candidates)
            raise ConfigError(
                f"no tenant {tenant!r} of {', '.join(vendors)}; --tenant takes a tenant_id or "
                f"name of: {known or 'none'}"
            )
        return chosen


def resolve_all(
    tenants: Sequence[Tenant], environ: Mapping[str, str] | None = None
) -> list[VendorSettings]:
    """Each tenant's settings, in order, failing at once with every problem of every tenant."""
    resolved, problems = [], []
    for tenant in tenants:
        try:
            resolved.append(tenant.resolve(environ))
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError("\n".join(problems))
    return resolved


def load_config() -> Config:
    """Settings and tenants from the environment (and `.env`), every value checked now."""
    load_env_file()
    settings = Settings.from_env()
    path = os.environ.get(TENANTS_VARIABLE, "").strip()
    tenants = read_tenants_file(path) if path else environment_tenants()
    return Config(settings=settings, tenants=tuple(tenants))
