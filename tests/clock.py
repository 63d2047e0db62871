"""A clock that moves only when a test says: token lifetimes and delays without real waiting."""

from __future__ import annotations


class ManualClock:
    """Seconds, as `time.monotonic` gives them; `advance` moves it; as an async `sleep` it
    records how long it was asked to wait and returns at once."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)
