"""The web process: the Flask app with its Socket.IO layer and event sinks, served by the eventlet
server through socketio.run (gunicorn 27 has no eventlet worker)."""

import os

# Patch before anything else is imported, so every socket and lock the app makes cooperates.
if os.environ.get("ASYNC_MODE", "eventlet") == "eventlet":
    import eventlet

    eventlet.monkey_patch()
    # psycopg2 waits inside libpq (C), out of monkey-patching's reach: this wait callback makes every
    # PostgreSQL round trip yield to the hub instead of stalling every socket of the process.
    from psycogreen.eventlet import patch_psycopg

    patch_psycopg()

import gc  # noqa: E402

from realtime import init_app as init_realtime  # noqa: E402
from server import create_app  # noqa: E402
from tasks import init_app as init_tasks  # noqa: E402
from tasks.sinks import install as install_sinks  # noqa: E402

app = create_app()
socketio = init_realtime(app)
init_tasks(app)
install_sinks()  # every event sink of the process, in one call


def main() -> None:
    settings = app.config["SETTINGS"]
    # Long-lived objects made at start-up need not be scanned again: cuts GC pauses under load.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    print(f"Zhanye serving on http://{settings.HOST}:{settings.PORT}", flush=True)
    socketio.run(app, host=settings.HOST, port=settings.PORT, max_size=20_000, log_output=False)


if __name__ == "__main__":
    main()
