"""A tiny supervisor for the RQ worker: `python -m tasks.supervise rq worker ...` runs the command
and starts it again whenever it dies on its own (RQ's work loop quits on a Redis error in the middle
of a job, and under honcho one dead process stops the whole app). A SIGTERM or SIGINT is passed on
and ends the supervisor too, so stopping the app still stops the worker. In a deployment the
process manager (systemd `Restart=always`) does the same job."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time

log = logging.getLogger("tasks.supervise")

RESTART_DELAY_SECONDS = 2.0


def supervise(command: list[str]) -> int:
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        child = subprocess.Popen(command)
        code = child.wait()
        if stopping:
            return code
        log.warning("worker exited with %s: starting it again in %.0f s", code, RESTART_DELAY_SECONDS)
        time.sleep(RESTART_DELAY_SECONDS)
        if stopping:
            return code


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if len(sys.argv) < 2:
        sys.exit("usage: python -m tasks.supervise COMMAND [ARGS...]")
    sys.exit(supervise(sys.argv[1:]))
