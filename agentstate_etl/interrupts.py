"""Shutting down cleanly when asked to (SIGINT, SIGTERM), whatever runs underneath.

Python ends on SIGTERM without unwinding, so an in-process Dagster run would stay STARTED and
the simulator thread would not stop; `terminate_as_interrupt` turns SIGTERM into the same
KeyboardInterrupt as Ctrl-C, which Dagster handles. `dagster dev` ignores both signals while
its webserver, daemon and code servers keep running, so `run_process_group` starts a command
in a process group of its own and, when told to stop, stops the whole group: SIGTERM, then
SIGKILL after a grace period.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Sequence
from types import FrameType

GRACE_S = 10.0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"stopped by signal {signal.Signals(signum).name}")


def terminate_as_interrupt() -> None:
    signal.signal(signal.SIGTERM, _interrupt)


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


def run_process_group(argv: Sequence[str], grace_s: float = GRACE_S) -> int:
    """Run `argv` in its own process group until it ends or we are interrupted; stop all of it."""
    process = subprocess.Popen(list(argv), start_new_session=True)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return process.wait()
    except KeyboardInterrupt:
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop_group(process, grace_s)
