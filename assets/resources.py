"""Resources fed by environment variables (dg.EnvVar), so the UI shows names, never secret values."""

from __future__ import annotations

import os
from collections.abc import Mapping
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
    collect_every_s: float = 300.0
    collect_overlap_s: float = 600.0
    warehouse_url: str = ""  # AGENTSTATE_WAREHOUSE_URL; empty: a SQLite catalog in home
    warehouse_data_path: str = ""  # AGENTSTATE_WAREHOUSE_DATA_PATH; empty: home/warehouse
    snapshot_retention_days: float = DEFAULT_RETENTION_DAYS

    def settings(self) -> Settings:
        home = Path(self.home).resolve()
        return Settings(
            home=home,
            dagster_home=Path(os.environ.get("DAGSTER_HOME") or home / "dagster"),
            report_tz=self.report_tz,
            drift_tolerance_s=self.drift_tolerance_s,
            lookback_hours=self.lookback_hours,
            max_quarantine_rate=self.max_quarantine_rate,
            now_override=datetime.fromisoformat(self.now) if self.now else None,
            lake_url=self.lake_url,
            request_timeout_s=self.request_timeout_s,
            partition_timeout_s=self.partition_timeout_s,
            max_partition_records=self.max_partition_records,
            interval_minutes=self.interval_minutes,
            schedules_dir=Path(self.schedules_dir).resolve() if self.schedules_dir else None,
            activity_mapping=Path(self.activity_mapping).resolve()
            if self.activity_mapping
            else None,
            adherence_threshold_s=self.adherence_threshold_s,
            collect_every_s=self.collect_every_s,
            collect_overlap_s=self.collect_overlap_s,
            warehouse_url=self.warehouse_url,
            warehouse_data_path=self.warehouse_data_path,
            snapshot_retention_days=self.snapshot_retention_days,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> AgentStateSettings:
        return cls(
            home=str(settings.home),
            report_tz=settings.report_tz,
            lookback_hours=settings.lookback_hours,
            drift_tolerance_s=settings.drift_tolerance_s,
            max_quarantine_rate=settings.max_quarantine_rate,
            now=settings.now_override.isoformat() if settings.now_override else "",
            lake_url=settings.lake_url,
            request_timeout_s=settings.request_timeout_s,
            partition_timeout_s=settings.partition_timeout_s,
            max_partition_records=settings.max_partition_records,
            interval_minutes=settings.interval_minutes,
            schedules_dir=str(settings.schedules_dir or ""),
            activity_mapping=str(settings.activity_mapping or ""),
            adherence_threshold_s=settings.adherence_threshold_s,
            collect_every_s=settings.collect_every_s,
            collect_overlap_s=settings.collect_overlap_s,
            warehouse_url=settings.warehouse_url,
            warehouse_data_path=settings.warehouse_data_path,
            snapshot_retention_days=settings.snapshot_retention_days,
        )


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
