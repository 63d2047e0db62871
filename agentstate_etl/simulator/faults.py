"""Deciding, per request, which fault (if any) to inject: seeded, reproducible, bounded."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter

from agentstate_etl.simulator.config import REQUEST_FAULTS, Faults


def unit_hash(*parts: object) -> float:
    """A uniform number in [0, 1) from the parts, the same in every run and process."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class FaultPlan:
    """Chooses a request fault from (seed, request, how often it was answered, attempt).

    Only the first two attempts since the request last succeeded can fail, so a client that
    retries at least twice always gets through.
    """

    MAX_FAULTS_IN_A_ROW = 2

    def __init__(self, seed: int, faults: Faults) -> None:
        self.seed = seed
        self.faults = faults
        self._attempts: Counter[str] = Counter()
        self._successes: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()

    def decide(self, key: str, allowed: tuple[str, ...] = REQUEST_FAULTS) -> str | None:
        with self._lock:
            attempt = self._attempts[key]
            self._attempts[key] += 1
            generation = self._successes[key]
        if attempt >= self.MAX_FAULTS_IN_A_ROW:
            return None
        draw = unit_hash(self.seed, key, generation, attempt)
        for name in REQUEST_FAULTS:
            rate = float(getattr(self.faults, name))
            if draw < rate:
                # a revoked token is renewed once (docs/vendors.md, CXone), so revoke only first attempts
                if name in allowed and not (name == "revoke_tokens" and attempt > 0):
                    with self._lock:
                        self.injected[name] += 1
                    return name
                return None
            draw -= rate
        return None

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._attempts[key] = 0
            self._successes[key] += 1
