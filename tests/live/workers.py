"""Real `rq worker` processes for the live tests: the Procfile's worker, a burst worker, a hard kill of a worker and its work
horse, and a warm stop that falls back to SIGKILL."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, server_env


def start_burst_worker(test_config: dict, log: Path) -> subprocess.Popen:
    """`rq worker --burst low` of the test's settings: it works through the queue and exits."""
    env = server_env(test_config, 0)
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "rq"), "worker", "-c", "tasks.rq_settings", "--burst", "low"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def kill_hard(process: subprocess.Popen) -> None:
    """SIGKILL the worker and its work horse (RQ puts the horse in its own process group)."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    horses = [int(pid) for pid in children.read_text().split()] if children.exists() else []
    for pid in [*horses, process.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(10)


def stop_worker(process: subprocess.Popen) -> None:
    """A warm shutdown (the job in hand first); SIGKILL to it and its work horse if that hangs."""
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        for pid in [int(p) for p in children.read_text().split()] if children.exists() else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.kill()
        process.wait(10)


def start_procfile_worker(env: dict[str, str], log: Path, *, supervised: bool = False) -> subprocess.Popen:
    """The Procfile's worker: `rq worker --with-scheduler` of the project's worker class, under
    tasks.supervise when `supervised` (RQ's worker quits on a Redis error mid-job; the supervisor
    starts it again)."""
    command = [
        str(Path(sys.executable).parent / "rq"),
        "worker",
        "--with-scheduler",
        "-c",
        "tasks.rq_settings",
        "-w",
        "tasks.worker.Worker",
    ]
    if supervised:
        command = [sys.executable, "-m", "tasks.supervise", *command]
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
