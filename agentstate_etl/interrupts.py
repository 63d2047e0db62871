"""Shutting down cleanly when asked to (SIGINT, SIGTERM), whatever runs underneath.

Python ends on SIGTERM without unwinding, so an in-process Dagster run would stay STARTED and
the simulator thread would not stop. `terminate_as_interrupt` gives SIGTERM and Ctrl-C one
handler that remembers the signal (`stop_requested`) and raises KeyboardInterrupt. While a run
executes, Dagster takes both signals over (its handler stops the step at a safe point and the
run ends as failed, and `execute_in_process` then returns as from any failure); afterwards it
gives both back to the handler SIGINT had, this one. The caller therefore looks at each run's
result too, not only at `stop_requested`.

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
    name = signal.Signals(signum).name
    _requested.append(name)
    raise KeyboardInterrupt(f"stopped by signal {name}")


def terminate_as_interrupt() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupt)


def stop_requested() -> str | None:
    """The signal that asked this process to stop, if our handler saw one."""
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
