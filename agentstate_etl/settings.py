"""Configuration from environment variables (docs/configuration.md); a `.env` file in the working directory is honoured.

`Settings` holds what the engine needs besides vendor credentials, each variable validated when
read (an invalid value fails at once, naming the variable). A vendor's own settings are declared
once, as a `VendorSettings` dataclass whose fields know their variable, their check and whether
they are credentials; `agentstate_etl.tenants` builds them from the environment or a tenants file.
"""

from __future__ import annotations

import hmac
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, get_type_hints
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv

from agentstate_etl.errors import ConfigError
from agentstate_etl.http import (
    DEFAULT_MAX_PARTITION_RECORDS,
    MAX_PARTITION_RECORDS_VARIABLE,
    ClientOptions,
    Timeouts,
)
from agentstate_etl.lake import Lake
from agentstate_etl.vendors.capabilities import Capabilities
from agentstate_etl.warehouse.location import (
    DATA_PATH_VARIABLE,
    DEFAULT_RETENTION_DAYS,
    RETENTION_VARIABLE,
    URL_VARIABLE,
    WarehouseLocation,
)

INTERVAL_MINUTES: tuple[int, ...] = (15, 30, 60)
DEFAULT_START_DATE = date(2026, 1, 1)
MAX_LOOKBACK_HOURS = 7 * 24.0  # a carried-in state older than a week is not a state any more
ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")


# The instance the CLI creates: Dagster's defaults, except that it sends no usage statistics
# (and prints no telemetry banner into a command's output); a deployment's own dagster.yaml,
# or one edited to `enabled: true`, is left as it is.
# Dagster's defaults, less telemetry, and a code server allowed five minutes to start (its
# default minute is not enough on a loaded two-core machine: the daemon then logs a warning)
DEFAULT_INSTANCE_CONFIG = (
    "telemetry:\n  enabled: false\ncode_servers:\n  local_startup_timeout: 300\n"
)


def ensure_instance_config(dagster_home: Path) -> None:
    """`dagster.yaml` in `dagster_home`: written when missing or empty, else kept."""
    config = dagster_home / "dagster.yaml"
    if not config.exists() or not config.read_text().strip():
        config.write_text(DEFAULT_INSTANCE_CONFIG)


def load_env_file() -> None:
    """Read `.env` from the working directory without overriding variables already set."""
    load_dotenv(Path.cwd() / ".env", override=False)


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _parse_float(name: str, default: str, low: float, high: float = math.inf) -> float:
    """A finite number in [low, high]: nan, inf and out-of-range values name the variable."""
    raw = _env(name, default)
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        bounds = f"between {low:g} and {high:g}" if math.isfinite(high) else f">= {low:g}"
        raise ConfigError(f"{name} must be a finite number {bounds}, got {raw!r}")
    return value


def _parse_percent(name: str, default: str) -> float:
    """A percentage in [0, 100], refusing (0, 1]: `0.9` is a fraction written for 90 %, and
    taken as 0.9 % it would put the goal line at the chart's floor without a word."""
    value = _parse_float(name, default, 0.0, 100.0)
    if 0 < value <= 1:
        raise ConfigError(
            f"{name} is a percentage (90 for 90 %), got {_env(name, default)!r}: "
            f"write {value * 100:g} for {value * 100:g} %"
        )
    return value


def _parse_count(name: str, default: str) -> int:
    """A whole number >= 1 (`5000000`, `5_000_000`); anything else names the variable."""
    raw = _env(name, default)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, got {raw!r}")
    return value


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


def _writable_directory(path: Path, variable: str) -> None:
    """`path` is a directory we can write, or can be created as one (checked, not created)."""
    if path.exists():
        if not path.is_dir():
            raise ConfigError(f"{variable} must be a directory, but {path} is a file")
        if not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError(f"{variable} ({path}) is not writable")
        return
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{variable} ({path}) cannot be created: {parent} is not a writable directory"
        )


