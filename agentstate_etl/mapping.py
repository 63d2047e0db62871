"""Vendor state → canonical state, driven by one data file so deployments extend it without code.

The file is `state_mapping.csv` beside this module; `AGENTSTATE_STATE_MAPPING` may point at a
replacement with the same columns (vendor, source, vendor_state, state, default_reason).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from agentstate_etl.canonical import CANONICAL_STATES, UNKNOWN
from agentstate_etl.errors import ConfigError

DEFAULT_MAPPING_FILE = Path(__file__).with_name("state_mapping.csv")


@dataclass(frozen=True)
class StateMapping:
    """Canonical state and default reason for each vendor state of one vendor source."""

    states: dict[str, str]
    default_reasons: dict[str, str]

    def canonical(self, vendor_states: pd.Series) -> pd.Series:
        """Map vendor states; anything the file does not know becomes UNKNOWN (kept, counted)."""
        return vendor_states.map(self.states).fillna(UNKNOWN).astype(object)

    def reasons(self, vendor_states: pd.Series, given: pd.Series) -> pd.Series:
        """The vendor's reason where it gave one, else the state's default reason (or null)."""
        defaults = vendor_states.map(self.default_reasons)
        reasons = given.where(given.notna(), defaults).astype(object)
        return reasons.where(reasons.notna(), None)


@lru_cache(maxsize=8)
def _load(path: str) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    expected = {"vendor", "source", "vendor_state", "state", "default_reason"}
    if set(frame.columns) != expected:
        raise ConfigError(f"state mapping {path} must have columns {sorted(expected)}")
    bad = sorted(set(frame["state"]) - set(CANONICAL_STATES))
    if bad:
        raise ConfigError(f"state mapping {path} names unknown canonical states {bad}")
    return frame


def check_mapping_file(path: str) -> None:
    """Fail now, naming the file, rather than mid-run on the first partition that maps states."""
    try:
        _load(path)
    except (OSError, ValueError) as exc:  # pandas' parser errors are ValueErrors
        raise ConfigError(f"state mapping {path} cannot be read: {exc}") from None


def state_mapping(vendor: str, source: str = "history") -> StateMapping:
    """The mapping of one vendor's `source` ("history" or "summary")."""
    path = os.environ.get("AGENTSTATE_STATE_MAPPING") or str(DEFAULT_MAPPING_FILE)
    frame = _load(path)
    rows = frame[(frame["vendor"] == vendor) & (frame["source"] == source)]
    if rows.empty:
        raise ConfigError(f"state mapping {path} has no rows for {vendor}/{source}")
    states = dict(zip(rows["vendor_state"], rows["state"], strict=True))
    defaults = {
        s: r for s, r in zip(rows["vendor_state"], rows["default_reason"], strict=True) if r
    }
    return StateMapping(states=states, default_reasons=defaults)
