"""`pipeline.each_day`: days in order, failures handed back per day, threads or not."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from agentstate_etl.errors import ValidationError
from agentstate_etl.pipeline import each_day

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
