"""Resources fed by environment variables (dg.EnvVar), so the UI shows names, never secret values."""

import os
from datetime import datetime
from pathlib import Path

import dagster as dg

from agentstate_etl.settings import Settings, load_env_file


class AgentStateSettings(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The non-secret settings of SPEC §3 (outputs, report zone, tolerances)."""

    home: str
    report_tz: str = "UTC"
    lookback_hours: float = 12.0
    drift_tolerance_s: float = 2.0
    max_quarantine_rate: float = 0.01
    now: str = ""  # AGENTSTATE_NOW: replay or test with a fixed clock; empty means the wall clock
    lake_url: str = ""  # AGENTSTATE_LAKE_URL; empty means $AGENTSTATE_HOME/lake
    request_timeout_s: float = 60.0
    partition_timeout_s: float = 1800.0
    interval_minutes: int = 15
    schedules_dir: str = ""  # AGENTSTATE_SCHEDULES_DIR; empty: $AGENTSTATE_HOME/inbox/schedules
    activity_mapping: str = ""  # AGENTSTATE_ACTIVITY_MAPPING; empty: the shipped file
    adherence_threshold_s: float = 0.0

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
            interval_minutes=self.interval_minutes,
            schedules_dir=Path(self.schedules_dir).resolve() if self.schedules_dir else None,
            activity_mapping=Path(self.activity_mapping).resolve()
            if self.activity_mapping
            else None,
            adherence_threshold_s=self.adherence_threshold_s,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> "AgentStateSettings":
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
            interval_minutes=settings.interval_minutes,
            schedules_dir=str(settings.schedules_dir or ""),
            activity_mapping=str(settings.activity_mapping or ""),
            adherence_threshold_s=settings.adherence_threshold_s,
        )


class CxEngageApi(dg.ConfigurableResource):  # type: ignore[type-arg]
    base_url: str
    tenant_id: str
    username: str
    password: str

    def config(self) -> dict[str, str]:
        return {
            "CXENGAGE_BASE_URL": self.base_url,
            "CXENGAGE_TENANT_ID": self.tenant_id,
            "CXENGAGE_USERNAME": self.username,
            "CXENGAGE_PASSWORD": self.password,
        }


class CxOneApi(dg.ConfigurableResource):  # type: ignore[type-arg]
    base_url: str
    token_url: str
    client_id: str
    client_secret: str

    def config(self) -> dict[str, str]:
        return {
            "CXONE_BASE_URL": self.base_url,
            "CXONE_TOKEN_URL": self.token_url,
            "CXONE_CLIENT_ID": self.client_id,
            "CXONE_CLIENT_SECRET": self.client_secret,
        }


class KoreAiApi(dg.ConfigurableResource):  # type: ignore[type-arg]
    base_url: str
    account_id: str
    client_id: str
    client_secret: str
    timezone: str = "UTC"

    def config(self) -> dict[str, str]:
        return {
            "KOREAI_BASE_URL": self.base_url,
            "KOREAI_ACCOUNT_ID": self.account_id,
            "KOREAI_CLIENT_ID": self.client_id,
            "KOREAI_CLIENT_SECRET": self.client_secret,
            "KOREAI_TIMEZONE": self.timezone,
        }


def resources_from_env() -> dict[str, dg.ConfigurableResource]:  # type: ignore[type-arg]
    """Every resource, secrets as EnvVar references resolved only when a run starts."""
    load_env_file()
    settings = Settings.from_env()
    return {
        "agentstate": AgentStateSettings.from_settings(settings),
        "cxengage_api": CxEngageApi(
            base_url=dg.EnvVar("CXENGAGE_BASE_URL"),
            tenant_id=dg.EnvVar("CXENGAGE_TENANT_ID"),
            username=dg.EnvVar("CXENGAGE_USERNAME"),
            password=dg.EnvVar("CXENGAGE_PASSWORD"),
        ),
        "cxone_api": CxOneApi(
            base_url=dg.EnvVar("CXONE_BASE_URL"),
            token_url=dg.EnvVar("CXONE_TOKEN_URL"),
            client_id=dg.EnvVar("CXONE_CLIENT_ID"),
            client_secret=dg.EnvVar("CXONE_CLIENT_SECRET"),
        ),
        "koreai_api": KoreAiApi(
            base_url=dg.EnvVar("KOREAI_BASE_URL"),
            account_id=dg.EnvVar("KOREAI_ACCOUNT_ID"),
            client_id=dg.EnvVar("KOREAI_CLIENT_ID"),
            client_secret=dg.EnvVar("KOREAI_CLIENT_SECRET"),
            timezone=os.environ.get("KOREAI_TIMEZONE") or "UTC",
        ),
    }
