"""Configuration from environment variables (SPEC §3); a `.env` file in the working directory is honoured."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv

from agentstate_etl.canonical import VENDORS
from agentstate_etl.errors import ConfigError
from agentstate_etl.lake import Lake

VENDOR_VARIABLES: dict[str, tuple[str, ...]] = {
    "cxengage": (
        "CXENGAGE_BASE_URL",
        "CXENGAGE_TENANT_ID",
        "CXENGAGE_USERNAME",
        "CXENGAGE_PASSWORD",
    ),
    "cxone": ("CXONE_BASE_URL", "CXONE_TOKEN_URL", "CXONE_CLIENT_ID", "CXONE_CLIENT_SECRET"),
    "koreai": ("KOREAI_BASE_URL", "KOREAI_ACCOUNT_ID", "KOREAI_CLIENT_ID", "KOREAI_CLIENT_SECRET"),
}
OPTIONAL_VENDOR_DEFAULTS: dict[str, dict[str, str]] = {"koreai": {"KOREAI_TIMEZONE": "UTC"}}
INTERVAL_MINUTES: tuple[int, ...] = (15, 30, 60)


def load_env_file() -> None:
    """Read `.env` from the working directory without overriding variables already set."""
    load_dotenv(Path.cwd() / ".env", override=False)


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _parse_float(name: str, default: str) -> float:
    raw = _env(name, default)
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def check_interval_minutes(value: object) -> int:
    """The interval mart's grain: 15, 30 or 60 minutes (each divides an hour, so local
    wall-clock intervals stay aligned across a DST change)."""
    if str(value).strip() not in {str(m) for m in INTERVAL_MINUTES}:
        raise ConfigError(f"AGENTSTATE_INTERVAL_MINUTES must be 15, 30 or 60, got {value!r}")
    return int(str(value).strip())


def check_adherence_threshold(value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"AGENTSTATE_ADHERENCE_THRESHOLD_S must be a number >= 0, got {value!r}")
    return value


def _optional_path(name: str) -> Path | None:
    value = _env(name, "")
    return Path(value).resolve() if value else None


def parse_day(text: str, what: str = "date") -> date:
    """Parse a YYYY-MM-DD date given by a person, with an error naming what was wrong."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{what} must be YYYY-MM-DD, got {text!r}") from exc


def parse_zone(name: str, variable: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{variable} must be an IANA time zone, got {name!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Everything the engine needs besides vendor credentials."""

    home: Path
    dagster_home: Path
    report_tz: str
    drift_tolerance_s: float
    lookback_hours: float
    max_quarantine_rate: float
    now_override: datetime | None = None
    lake_url: str = ""  # AGENTSTATE_LAKE_URL; empty means $AGENTSTATE_HOME/lake
    request_timeout_s: float = 60.0
    partition_timeout_s: float = 1800.0
    interval_minutes: int = 15
    schedules_dir: Path | None = None  # None: $AGENTSTATE_HOME/inbox/schedules
    activity_mapping: Path | None = None  # None: the shipped activity_mapping.csv
    adherence_threshold_s: float = 0.0

    @cached_property
    def lake(self) -> Lake:
        return Lake.from_url(self.lake_url or self.home / "lake")

    @property
    def schedules(self) -> Path:
        """Where the workforce-management tool drops schedule files (SPEC §8)."""
        return self.schedules_dir or self.home / "inbox" / "schedules"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    def now(self) -> datetime:
        """The extraction clock: `AGENTSTATE_NOW` when replaying or testing, else the wall clock."""
        if self.now_override is not None:
            return self.now_override
        return datetime.now(UTC)

    @classmethod
    def from_env(cls) -> Settings:
        load_env_file()
        home = Path(_env("AGENTSTATE_HOME", "./data")).resolve()
        dagster_home = Path(_env("DAGSTER_HOME", str(home / "dagster"))).resolve()
        report_tz = _env("AGENTSTATE_REPORT_TZ", "UTC")
        parse_zone(report_tz, "AGENTSTATE_REPORT_TZ")
        now_text = _env("AGENTSTATE_NOW", "")
        now_override = None
        if now_text:
            try:
                now_override = datetime.fromisoformat(now_text.replace("Z", "+00:00"))
            except ValueError as exc:
                raise ConfigError(f"AGENTSTATE_NOW must be ISO-8601, got {now_text!r}") from exc
            if now_override.tzinfo is None:
                raise ConfigError("AGENTSTATE_NOW must carry a UTC offset, e.g. 2026-01-05T12:00Z")
            now_override = now_override.astimezone(UTC)
        settings = cls(
            home=home,
            dagster_home=dagster_home,
            report_tz=report_tz,
            drift_tolerance_s=_parse_float("AGENTSTATE_DRIFT_TOLERANCE_S", "2.0"),
            lookback_hours=_parse_float("AGENTSTATE_LOOKBACK_HOURS", "12"),
            max_quarantine_rate=_parse_float("AGENTSTATE_MAX_QUARANTINE_RATE", "0.01"),
            now_override=now_override,
            lake_url=_env("AGENTSTATE_LAKE_URL", ""),
            request_timeout_s=_parse_float("AGENTSTATE_REQUEST_TIMEOUT_S", "60"),
            partition_timeout_s=_parse_float("AGENTSTATE_PARTITION_TIMEOUT_S", "1800"),
            interval_minutes=check_interval_minutes(_env("AGENTSTATE_INTERVAL_MINUTES", "15")),
            schedules_dir=_optional_path("AGENTSTATE_SCHEDULES_DIR"),
            activity_mapping=_optional_path("AGENTSTATE_ACTIVITY_MAPPING"),
            adherence_threshold_s=check_adherence_threshold(
                _parse_float("AGENTSTATE_ADHERENCE_THRESHOLD_S", "0")
            ),
        )
        for name, seconds in (
            ("AGENTSTATE_REQUEST_TIMEOUT_S", settings.request_timeout_s),
            ("AGENTSTATE_PARTITION_TIMEOUT_S", settings.partition_timeout_s),
        ):
            if not (math.isfinite(seconds) and seconds > 0):
                raise ConfigError(f"{name} must be a positive number of seconds, got {seconds}")
        if settings.activity_mapping and not settings.activity_mapping.is_file():
            raise ConfigError(
                f"AGENTSTATE_ACTIVITY_MAPPING must name a CSV file, got {str(settings.activity_mapping)!r}"
            )
        if settings.lookback_hours < 0:
            raise ConfigError("AGENTSTATE_LOOKBACK_HOURS must be >= 0")
        if not 0 <= settings.max_quarantine_rate <= 1:
            raise ConfigError("AGENTSTATE_MAX_QUARANTINE_RATE must be between 0 and 1")
        return settings


def missing_variables(vendor: str) -> list[str]:
    """The SPEC §3 variables of `vendor` that are unset or empty (names only, never values)."""
    if vendor not in VENDORS:
        raise ConfigError(f"unknown vendor {vendor!r}; expected one of {', '.join(VENDORS)}")
    load_env_file()
    return [name for name in VENDOR_VARIABLES[vendor] if not os.environ.get(name, "").strip()]


def vendor_config(vendor: str) -> dict[str, str]:
    """The vendor's variables, failing at once with every missing name."""
    missing = missing_variables(vendor)
    if missing:
        raise ConfigError(
            f"{vendor} is not configured: set {', '.join(missing)} (environment or .env)"
        )
    values = {name: os.environ[name].strip() for name in VENDOR_VARIABLES[vendor]}
    for name, default in OPTIONAL_VENDOR_DEFAULTS.get(vendor, {}).items():
        values[name] = _env(name, default)
    return values
