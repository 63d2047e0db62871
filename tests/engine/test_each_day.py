"""`pipeline.each_day` and `each_day_overlapped`: days in order, failures handed back per day."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from agentstate_etl.errors import ValidationError
from agentstate_etl.pipeline import each_day, each_day_overlapped

DAYS = [date(2026, 1, 1) + timedelta(days=i) for i in range(6)]


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_day_order_and_a_failed_day_does_not_stop_the_rest(
    workers: int,
) -> None:
    threads: set[str] = set()

    def step(day: date) -> int:
        threads.add(threading.current_thread().name)
        if day.day == 3:
            raise ValidationError(f"bad records on {day}")
        return day.day

    outcomes = list(each_day(step, DAYS, workers))
    assert [day for day, _ in outcomes] == DAYS
    assert [o for _, o in outcomes if not isinstance(o, Exception)] == [1, 2, 4, 5, 6]
    failed = [(day, str(o)) for day, o in outcomes if isinstance(o, Exception)]
    assert failed == [(date(2026, 1, 3), "bad records on 2026-01-03")]
    assert all(name.startswith("agentstate-day") for name in threads) == (workers > 1)


def test_a_programming_error_is_not_swallowed() -> None:
    def step(day: date) -> int:
        raise KeyError("a bug, not a bad partition")

    with pytest.raises(KeyError):
        list(each_day(step, DAYS, 2))


def test_overlapped_days_fetch_ahead_one_at_a_time_and_fail_per_day() -> None:
    """The next day's fetch runs while this day finishes, never two fetches at once, and a
    failure in either half is that day's outcome."""
    lock = threading.Lock()
    in_flight: list[date] = []
    fetch_started = {day: threading.Event() for day in DAYS}
    ahead: list[bool] = []  # per finished day: had the next day's fetch begun meanwhile?

    def fetch(day: date) -> date:
        fetch_started[day].set()
        with lock:
            in_flight.append(day)
            assert len(in_flight) == 1, f"two fetches at once: {in_flight}"
        try:
            if day.day == 2:
                raise ValidationError(f"vendor down on {day}")
            return day
        finally:
            with lock:
                in_flight.remove(day)

    def finish(day: date) -> int:
        following = day + timedelta(days=1)
        if following in fetch_started:
            ahead.append(fetch_started[following].wait(timeout=10))
        if day.day == 5:
            raise ValidationError(f"bad records on {day}")
        return day.day

    outcomes = list(each_day_overlapped(fetch, finish, DAYS))
    assert [day for day, _ in outcomes] == DAYS
    assert [o for _, o in outcomes if not isinstance(o, Exception)] == [1, 3, 4, 6]
    assert [str(o) for _, o in outcomes if isinstance(o, Exception)] == [
        "vendor down on 2026-01-02",
        "bad records on 2026-01-05",
    ]
    assert ahead == [True] * 4  # days 1, 3, 4, 5 finished while the next was fetched
