"""The worker's supervisor: a worker that dies on its own is started again; a SIGTERM stops both."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

CHILD = """
import pathlib, sys, time
runs = pathlib.Path(sys.argv[1])
n = int(runs.read_text() or 0) + 1 if runs.exists() else 1
runs.write_text(str(n))
if n == 1:
    sys.exit(3)  # dies on its own, as RQ's loop does on a Redis error mid-job
time.sleep(60)
"""


def _wait_for(predicate, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_dead_worker_is_started_again_and_sigterm_stops_both(tmp_path: Path):
    runs = tmp_path / "runs"
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "tasks.supervise", sys.executable, "-c", CHILD, str(runs)],
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert _wait_for(lambda: runs.exists() and runs.read_text() == "2"), "the worker was not restarted"
        assert supervisor.poll() is None
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=10) is not None
        time.sleep(0.5)
        assert runs.read_text() == "2"  # not started a third time after the stop
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
