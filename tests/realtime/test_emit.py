"""The worker's side of emitting: a write-only client of the message queue that leaves eventlet out
of a process nobody patched (its hub would otherwise take over that process's plain threads)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_WORKER_SIDE = """
import sys
from realtime.emit import _socketio
client = _socketio()
assert client.server is not None, "a write-only client was made"
print("eventlet" in sys.modules)
"""


def test_a_worker_emits_without_loading_eventlet(redis_url):
    env = {**os.environ, "REDIS_URL": redis_url, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", _WORKER_SIDE], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