def _state_mapping_file() -> str:
    """AGENTSTATE_STATE_MAPPING, when set, names a readable mapping file with the right columns."""
    path = _env("AGENTSTATE_STATE_MAPPING", "")
    if not path:
        return ""
    if not Path(path).is_file():
        raise ConfigError(f"AGENTSTATE_STATE_MAPPING names {path}, which is not a file")
    from agentstate_etl.mapping import check_mapping_file

    try:
        check_mapping_file(path)
    except ConfigError as exc:
        raise ConfigError(f"AGENTSTATE_STATE_MAPPING: {exc}") from None
    return path


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
    max_partition_records: int = DEFAULT_MAX_PARTITION_RECORDS
    interval_minutes: int = 15
    schedules_dir: Path | None = None  # None: $AGENTSTATE_HOME/inbox/schedules
    activity_mapping: Path | None = None  # None: the shipped activity_mapping.csv
    adherence_threshold_s: float = 0.0
    adherence_target_pct: float = 90.0  # AGENTSTATE_ADHERENCE_TARGET_PCT: the report's goal line
    start_date: date = DEFAULT_START_DATE  # AGENTSTATE_START_DATE, the first daily partition
    collect_every_s: float = 300.0  # AGENTSTATE_COLLECT_EVERY_S: the collection cadence
    # AGENTSTATE_COLLECT_OVERLAP_S: each poll re-reads this much before the high-water mark,
    # for records the vendor publishes late
    collect_overlap_s: float = 600.0
    warehouse_url: str = ""  # AGENTSTATE_WAREHOUSE_URL; empty: a SQLite catalog in home
    warehouse_data_path: str = (
        ""  # AGENTSTATE_WAREHOUSE_DATA_PATH; empty: $AGENTSTATE_HOME/warehouse
    )
    snapshot_retention_days: float = DEFAULT_RETENTION_DAYS  # AGENTSTATE_WAREHOUSE_SNAPSHOT_...

    @cached_property
    def lake(self) -> Lake:
        return Lake.from_url(self.lake_url or self.home / "lake")

    @property
    def schedules(self) -> Path:
        """Where the workforce-management tool drops schedule files (docs/warehouse.md, adherence)."""
        return self.schedules_dir or self.home / "inbox" / "schedules"

    @cached_property
    def warehouse(self) -> WarehouseLocation:
        """The DuckLake of the marts (docs/warehouse.md): its catalog and data path."""
        return WarehouseLocation.from_values(
            self.warehouse_url, self.warehouse_data_path, self.home, self.snapshot_retention_days
        )

    def client_options(self, partition: str, transport: Any = None) -> ClientOptions:
        """How a vendor client runs for `partition` under these settings."""
        return ClientOptions(
            partition=partition,
            transport=transport,
            timeouts=Timeouts(self.request_timeout_s, self.partition_timeout_s),
            max_partition_records=self.max_partition_records,
        )

    def now(self) -> datetime:
        """The extraction clock: `AGENTSTATE_NOW` when replaying or testing, else the wall clock."""
        if self.now_override is not None:
            return self.now_override
        return datetime.now(UTC)

    @classmethod
    def from_env(cls) -> Settings:
        """Every variable of docs/configuration.md except the vendors', each checked now, naming it on error."""
        load_env_file()
        home = Path(_env("AGENTSTATE_HOME", "./data")).resolve()
        _writable_directory(home, "AGENTSTATE_HOME")
        dagster_home = Path(_env("DAGSTER_HOME", str(home / "dagster"))).resolve()
        _writable_directory(dagster_home, "DAGSTER_HOME")
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
        _state_mapping_file()
        settings = cls(
            home=home,
            dagster_home=dagster_home,
            report_tz=report_tz,
            drift_tolerance_s=_parse_float("AGENTSTATE_DRIFT_TOLERANCE_S", "2.0", 0.0),
            lookback_hours=_parse_float("AGENTSTATE_LOOKBACK_HOURS", "12", 0.0, MAX_LOOKBACK_HOURS),
            max_quarantine_rate=_parse_float("AGENTSTATE_MAX_QUARANTINE_RATE", "0.01", 0.0, 1.0),
            now_override=now_override,
            lake_url=_env("AGENTSTATE_LAKE_URL", ""),
            request_timeout_s=_parse_float("AGENTSTATE_REQUEST_TIMEOUT_S", "60", 0.001),
            partition_timeout_s=_parse_float("AGENTSTATE_PARTITION_TIMEOUT_S", "1800", 0.001),
            max_partition_records=_parse_count(
                MAX_PARTITION_RECORDS_VARIABLE, str(DEFAULT_MAX_PARTITION_RECORDS)
            ),
            interval_minutes=check_interval_minutes(_env("AGENTSTATE_INTERVAL_MINUTES", "15")),
            schedules_dir=_optional_path("AGENTSTATE_SCHEDULES_DIR"),
            activity_mapping=_optional_path("AGENTSTATE_ACTIVITY_MAPPING"),
            adherence_threshold_s=_parse_float("AGENTSTATE_ADHERENCE_THRESHOLD_S", "0", 0.0),
            adherence_target_pct=_parse_percent("AGENTSTATE_ADHERENCE_TARGET_PCT", "90"),
            start_date=parse_day(
                _env("AGENTSTATE_START_DATE", DEFAULT_START_DATE.isoformat()),
                "AGENTSTATE_START_DATE",
            ),
            collect_every_s=_parse_float("AGENTSTATE_COLLECT_EVERY_S", "300", 1.0),
            collect_overlap_s=_parse_float("AGENTSTATE_COLLECT_OVERLAP_S", "600", 0.0),
            warehouse_url=_env(URL_VARIABLE, ""),
            warehouse_data_path=_env(DATA_PATH_VARIABLE, ""),
            snapshot_retention_days=_parse_float(
                RETENTION_VARIABLE, f"{DEFAULT_RETENTION_DAYS:g}", 0.0
            ),
        )
        WarehouseLocation.from_values(  # validated now: a bad value fails naming its variable
            settings.warehouse_url, settings.warehouse_data_path, home
        )
        if settings.activity_mapping and not settings.activity_mapping.is_file():
            raise ConfigError(
                f"AGENTSTATE_ACTIVITY_MAPPING must name a CSV file, got {str(settings.activity_mapping)!r}"
            )
        folder = settings.schedules_dir
        if folder and folder.exists() and not folder.is_dir():
            raise ConfigError(
                f"AGENTSTATE_SCHEDULES_DIR must name a folder, got the file {str(folder)!r}"
            )
        # the mapping files are read now, not at the warehouse step after every fetch
        from agentstate_etl.activities import activity_mapping
        from agentstate_etl.reasons import reason_groups

        reason_groups()
        activity_mapping(settings.activity_mapping)
        return settings


