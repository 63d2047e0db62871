"""SIGTERM stops what runs underneath: a whole process group, grandchildren included; in a
Dagster run, through Dagster's own handler."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

WRAPPER = """
import sys
from agentstate_etl.interrupts import run_process_group
child = [sys.executable, "-c", '''
import signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)  # like dagster dev's servers
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
open(sys.argv[1], "w").write(str(grandchild.pid))
time.sleep(600)
''', sys.argv[1]]
sys.exit(run_process_group([child], grace_s=5))
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead: it only waits for its parent to read its status
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split()[2] != "Z"


def test_sigterm_stops_the_whole_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    wrapper = subprocess.Popen([sys.executable, "-c", WRAPPER, str(pid_file)])
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text()):
        assert time.monotonic() < deadline, "the grandchild never started"
        time.sleep(0.05)
    grandchild = int(pid_file.read_text())
    assert alive(grandchild)
    wrapper.send_signal(signal.SIGTERM)
    assert wrapper.wait(timeout=30) == 130
    deadline = time.monotonic() + 30
    while alive(grandchild):
        assert time.monotonic() < deadline, "the grandchild outlived the wrapper"
        time.sleep(0.05)


HANDED_OVER = """
import os, signal
from dagster._utils.interrupts import capture_interrupts, check_captured_interrupt
from agentstate_etl.interrupts import stop_requested, terminate_as_interrupt
terminate_as_interrupt()
with capture_interrupts():  # what Dagster does while a run executes
    os.kill(os.getpid(), signal.SIGTERM)
    assert check_captured_interrupt(), "Dagster's handler took SIGTERM during the run"
try:  # and gives it back afterwards
    os.kill(os.getpid(), signal.SIGTERM)
except KeyboardInterrupt as exc:
    print(exc, stop_requested())
"""


def test_sigterm_goes_to_dagster_during_a_run_and_to_us_after() -> None:
    done = subprocess.run(
        [sys.executable, "-c", HANDED_OVER], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "stopped by signal SIGTERM SIGTERM"
