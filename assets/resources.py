"""Resources fed by environment variables (dg.EnvVar), so the UI shows names, never secret values."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import fields as dataclass_fields
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import dagster as dg

from agentstate_etl.config import Config
from agentstate_etl.http import DEFAULT_MAX_PARTITION_RECORDS
from agentstate_etl.settings import Settings, VendorSettings
from agentstate_etl.tenants import Tenant
from agentstate_etl.vendors.registry import VENDOR_SPECS, VendorSpec
from agentstate_etl.warehouse.location import DEFAULT_RETENTION_DAYS


class AgentStateSettings(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The non-secret settings of docs/configuration.md (outputs, report zone, tolerances)."""

    home: str
    report_tz: str = "UTC"
    lookback_hours: float = 12.0
    drift_tolerance_s: float = 2.0
    max_quarantine_rate: float = 0.01
    now: str = ""  # AGENTSTATE_NOW: replay or test with a fixed clock; empty means the wall clock
    lake_url: str = ""  # AGENTSTATE_LAKE_URL; empty means $AGENTSTATE_HOME/lake
    request_timeout_s: float = 60.0
    partition_timeout_s: float = 1800.0
    max_partition_records: int = DEFAULT_MAX_PARTITION_RECORDS
    interval_minutes: int = 15
    schedules_dir: str = ""  # AGENTSTATE_SCHEDULES_DIR; empty: $AGENTSTATE_HOME/inbox/schedules
    activity_mapping: str = ""  # AGENTSTATE_ACTIVITY_MAPPING; empty: the shipped file
    adherence_threshold_s: float = 0.0
    adherence_target_pct: float = 90.0
    collect_every_s: float = 300.0
    collect_overlap_s: float = 600.0
    warehouse_url: str = ""  # AGENTSTATE_WAREHOUSE_URL; empty: a SQLite catalog in home
    warehouse_data_path: str = ""  # AGENTSTATE_WAREHOUSE_DATA_PATH; empty: home/warehouse
    snapshot_retention_days: float = DEFAULT_RETENTION_DAYS

    def settings(self) -> Settings:
        values: dict[str, Any] = {"home": Path(self.home).resolve()}
        for name, kind in SETTINGS_TYPES.items():
            raw = getattr(self, RESOURCE_NAMES.get(name, name))
            if kind == "Path | None":
                values[name] = Path(raw).resolve() if raw else None
            elif kind == "datetime | None":
                values[name] = datetime.fromisoformat(raw) if raw else None
            else:
                values[name] = raw
        dagster_home = Path(os.environ.get("DAGSTER_HOME") or values["home"] / "dagster")
        return Settings(dagster_home=dagster_home, **values)

    @classmethod
    def from_settings(cls, settings: Settings) -> AgentStateSettings:
        values: dict[str, Any] = {"home": str(settings.home)}
        for name in SETTINGS_TYPES:
            value = getattr(settings, name)
            if value is None:
                value = ""
            elif isinstance(value, Path | datetime):
                value = value.isoformat() if isinstance(value, datetime) else str(value)
            values[RESOURCE_NAMES.get(name, name)] = value
        return cls(**values)


# Settings' fields the resource carries (their annotations, as text): all but the home, set
# apart, and what Dagster itself decides (its home, the partitions' start)
NOT_IN_RESOURCE = ("home", "dagster_home", "start_date")
SETTINGS_TYPES = {
    f.name: str(f.type) for f in dataclass_fields(Settings) if f.name not in NOT_IN_RESOURCE
}
RESOURCE_NAMES = {"now_override": "now"}  # a Settings field -> its resource field's name


class VendorApi(dg.ConfigurableResource):  # type: ignore[type-arg]
    """One vendor tenant: its settings' fields, fed by `dg.EnvVar` so the UI shows variable
    names, never values. Each vendor's subclass takes its fields from the vendor's settings
    class (`API_CLASSES`), so they are declared once."""

    settings_class: ClassVar[type[VendorSettings]]
    variables: dict[str, str] = {}  # setting -> the variable that feeds it, for error messages

    def settings(self) -> VendorSettings:
        """The typed, validated settings (a bad value fails here, naming its variable)."""
        names = self.settings_class.variables()
        values = {name: getattr(self, name) or "" for name in names}
        return self.settings_class.build(
            values, lambda name: self.variables.get(name, f"{self.settings_class.vendor} {name}")
        )


def _api_class(spec: VendorSpec) -> type[VendorApi]:
    fields = spec.settings.variables()
    namespace: dict[str, object] = {
        "__module__": __name__,
        "__doc__": f"One {spec.title} tenant (fields of {spec.settings.__name__}).",
        "__annotations__": {name: str for name in fields},
        "settings_class": spec.settings,
    }
    namespace.update({n: v.default for n, v in fields.items() if v.default is not None})
    return type(f"{spec.settings.__name__.removesuffix('Settings')}Api", (VendorApi,), namespace)


API_CLASSES: dict[str, type[VendorApi]] = {
    vendor: _api_class(spec) for vendor, spec in VENDOR_SPECS.items()
}


def resource_key(tenant: Tenant) -> str:
    return f"{tenant.vendor}_{tenant.slug}"


def tenant_resource(tenant: Tenant, environ: Mapping[str, str] | None = None) -> VendorApi:
    """The tenant's resource: its variables as `dg.EnvVar` references resolved when a run
    starts, or, given `environ` (tests), as the values found there."""
    fields: dict[str, Any] = dict(tenant.values)
    for name, variable in tenant.variables.items():
        fields[name] = dg.EnvVar(variable) if environ is None else environ.get(variable, "")
    return API_CLASSES[tenant.vendor](variables=dict(tenant.variables), **fields)


def build_resources(
    config: Config, environ: Mapping[str, str] | None = None
) -> dict[str, dg.ConfigurableResource]:  # type: ignore[type-arg]
    """Every resource: the settings, and one per vendor tenant."""
    return {
        "agentstate": AgentStateSettings.from_settings(config.settings),
        **{resource_key(t): tenant_resource(t, environ) for t in config.tenants},
    }
