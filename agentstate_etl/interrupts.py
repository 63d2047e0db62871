"""Shutting down cleanly when asked to (SIGINT, SIGTERM), whatever runs underneath.

Python ends on SIGTERM without unwinding, so an in-process Dagster run would stay STARTED and
the simulator thread would not stop; `terminate_as_interrupt` hands SIGTERM to whatever handles
Ctrl-C at that moment: during a run, Dagster's own handler, which stops the step at a safe point
and marks the run failed; elsewhere, a KeyboardInterrupt. A run that Dagster ended this way
returns normally, so the request is also remembered (`stop_requested`) for the caller to stop
launching further runs.

Dagster's webserver and daemon start code servers of their own (and `dagster dev` ignored both
signals while those kept running), so `run_process_group` starts its commands in a process
group of their own and, when told to stop, stops the whole group: SIGTERM, then SIGKILL after a
grace period.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from types import FrameType

GRACE_S = 10.0
POLL_S = 0.2


_requested: list[str] = []  # the signals asked to stop this process, in order


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"stopped by signal {signal.Signals(signum).name}")


def _terminate(signum: int, frame: FrameType | None) -> None:
    _requested.append(signal.Signals(signum).name)
    on_interrupt = signal.getsignal(signal.SIGINT)
    if callable(on_interrupt) and on_interrupt is not signal.default_int_handler:
        on_interrupt(signal.SIGINT, frame)  # Dagster's, during a run: stops at a safe point
        return
    _interrupt(signum, frame)


def terminate_as_interrupt() -> None:
    signal.signal(signal.SIGTERM, _terminate)


def stop_requested() -> str | None:
    """The signal that asked this process to stop, if one did."""
    return _requested[0] if _requested else None


def _stop_group(process: subprocess.Popen[bytes], grace_s: float) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace_s)
            os.killpg(process.pid, 0)  # the leader is gone; is anyone of its group left?
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def run_process_group(commands: Sequence[Sequence[str]], grace_s: float = GRACE_S) -> int:
    """Run `commands` side by side in one new process group until one of them ends or we are
    interrupted; then stop all of the group (their own children included)."""
    leader = subprocess.Popen(list(commands[0]), process_group=0)  # a group of its own
    processes = [leader]
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        for command in commands[1:]:
            processes.append(subprocess.Popen(list(command), process_group=leader.pid))
        while True:
            for process in processes:
                if (code := process.poll()) is not None:
                    return code
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop_group(leader, grace_s)
        for process in processes[1:]:
            process.poll()  # reap
