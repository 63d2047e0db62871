"""The simulated contact center: every agent's timeline, and each vendor's records of it.

An agent's timeline is a gapless sequence of activities (login, ready, contact, wrap-up,
breaks, lunch, meetings, logout) over shifts that may cross UTC midnight. Each vendor gets its
own agents and renders the same kinds of activity in its own vocabulary and wire format.
The canonical truth (state and reason of each occurrence) is derived here from the
simulator's own tables, independently of the engine's mapping file.
"""

from __future__ import annotations

import gc
import random
import threading
import uuid
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import pandas as pd

from agentstate_etl.canonical import (
    ACW,
    BAD_TIMESTAMP,
    BAD_VALUE,
    BUSY,
    END_BEFORE_START,
    LOGGED_OUT,
    MISSING_REQUIRED,
    NOT_READY,
    READY,
    UNKNOWN,
)
from agentstate_etl.simulator.config import Credentials, SimConfig

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
SHIFT_START_HOURS = (1, 6, 7, 8, 9, 13, 15, 18, 20, 22)
ALWAYS_NO_ACW_AGENT = 3  # this agent never wraps up, so reconciliation sees summary-only ACW

KIND_STATE = {
    "login": NOT_READY,
    "ready": READY,
    "busy_in": BUSY,
    "busy_out": BUSY,
    "acw": ACW,
    "break": NOT_READY,
    "lunch": NOT_READY,
    "meeting": NOT_READY,
    "training": NOT_READY,
    "unknown": UNKNOWN,
    "logout": LOGGED_OUT,
}
# kind -> (vendor state, vendor reason) as each vendor's API spells them
VOCABULARY: dict[str, dict[str, tuple[str, str | None]]] = {
    "cxengage": {
        "login": ("away", "Login"),
        "ready": ("ready", None),
        "busy_in": ("busy", None),
        "busy_out": ("busy", None),
        "acw": ("wrap-up", None),
        "break": ("away", "Break"),
        "lunch": ("away", "Lunch"),
        "meeting": ("away", "Meeting"),
        "training": ("away", "Training"),
        "unknown": ("coaching", None),
        "logout": ("offline", None),
    },
    "cxone": {
        "login": ("LOGIN", None),
        "ready": ("READY", None),
        "busy_in": ("INBOUND_CONTACT", None),
        "busy_out": ("OUTBOUND_CONTACT", None),
        "acw": ("WRAP_UP", None),
        "break": ("PAID_BREAK", None),
        "lunch": ("NOT_READY", "Lunch"),
        "meeting": ("NOT_READY", "Meeting"),
        "training": ("NOT_READY", "Training"),
        "unknown": ("DIALER_PENDING", None),
        "logout": ("LOGOUT", None),
    },
    "koreai": {
        "login": ("login", None),
        "ready": ("ready", None),
        "busy_in": ("busy", None),
        "busy_out": ("busy", None),
        "acw": ("acw", None),
        "break": ("notready", "BRK"),
        "lunch": ("notready", "LUNCH"),
        "meeting": ("notready", "MTG"),
        "training": ("notready", "TRN"),
        "unknown": ("supervise", None),
        "logout": ("logout", None),
    },
}
CXENGAGE_PRESENCE = {
    "ready": "ready",
    "away": "not-ready",
    "busy": "busy",
    "wrap-up": "wrap-up",
    "offline": "offline",
    "coaching": "not-ready",
}
SUMMARY_STATE = {
    "login": "break",
    "ready": "available",
    "busy_in": "busy",
    "busy_out": "busy",
    "acw": "acw",
    "break": "break",
    "lunch": "lunch",
    "meeting": "meeting",
    "training": "meeting",
    "unknown": "offline",
    "logout": "offline",
}
SUMMARY_CANONICAL = {
    "available": READY,
    "busy": BUSY,
    "acw": ACW,
    "lunch": NOT_READY,
    "break": NOT_READY,
    "meeting": NOT_READY,
    "offline": LOGGED_OUT,
}
FIRST_NAMES = (
    "Ana",
    "Ben",
    "Chloe",
    "Dev",
    "Ema",
    "Femi",
    "Gus",
    "Hana",
    "Ivo",
    "Jade",
    "Kai",
    "Lea",
)
LAST_NAMES = ("Lopez", "Okafor", "Smith", "Tanaka", "Novak", "Silva", "Khan", "Moreau", "Berg")