# ---- a vendor tenant's typed settings ----------------------------------------------------


class Secret:
    """A credential that never prints: `repr`, `str` and f-strings show a mask; `reveal()` is
    the one way to the value, called where a client needs it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)


def http_url(text: str) -> str:
    """An absolute http(s) URL without user info (credentials never travel in a URL here)."""
    parsed = urlparse(text)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise ValueError(f"must be an absolute http(s) URL, got {text!r}")
    if parsed.username or parsed.password:
        raise ValueError("must not carry credentials (user:password@); the URL is not shown")
    return text


TENANT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}")


def tenant_identifier(text: str) -> str:
    """A tenant id (docs/tenants.md): it becomes a URL path segment and a lake key, so only
    letters, digits, `.`, `_`, `-` and `@`, starting with a letter or digit, at most 128."""
    if not TENANT_ID.fullmatch(text):
        raise ValueError(
            f"must be a tenant id: ASCII letters, digits, '.', '_', '-' and '@', starting with "
            f"a letter or digit, at most 128 characters (no '/', '?', '#', '%' or spaces), "
            f"got {text!r}"
        )
    return text


def readable_file(text: str) -> str:
    """A path to an existing file (a roster, a mapping) this process can read."""
    path = Path(text).expanduser()
    if not path.is_file() or not os.access(path, os.R_OK):
        raise ValueError(f"must name a readable file, got {text!r}")
    return str(path.resolve())


def positive_days(text: str) -> str:
    """A number of days greater than zero, e.g. a tenant's retention (`3`, `7.5`)."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"must be a number of days, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"must be a number of days greater than 0, got {text!r}")
    return text


