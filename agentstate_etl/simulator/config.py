"""What the simulator serves: seed, size, time span, and which faults to inject."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from agentstate_etl.errors import ConfigError
from agentstate_etl.vendors.cxengage import CAPABILITIES as CXENGAGE

TOKEN_PATH = "/oauth/token"

# Per-request faults: the share of first and second attempts of a request that get them.
# `trickle` is last and never part of `all`, so adding it changed no seeded run.
REQUEST_FAULTS = (
    "rate_limit",
    "server_errors",
    "drop_connections",
    "slow",
    "revoke_tokens",
    "trickle",
)
# Data faults: switched on or off.
DATA_FAULTS = ("duplicates", "late_events", "summary_drift", "malformed", "unknown_states")

_ALL_ON: dict[str, Any] = {
    "rate_limit": 0.04,
    "server_errors": 0.04,
    "drop_connections": 0.03,
    "slow": 0.03,
    "revoke_tokens": 0.03,
    "token_ttl_s": 2.0,
}


@dataclass(frozen=True)
class Faults:
    """Switchable, seeded misbehaviour.

    Request faults hit a request's first two attempts only (decided by hashing seed, request
    and attempt), so a client retrying at least twice always gets through and runs are
    reproducible whatever the concurrency.
    """

    rate_limit: float = 0.0
    server_errors: float = 0.0
    drop_connections: float = 0.0
    slow: float = 0.0
    revoke_tokens: float = 0.0
    trickle: float = 0.0  # the body one byte at a time, `trickle_s` apart (a stalled gateway)
    retry_after_s: float = 1.0
    slow_s: float = 0.05
    trickle_s: float = 10.0
    token_ttl_s: float = 3600.0
    duplicates: bool = False
    late_events: bool = False
    summary_drift: bool = False
    malformed: bool = False
    unknown_states: bool = False

    @classmethod
    def none(cls) -> Faults:
        return cls()

    @classmethod
    def all(cls, retry_after_s: float = 1.0) -> Faults:
        return cls(retry_after_s=retry_after_s, **_ALL_ON, **dict.fromkeys(DATA_FAULTS, True))

    @classmethod
    def parse(cls, text: str) -> Faults:
        """`none`, `all`, or a comma list such as `rate_limit,late_events,token_ttl_s=5`."""
        faults = cls()
        known = {f.name for f in fields(cls)}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, _, value = item.partition("=")
            name = name.strip().replace("-", "_")
            if name == "none":
                continue
            if name == "all":
                faults = replace(cls.all(), retry_after_s=faults.retry_after_s)
                continue
            if name not in known:
                raise ConfigError(
                    f"unknown fault {name!r}; expected all, none or some of "
                    f"{', '.join(sorted(known))}"
                )
            if name in DATA_FAULTS:
                faults = replace(
                    faults, **{name: value.strip().lower() not in {"0", "false", "off"}}
                )  # type: ignore[arg-type]
            else:
                try:
                    number = float(value) if value else _ALL_ON.get(name, 1.0)
                except ValueError as exc:
                    raise ConfigError(f"fault {name} needs a number, got {value!r}") from exc
                faults = replace(faults, **{name: number})  # type: ignore[arg-type]
        return faults

    def describe(self) -> str:
        default = Faults()
        on = [
            f"{f.name}={getattr(self, f.name)}"
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        ]
        return ", ".join(on) or "none"


def _now_ms() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class SimConfig:
    """The simulated contact center: `agents` agents per vendor from `start` (UTC) until `now`.

    Nothing happens after `now`: states running at `now` are open, as a live API shows them.
    """

    seed: int = 7
    agents: int = 20
    start: date | None = None
    now: datetime = field(default_factory=_now_ms)
    koreai_timezone: str = "UTC"
    # Kore.ai's EventTime has no AM/PM: 24 (hours 0-23) or 12 (1-12, AM and PM alike)
    koreai_clock: int = 24
    koreai_max_window: timedelta = timedelta(hours=6)
    # CxEngage as its document says: data kept this long (a tenant may keep more), pages of at
    # most this many records whatever `limit` asks (the client pages by what it received)
    cxengage_retention: timedelta = CXENGAGE.retention or timedelta(days=3)
    cxengage_max_limit: int = 1000
    # the longest range one CxEngage request may cover (its document: 10 minutes); tests of
    # faults and formats widen it to read a day at once
    cxengage_max_window: timedelta = CXENGAGE.max_window or timedelta(minutes=10)
    # every Nth interval of each CxEngage agent is never served, though its predecessor names
    # it (a hole in the vendor's nextEventId chain, for the completeness check); 0: none
    cxengage_lost_every: int = 0
    # CXone's ambiguities, each servable: what `duration` measures (the record's own state or
    # the previous one) and how history pages end (short page only, or `nextPageToken` too)
    cxone_duration: str = "previous"
    cxone_paging: str = "numbers"
    # the token endpoint: client credentials in the form (the history tutorial), as Basic (the
    # snapshot document) or either; and the scope the snapshot requires ("" for none; its
    # document: urn:nice:cxone:agent:state:read, 403 without it)
    cxone_token_auth: str = "any"
    cxone_snapshot_scope: str = ""
    faults: Faults = field(default_factory=Faults)
    days: int = 7  # used when `start` is not given
    # a CxEngage outage on part of its data: a window starting in [outage[0], outage[1])
    # answers 503 every time (a day no retry can land, beside days that land)
    cxengage_outage: tuple[datetime, datetime] | None = None
    # the instant the vendors serve as of, when it moves (a live simulator, or a test's
    # injected clock): the center is simulated until `now`, and nothing after `clock()` is
    # published yet. None: served as of `now`
    clock: Callable[[], datetime] | None = field(default=None, compare=False, repr=False)
    tenants: int = 1  # tenants per vendor, each its own world and credentials

    @property
    def first_day(self) -> date:
        return self.start or (self.now - timedelta(days=self.days)).date()

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ConfigError("SimConfig.now must be timezone-aware")
        if self.agents < 1:
            raise ConfigError("the simulator needs at least one agent")
        if self.tenants < 1:
            raise ConfigError("the simulator needs at least one tenant per vendor")
        if self.cxone_duration not in ("previous", "own"):
            raise ConfigError(
                f"cxone_duration must be previous or own, got {self.cxone_duration!r}"
            )
        if self.cxone_token_auth not in ("any", "form", "basic"):
            raise ConfigError(
                f"cxone_token_auth must be any, form or basic, got {self.cxone_token_auth!r}"
            )
        if self.koreai_clock not in (12, 24):
            raise ConfigError(f"koreai_clock must be 12 or 24, got {self.koreai_clock!r}")
        if self.cxone_paging not in ("numbers", "token"):
            raise ConfigError(f"cxone_paging must be numbers or token, got {self.cxone_paging!r}")
        if self.first_day > self.now.date():
            raise ConfigError(f"simulation start {self.first_day} is after now {self.now}")

    def tenant_seed(self, tenant: int) -> int:
        """Tenant 1 is the world of `seed` (as before tenants existed); others get their own."""
        return self.seed if tenant == 1 else self.seed + 1_000_003 * (tenant - 1)


@dataclass(frozen=True)
class Credentials:
    """The credentials of one simulated tenant (test values, not secrets); any other get 401."""

    cxengage_tenant_id: str = "tenant-sim"
    cxengage_username: str = "sim-user"
    cxengage_password: str = "sim-pass"
    cxone_client_id: str = "sim-client"
    cxone_client_secret: str = "sim-secret"
    koreai_account_id: str = "acct-sim"
    koreai_client_id: str = "sim-app"
    koreai_client_secret: str = "sim-kore-secret-hs256-0123456789abcdef"

    @classmethod
    def of_tenant(cls, tenant: int) -> Credentials:
        """Tenant 1 has the values above; tenant k has them suffixed with `-k`."""
        if tenant == 1:
            return cls()
        first = cls()
        return cls(**{f.name: f"{getattr(first, f.name)}-{tenant}" for f in fields(cls)})

    def tenant_id(self, vendor: str) -> str:
        """The tenant's `tenant_id` column value: CxEngage tenant, CXone client, Kore.ai account."""
        return {
            "cxengage": self.cxengage_tenant_id,
            "cxone": self.cxone_client_id,
            "koreai": self.koreai_account_id,
        }[vendor]

    def settings_values(
        self,
        vendor: str,
        base_url: str,
        koreai_timezone: str,
        cxengage_retention_days: float = 3,
        cxone_agents_file: str = "",
    ) -> dict[str, str]:
        """The tenant as values of the fields of its vendor's settings class."""
        roster = {"agents_file": cxone_agents_file} if cxone_agents_file else {}
        return {
            "cxengage": {
                "base_url": base_url,
                "tenant_id": self.cxengage_tenant_id,
                "username": self.cxengage_username,
                "password": self.cxengage_password,
                "retention_days": f"{cxengage_retention_days:g}",
            },
            "cxone": {
                "base_url": base_url,
                "token_url": base_url + TOKEN_PATH,
                "client_id": self.cxone_client_id,
                "client_secret": self.cxone_client_secret,
                **roster,
            },
            "koreai": {
                "base_url": base_url,
                "account_id": self.koreai_account_id,
                "client_id": self.koreai_client_id,
                "client_secret": self.koreai_client_secret,
                "timezone": koreai_timezone,
            },
        }[vendor]


CREDENTIALS = Credentials()
# the tenant_id column of each vendor's rows, as the engine derives it from the credentials
TENANT_IDS = {
    "cxengage": CREDENTIALS.cxengage_tenant_id,
    "cxone": CREDENTIALS.cxone_client_id,
    "koreai": CREDENTIALS.koreai_account_id,
}