# Malformed records per vendor: (what is wrong, quarantine reason code the engine must give)
JUNK_KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    "cxengage": (
        ("no_event_id", MISSING_REQUIRED),
        ("end_before_start", END_BEFORE_START),
        ("bad_start", BAD_TIMESTAMP),
        ("no_agent_id", MISSING_REQUIRED),
    ),
    "cxone": (
        ("no_state", MISSING_REQUIRED),
        ("bad_timestamp", BAD_TIMESTAMP),
        ("negative_duration", BAD_VALUE),
        ("text_duration", BAD_VALUE),
    ),
    "koreai": (
        ("no_agent_id", MISSING_REQUIRED),
        ("bad_event_time", BAD_TIMESTAMP),
        ("no_activity", MISSING_REQUIRED),
    ),
}
JUNK_EVERY_MS = 5 * HOUR_MS
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ms(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(milliseconds=1)


def day_ms(day: date) -> int:
    return (day - date(1970, 1, 1)).days * DAY_MS


def iso_ms(values: np.ndarray) -> list[str]:
    """Epoch ms → `2026-03-04T05:06:07.123Z`, vectorized."""
    text = np.datetime_as_string(values.astype("datetime64[ms]"), unit="ms")
    return [t + "Z" for t in text.tolist()]


def encode(record: dict) -> bytes:
    """The record's JSON, in a bytes object of its own size.

    orjson returns an over-allocated buffer shrunk in place; copying it lets the allocator
    reuse that buffer, instead of fragmenting ~8 KiB per record over millions of records.
    """
    return bytes(memoryview(orjson.dumps(record)))


def iso_one(ms: int) -> str:
    return iso_ms(np.array([ms]))[0]


@dataclass
class Timeline:
    """One agent's activities: starts (ms), kinds, and the login time of each one's shift."""

    starts: list[int]
    kinds: list[str]
    logins: list[int]


def _timeline(
    rng: random.Random,
    index: int,
    first_day: date,
    now_ms: int,
    *,
    whole_seconds: bool,
    unknown_states: bool,
) -> Timeline:
    starts: list[int] = []
    kinds: list[str] = []
    logins: list[int] = []
    unit = 1000 if whole_seconds else 1

    def span(low_s: float, high_s: float) -> int:
        return rng.randint(int(low_s * 1000) // unit, int(high_s * 1000) // unit) * unit

    def emit(at: int, kind: str, login: int) -> int:
        if at % DAY_MS == 0:  # nothing happens exactly at a UTC midnight (a partition bound)
            at += 1000
        starts.append(at)
        kinds.append(kind)
        logins.append(login)
        return at

    shift_hour = SHIFT_START_HOURS[rng.randrange(len(SHIFT_START_HOURS))]
    previous_logout: int | None = None
    day = first_day
    last_day = (EPOCH + timedelta(milliseconds=now_ms)).date()
    while day <= last_day:
        base = day_ms(day)
        day += timedelta(days=1)
        if rng.random() < 0.12:  # a day off
            continue
        login = base + shift_hour * HOUR_MS + span(0, 2400) - 1_200_000
        if previous_logout is not None:
            login = max(login, previous_logout + HOUR_MS + span(0, 60))
        if login >= now_ms:
            break
        shift_end = login + span(7.5 * 3600, 9.5 * 3600)
        clock = emit(login, "login", login)
        login = clock
        clock += span(20, 180)
        planned = [
            (login + 2 * HOUR_MS, "break", (600, 900)),
            (login + 4 * HOUR_MS, "lunch", (1800, 3600)),
            (login + 6.5 * HOUR_MS, "break", (600, 900)),
        ]
        while clock < shift_end:
            if planned and clock >= planned[0][0]:
                _, kind, (low, high) = planned.pop(0)
                clock = emit(clock, kind, login) + span(low, high)
                continue
            draw = rng.random()
            if draw < 0.012:
                clock = emit(clock, rng.choice(("meeting", "training")), login) + span(900, 2700)
            elif unknown_states and draw < 0.03:
                clock = emit(clock, "unknown", login) + span(60, 600)
            clock = emit(clock, "ready", login) + max(
                unit, int(rng.expovariate(1 / 100_000)) // unit * unit
            )
            kind = "busy_in" if rng.random() < 0.8 else "busy_out"
            clock = emit(clock, kind, login) + span(120, 540)
            if index != ALWAYS_NO_ACW_AGENT:
                # Kore.ai reports whole seconds: some wrap-ups end in the second they began
                zero = whole_seconds and rng.random() < 0.04
                clock = emit(clock, "acw", login) + (0 if zero else span(10, 120))
        previous_logout = emit(clock, "logout", login)
    cut = bisect_left(starts, now_ms)
    return Timeline(starts[:cut], kinds[:cut], logins[:cut])


@dataclass(frozen=True)
class Window:
    """The records of one query range, as the server pages through them."""

    stream: Stream
    lo: int
    hi: int
    indexes: np.ndarray | None  # set when late records are hidden

    @property
    def total(self) -> int:
        return self.hi - self.lo if self.indexes is None else len(self.indexes)

    def page(self, offset: int, limit: int, *, served_until: int | None = None) -> list[bytes]:
        """Records `offset` to `offset + limit`; with `served_until` (epoch ms), as served then:
        an interval that had not ended by that instant is open (`end`, `durationSeconds` and
        `nextEventId` null), as CxEngage serves one still running."""
        if self.indexes is None:
            first = self.lo + offset
            positions = np.arange(first, min(first + limit, self.hi))
            page = self.stream.encoded[first : min(first + limit, self.hi)]
        else:
            positions = self.indexes[offset : offset + limit]
            page = [self.stream.encoded[i] for i in positions]
        if served_until is None or self.stream.ends is None:
            return page
        running = np.flatnonzero(self.stream.ends[positions] >= served_until)
        for at in running:
            page[at] = _still_open(page[at])
        return page

    def only_agent(self, agent_index: int | None) -> Window:
        """The same window restricted to one agent (none for an unknown agent)."""
        candidates = np.arange(self.lo, self.hi) if self.indexes is None else self.indexes
        keep = self.stream.agent_keys[candidates] == (-1 if agent_index is None else agent_index)
        return Window(self.stream, self.lo, self.hi, candidates[keep])


@dataclass(frozen=True)
class Stream:
    """A vendor's records as served: sorted by timestamp, each pre-encoded as JSON once."""

    positions: np.ndarray  # int64 epoch ms, sorted
    encoded: list[bytes]
    late: np.ndarray  # bool: written after its neighbours (CxEngage late events)
    agent_keys: np.ndarray  # agent index of each record (junk: the number of agents)
    seqs: np.ndarray  # each record's sequence number in its agent's timeline (junk: its own)
    # int64 epoch ms each interval ends (-1: open at `now`, or not an interval); None: events
    ends: np.ndarray | None = None

    def with_interval_ends(self, timelines: list[Timeline]) -> Stream:
        """The same records, each knowing when its interval ends: the next start in its agent's
        timeline (records beyond the agents, junk, end nowhere)."""
        nexts = [np.array([*timeline.starts[1:], -1], dtype=np.int64) for timeline in timelines]
        flat = np.concatenate([*nexts, np.array([-1], dtype=np.int64)])
        base = np.concatenate([[0], np.cumsum([len(n) for n in nexts])]).astype(np.int64)
        agent_rows = self.agent_keys < len(timelines)
        owner = np.where(agent_rows, self.agent_keys, 0)
        where = np.where(agent_rows, base[owner] + self.seqs, len(flat) - 1)
        return replace(self, ends=flat[where])

    def window(self, start_ms: int, end_ms: int, *, hide_late: bool = False) -> Window:
        lo = int(np.searchsorted(self.positions, start_ms, "left"))
        hi = int(np.searchsorted(self.positions, end_ms, "left"))
        if not hide_late:
            return Window(self, lo, hi, None)
        candidates = np.arange(lo, hi)
        return Window(self, lo, hi, candidates[~self.late[lo:hi]])


@dataclass(frozen=True)
class Agent:
    index: int
    agent_id: str
    name: str | None
    wire_id: Any  # what the API sends (CXone: an integer)


@dataclass
class VendorData:
    agents: list[Agent]
    timelines: list[Timeline]
    occurrences: pd.DataFrame
    stream: Stream
    junk: pd.DataFrame

    def __post_init__(self) -> None:
        self.index_of = {agent.agent_id: agent.index for agent in self.agents}


def _agents(vendor: str, count: int, seed: int) -> list[Agent]:
    rng = random.Random(f"{seed}/{vendor}/agents")
    agents = []
    for index in range(count):
        name = (
            f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {LAST_NAMES[(index // 3) % len(LAST_NAMES)]}"
        )
        if vendor == "cxengage":
            agent_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            agents.append(Agent(index, agent_id, name, agent_id))
        elif vendor == "cxone":
            wire_id = 4_100_000 + index * 7 + rng.randrange(7)
            agents.append(Agent(index, str(wire_id), name, wire_id))
        else:
            agent_id = f"{rng.getrandbits(96):024x}"
            agents.append(Agent(index, agent_id, None, agent_id))
    return agents


def _occurrences(vendor: str, agents: list[Agent], timelines: list[Timeline]) -> pd.DataFrame:
    """The canonical truth of what each agent did (end NA while still running at `now`)."""
    rows = []
    vocabulary = VOCABULARY[vendor]
    for agent, timeline in zip(agents, timelines, strict=True):
        ends: list[int | None] = [*timeline.starts[1:], None][: len(timeline.starts)]
        for seq, (start, end, kind) in enumerate(
            zip(timeline.starts, ends, timeline.kinds, strict=True)
        ):
            vendor_state, vendor_reason = vocabulary[kind]
            state = KIND_STATE[kind]
            reason = vendor_reason or (vendor_state if state == NOT_READY else None)
            rows.append(
                (
                    agent.index,
                    agent.agent_id,
                    agent.name,
                    seq,
                    kind,
                    state,
                    vendor_state,
                    reason,
                    start,
                    end,
                )
            )
    frame = pd.DataFrame(
        rows,
        columns=[
            "agent_index",
            "agent_id",
            "agent_name",
            "seq",
            "kind",
            "state",
            "vendor_state",
            "reason",
            "start_ms",
            "end_ms",
        ],
    )
    frame["end_ms"] = frame["end_ms"].astype("Int64")
    return frame


def _cxengage_records(
    agents: list[Agent], timelines: list[Timeline], tenant: str
) -> list[tuple[int, int, int, bytes]]:
    out = []
    for agent, timeline in zip(agents, timelines, strict=True):
        n = len(timeline.starts)
        starts = np.array(timeline.starts, dtype=np.int64)
        ends = np.append(starts[1:], -1)
        start_text = iso_ms(starts)
        login_text = iso_ms(np.array(timeline.logins, dtype=np.int64))
        ids = [f"{agent.agent_id[:8]}-{seq:07d}" for seq in range(n)]
        for seq in range(n):
            kind = timeline.kinds[seq]
            state, reason = VOCABULARY["cxengage"][kind]
            presence = CXENGAGE_PRESENCE[state]
            is_open = seq == n - 1
            busy = state == "busy"
            record = {
                "eventId": ids[seq],
                "agentId": agent.agent_id,
                "platformAgentId": agent.agent_id,
                "tenantAgentId": f"{tenant}:{agent.index:05d}",
                "agentName": agent.name,
                "sessionId": f"{agent.agent_id[:8]}-s{timeline.logins[seq]:x}",
                "loginTimestamp": login_text[seq],
                "eventType": f"agent-{presence}" if state != "coaching" else "agent-coaching",
                "presence": presence,
                "state": state,
                "reasonId": f"r-{reason.lower()}" if reason else None,
                "reasonName": reason,
                "reasonListId": "rl-default" if reason else None,
                "reasonListName": "Default" if reason else None,
                "start": start_text[seq],
                "end": None if is_open else start_text[seq + 1],
                "durationSeconds": None if is_open else (int(ends[seq]) - int(starts[seq])) / 1000,
                "nextEventId": None if is_open else ids[seq + 1],
                "allocation": "fully-allocated" if busy else None,
                "direction": ("inbound" if kind == "busy_in" else "outbound") if busy else None,
                "capacity": [{"channelType": "voice", "allocation": 1}] if busy else [],
                "transfers": [],
            }
            out.append((timeline.starts[seq], agent.index, seq, encode(record)))
    return out


def _cxone_records(
    agents: list[Agent], timelines: list[Timeline], duration: str
) -> list[tuple[int, int, int, bytes]]:
    """History events; `duration` (ms) is the record's own length (`own`, null while open) or
    the previous state's (`previous`, null on an agent's first event): the tutorial's prose
    says one, its code the other."""
    out = []
    for agent, timeline in zip(agents, timelines, strict=True):
        starts = timeline.starts
        text = iso_ms(np.array(starts, dtype=np.int64))
        for seq, kind in enumerate(timeline.kinds):
            state, sub_state = VOCABULARY["cxone"][kind]
            if duration == "previous":
                length = None if seq == 0 else starts[seq] - starts[seq - 1]
            else:
                length = None if seq == len(starts) - 1 else starts[seq + 1] - starts[seq]
            record = {
                "agentId": agent.wire_id,
                "agentName": agent.name,
                "timestamp": text[seq],
                "state": state,
                "subState": sub_state,
                "duration": length,
            }
            out.append((starts[seq], agent.index, seq, encode(record)))
    return out


def koreai_event_time(ms: int, zone: ZoneInfo, clock: int = 24) -> str:
    """`M/D/YYYY H:MM:SS` local time, no leading zeros on month, day and hour (as the API);
    on a 12-hour `clock` the hour is 1-12 with nothing saying AM or PM (the document's sample
    cannot tell the two apart)."""
    local = datetime.fromtimestamp(ms // 1000, zone)
    hour = local.hour if clock == 24 else (local.hour % 12 or 12)
    return f"{local.month}/{local.day}/{local.year} {hour}:{local.minute:02d}:{local.second:02d}"


def _koreai_records(
    agents: list[Agent], timelines: list[Timeline], zone: ZoneInfo, clock: int
) -> list[tuple[int, int, int, bytes]]:
    out = []
    for agent, timeline in zip(agents, timelines, strict=True):
        for seq, (start, kind) in enumerate(zip(timeline.starts, timeline.kinds, strict=True)):
            activity, reason_code = VOCABULARY["koreai"][kind]
            record = {
                "AgentId": agent.agent_id,
                "EventTime": koreai_event_time(start, zone, clock),
                "Activity": activity,
                "ReasonCode": reason_code,
            }
            out.append((start, agent.index, seq, encode(record)))
    return out


def _junk_record(vendor: str, kind: str, marker: str, at: int, zone: ZoneInfo) -> dict:
    """A malformed record; `marker` travels in a text field so tests can find it in quarantine."""
    start = iso_one(at)
    if vendor == "cxengage":
        record: dict[str, Any] = {
            "eventId": f"junk-{marker}",
            "agentId": "junk-agent",
            "agentName": marker,
            "eventType": "agent-ready",
            "presence": "ready",
            "state": "ready",
            "start": start,
            "end": iso_one(at + 60_000),
            "durationSeconds": 60.0,
            "capacity": [],
            "transfers": [],
        }
        if kind == "no_event_id":
            record["eventId"] = None
        elif kind == "no_agent_id":
            record["agentId"] = None
        elif kind == "end_before_start":
            record["end"], record["durationSeconds"] = iso_one(at - 300_000), -300.0
        elif kind == "bad_start":
            record["start"] = "2026-02-30T25:61:00.000Z"
        return record
    if vendor == "cxone":
        record = {
            "agentId": 999_999,
            "agentName": marker,
            "timestamp": start,
            "state": "READY",
            "subState": None,
            "duration": 60_000,
        }
        if kind == "no_state":
            record["state"] = None
        elif kind == "bad_timestamp":
            record["timestamp"] = "yesterday at ten"
        elif kind == "negative_duration":
            record["duration"] = -60_000
        elif kind == "text_duration":
            record["duration"] = "sixty seconds"
        return record
    record = {
        "AgentId": "junk-agent",
        "EventTime": koreai_event_time(at, zone),
        "Activity": "ready",
        "ReasonCode": marker,
    }
    if kind == "no_agent_id":
        record["AgentId"] = None
    elif kind == "bad_event_time":
        record["EventTime"] = "13/45/2026 25:61:00"
    elif kind == "no_activity":
        record["Activity"] = None
    return record


class World:
    """Everything the simulator knows of one tenant, built lazily per vendor, then immutable.

    Tenant 1 is the world of `config.seed`; tenant k has its own seed and credentials.
    """

    def __init__(self, config: SimConfig, tenant: int = 1) -> None:
        self.config = config
        self.tenant = tenant
        self.seed = config.tenant_seed(tenant)
        self.credentials = Credentials.of_tenant(tenant)
        self.now = config.now.astimezone(UTC)
        self.now_ms = to_ms(self.now)
        self.first_day_ms = day_ms(config.first_day)
        self.zone = ZoneInfo(config.koreai_timezone)
        self._data: dict[str, VendorData] = {}
        self._lock = threading.Lock()

    def served_ms(self) -> int:
        """The instant the vendors serve as of: the config's moving clock, never past `now`."""
        clock = self.config.clock
        return self.now_ms if clock is None else min(self.now_ms, to_ms(clock()))

    def data(self, vendor: str) -> VendorData:
        with self._lock:
            if vendor not in self._data:
                gc.disable()  # millions of short-lived dicts: cyclic GC would dominate the build
                try:
                    self._data[vendor] = self._build(vendor)
                finally:
                    gc.enable()
            return self._data[vendor]

    def occurrences(self, vendor: str) -> pd.DataFrame:
        """Ground truth: every state occurrence of every agent (end NA while running at `now`)."""
        return self.data(vendor).occurrences

    def junk(self, vendor: str) -> pd.DataFrame:
        """The malformed records served: position_ms, marker, kind, reason (expected quarantine)."""
        return self.data(vendor).junk

    def _build(self, vendor: str) -> VendorData:
        config, faults = self.config, self.config.faults
        agents = _agents(vendor, config.agents, self.seed)
        timelines = [
            _timeline(
                random.Random(f"{self.seed}/{vendor}/{agent.index}"),
                agent.index,
                config.first_day,
                self.now_ms,
                whole_seconds=vendor == "koreai",
                unknown_states=faults.unknown_states,
            )
            for agent in agents
        ]
        if vendor == "koreai":
            records = _koreai_records(agents, timelines, self.zone, self.config.koreai_clock)
        elif vendor == "cxengage":
            records = _cxengage_records(agents, timelines, self.credentials.cxengage_tenant_id)
            if every := config.cxengage_lost_every:  # holes in the chains: never served
                records = [r for r in records if r[2] % every != every - 1]
        else:
            records = _cxone_records(agents, timelines, config.cxone_duration)
        rng = random.Random(f"{self.seed}/{vendor}/faults")
        junk_rows = []
        if faults.malformed:
            every = int(JUNK_EVERY_MS * max(1.0, 12 / config.agents))
            kinds = JUNK_KINDS[vendor]
            junk_owner = 0 if vendor == "cxone" else len(agents)
            at, k = self.first_day_ms + rng.randrange(every), 0
            while at < self.now_ms:
                kind, reason = kinds[k % len(kinds)]
                marker = f"JUNK-{k}"
                junk_record = _junk_record(vendor, kind, marker, at, self.zone)
                if vendor == "cxone":  # history is asked per agent: junk comes in agent 0's
                    junk_record["agentId"] = agents[0].wire_id
                records.append((at, junk_owner, k, encode(junk_record)))
                junk_rows.append((at, marker, kind, reason))
                at, k = at + every, k + 1
        junk = pd.DataFrame(junk_rows, columns=["position_ms", "marker", "kind", "reason"])
        stream = _stream(
            records,
            rng,
            duplicates=faults.duplicates,
            late=faults.late_events and vendor == "cxengage",
        )
        if vendor == "cxengage":  # intervals: one still running when served is served open
            stream = stream.with_interval_ends(timelines)
        return VendorData(agents, timelines, _occurrences(vendor, agents, timelines), stream, junk)

    def agent_index(self, vendor: str, agent_id: str) -> int | None:
        return self.data(vendor).index_of.get(agent_id)

    # --- CXone views beyond the history -------------------------------------------------

    def _cxone_agent(self, agent_id: str) -> tuple[Agent, Timeline] | None:
        index = self.agent_index("cxone", agent_id)
        if index is None:
            return None
        data = self.data("cxone")
        return data.agents[index], data.timelines[index]

    def summary(self, agent_id: str, start_ms: int, end_ms: int) -> list[dict] | None:
        """CXone agent-status-summary intervals, clipped to the window and to `now`.

        None means the API answers 404. With `summary_drift`, agent 1's first available
        interval is reported 7.5 s long, agent 2 has no report, and agent 3's first contact
        ends with 30 s reported as ACW.
        """
        found = self._cxone_agent(agent_id)
        if found is None:
            return None
        agent, timeline = found
        drift = self.config.faults.summary_drift
        if drift and agent.index == 2:
            return None
        served = self.served_ms()
        stop = min(end_ms, served)
        # only the occurrences around the window: the one running at its start, and on
        first = max(bisect_left(timeline.starts, start_ms) - 1, 0)
        last = bisect_left(timeline.starts, stop)
        starts = timeline.starts[first:last]
        ends = [*timeline.starts[first + 1 : last + 1], served][: len(starts)]
        intervals: list[list[Any]] = []
        for start, end, kind in zip(starts, ends, timeline.kinds[first:last], strict=True):
            lo, hi = max(start, start_ms), min(end, stop)
            if hi > lo or (start == end and start_ms <= start < stop):
                intervals.append([lo, hi, SUMMARY_STATE[kind]])
        if drift and agent.index == 1:
            available = next((i for i in intervals if i[2] == "available"), None)
            if available:
                available[1] += 7_500
        if drift and agent.index == ALWAYS_NO_ACW_AGENT:
            position = next(
                (n for n, i in enumerate(intervals) if i[2] == "busy" and i[1] - i[0] > 30_000),
                None,
            )
            if position is not None:
                lo, hi, _ = intervals[position]
                intervals[position : position + 1] = [
                    [lo, hi - 30_000, "busy"],
                    [hi - 30_000, hi, "acw"],
                ]
        bounds = iso_ms(np.array([t for lo, hi, _ in intervals for t in (lo, hi)], dtype=np.int64))
        return [
            {
                "startTime": bounds[2 * n],
                "endTime": bounds[2 * n + 1],
                "state": state,
                "duration": round((hi - lo) / 1000),
            }
            for n, (lo, hi, state) in enumerate(intervals)
        ]

    def snapshot(self) -> list[dict]:
        """CXone agents/states: logged-in agents only, with the state they are in as served."""
        data = self.data("cxone")
        served = self.served_ms()
        out = []
        for agent, timeline in zip(data.agents, data.timelines, strict=True):
            current = bisect_right(timeline.starts, served) - 1
            if current < 0 or timeline.kinds[current] == "logout":
                continue
            state, sub_state = VOCABULARY["cxone"][timeline.kinds[current]]
            out.append(
                {
                    "agentId": agent.wire_id,
                    "siteId": 1 + agent.index % 3,
                    "timestamp": iso_one(timeline.starts[current]),
                    "state": {"type": state, "subState": sub_state},
                }
            )
        return out


def _still_open(payload: bytes) -> bytes:
    """A CxEngage interval as served before it ended."""
    record = orjson.loads(payload)
    record.update(end=None, durationSeconds=None, nextEventId=None)
    return encode(record)


def _stream(
    records: list[tuple[int, int, int, bytes]], rng: random.Random, *, duplicates: bool, late: bool
) -> Stream:
    """Sort by (timestamp, agent, sequence); repeat ~1% of records; mark ~1% as late."""
    positions, agents, seqs, encoded, late_flags = [], [], [], [], []
    for at, agent, seq, payload in records:
        copies = 2 if duplicates and rng.random() < 0.01 else 1
        is_late = late and rng.random() < 0.01
        for _ in range(copies):
            positions.append(at)
            agents.append(agent)
            seqs.append(seq)
            encoded.append(payload)
            late_flags.append(is_late)
    order = np.lexsort((np.array(seqs), np.array(agents), np.array(positions, dtype=np.int64)))
    return Stream(
        positions=np.array(positions, dtype=np.int64)[order],
        encoded=[encoded[i] for i in order],
        late=np.array(late_flags, dtype=bool)[order],
        agent_keys=np.array(agents, dtype=np.int64)[order],
        seqs=np.array(seqs, dtype=np.int64)[order],
    )