def iana_zone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"must be an IANA time zone such as America/New_York, got {text!r}"
        ) from None
    return text


@dataclass(frozen=True)
class Variable:
    """How one setting of a vendor tenant is configured.

    `env` is its docs/configuration.md variable; a `credential` is given in a tenants file as the *name* of an
    environment variable, never as a value; `check` validates (raising ValueError) a value that
    is not a credential; a setting with a `default` may be left unset, except in a tenants file
    when `required_in_file` (the default serves only the single tenant of the variables).
    """

    env: str
    credential: bool = False
    default: str | None = None
    check: Callable[[str], str] | None = None
    required_in_file: bool = False


def setting(
    env: str,
    *,
    credential: bool = False,
    default: str | None = None,
    check: Callable[[str], str] | None = None,
    required_in_file: bool = False,
) -> Any:
    """A `VendorSettings` field declared with its variable (see `Variable`)."""
    declared = Variable(env, credential, default, check, required_in_file)
    if default is None:
        return field(metadata={"variable": declared})
    return field(default=default, metadata={"variable": declared})


V = TypeVar("V", bound="VendorSettings")


class VendorSettings:
    """Base of each vendor's frozen settings dataclass: one tenant, typed and validated.

    Subclasses declare their fields with `setting(...)`, name the field holding the tenant id
    (`tenant_field`, the value of the `tenant_id` column) and build their client.
    """

    vendor: ClassVar[str]
    tenant_field: ClassVar[str]
    capabilities: ClassVar[Capabilities]  # what the vendor's document declares

    if TYPE_CHECKING:

        @property
        def tenant_id(self) -> str: ...

    @property
    def zone(self) -> str:
        """The zone of the vendor's local timestamps (only Kore.ai has them)."""
        return "UTC"

    @property
    def limits(self) -> Capabilities:
        """The vendor's capabilities as this tenant has them (a tenant may keep data longer)."""
        return self.capabilities

    @property
    def roster_file(self) -> str:
        """A per-agent vendor's roster file for this tenant ("" when there is none)."""
        return ""

    @property
    def reason_names(self) -> Mapping[str, str]:
        """Reason code -> name, for a vendor that sends codes (empty: reasons stay as sent)."""
        return {}

    def client(self, options: Any) -> Any:
        """This tenant's vendor client, run as `options` (an `http.ClientOptions`) says."""
        raise NotImplementedError

    @classmethod
    def variables(cls) -> dict[str, Variable]:
        """Field name -> its declaration, in field order."""
        return {f.name: f.metadata["variable"] for f in fields(cls)}  # type: ignore[arg-type]

    @classmethod
    def build(cls: type[V], values: Mapping[str, str], where: Callable[[str], str]) -> V:
        """Typed settings from text values, every problem at once; `where(field)` names where a
        field came from (its variable, or a tenants-file entry) and never its value."""
        hints = get_type_hints(cls)
        problems, typed = [], {}
        for name, variable in cls.variables().items():
            value = (values.get(name) or "").strip() or variable.default
            if value is None:
                problems.append(f"{where(name)} is not set")
                continue
            if value and variable.check is not None:
                try:
                    value = variable.check(value)
                except ValueError as exc:
                    problems.append(f"{where(name)} {exc}")
                    continue
            typed[name] = Secret(value) if hints[name] is Secret else value
        if problems:
            raise ConfigError(f"{cls.vendor}: " + "; ".join(problems))
        return cls(**typed)
