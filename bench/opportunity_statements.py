"""Database work per share and per claim, counted inside one web process: SQL statements, round
trips to the database server, and CPU time of this process, for the three operations of the pool
benchmark's hot path (bench/opportunity_feed.py):

- a share (`POST /api/v1/opportunities`, as the originator's phone sends it),
- the winning claim over the `/feed` socket,
- a losing claim that reaches the database (the first claim on another web process, before the
  winner's record has arrived there).

Counts do not depend on the machine's load, so they show what a change saves where timings cannot.

    .venv/bin/python bench/opportunity_statements.py [--rounds 30] [--profile claim|share]

SQLite by default, or BENCH_DATABASE_URL=postgresql://... (a fresh database, dropped afterwards);
Redis db of BENCH_REDIS_URL (default db 11). On PostgreSQL a round trip is one wait for the
server's reply (pg8000 waits once per `ReadyForQuery`); on SQLite there is no server, so only
statements are counted."""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class Meter:
    """Statements (SQLAlchemy cursor executes) and server round trips while `on`."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.on = False
        self.statements: Counter[str] = Counter()
        self.round_trips = 0

        @event.listens_for(engine, "before_cursor_execute")
        def _count(_conn, _cursor, statement, _params, _context, _many) -> None:
            if self.on:
                self.statements[" ".join(statement.split()[:3])[:60]] += 1

        if engine.dialect.name == "postgresql":
            import pg8000.core

            original = pg8000.core.CoreConnection.handle_messages
            meter = self

            def handle_messages(conn, context):
                if meter.on:
                    meter.round_trips += 1
                return original(conn, context)

            pg8000.core.CoreConnection.handle_messages = handle_messages  # measuring only


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--profile", choices=("share", "claim"), default=None)
    parser.add_argument("--show", action="store_true", help="list the statements of each operation")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="opp-statements-"))
    from bench._common import bench_database

    url, admin_url = bench_database(var_dir)
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
    try:
        run(args, url, redis_url, var_dir)
    finally:
        from server import db

        db.dispose_all()
        if admin_url:
            from bench._common import drop_postgres

            drop_postgres(url, admin_url)


def run(args: argparse.Namespace, url: str, redis_url: str, var_dir: Path) -> None:
    from bench._common import shared_lead
    from bench.opportunity_feed import prepare

    originator, rms = prepare(url, 2 * args.rounds + 2)

    from realtime import init_app as init_realtime
    from realtime import socketio
    from realtime.sinks import SINKS as REALTIME_SINKS
    from server import create_app, db, events
    from server.opportunities import race
    from server.redis_client import get_redis
    from tasks.sinks import SERVER_SINKS

    app = create_app(
        {
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "VAR_DIR": var_dir,
            "ASYNC_MODE": "threading",
            "PUBLIC_URL": "http://127.0.0.1",
        }
    )
    init_realtime(app)
    # The web process's sinks that matter here (feed broadcasts, the claim race's record); the job
    # sinks stay off, as no worker runs.
    events.install([*SERVER_SINKS, *REALTIME_SINKS])
    # The Socket.IO test client needs the in-process manager; the database work is the same.
    import socketio as python_socketio

    manager = python_socketio.Manager()
    manager.set_server(socketio.server)
    socketio.server.manager = manager
    engine = db.engine_for(app)
    meter = Meter(engine)
    http = app.test_client()
    http.set_cookie("zhanye_session", originator[0])

    def socket(cred):
        flask_client = app.test_client()
        flask_client.set_cookie("zhanye_session", cred[0])
        client = socketio.test_client(app, namespace="/feed", flask_test_client=flask_client)
        assert client.is_connected("/feed")
        return client

    def share(n: int) -> int:
        response = http.post(
            "/api/v1/opportunities",
            json=shared_lead(n),
            headers={"X-CSRF-Token": originator[1]},
        )
        assert response.status_code == 201, response.text
        return response.get_json()["id"]

    def claim(client, opp_id: int) -> dict:
        return client.emit("claim", {"opportunity_id": opp_id}, namespace="/feed", callback=True)

    def forget_race(opp_id: int) -> None:
        """As on a web process that has not heard of the winner yet."""
        race._local.clear()
        with app.app_context():
            get_redis().delete(race._key(opp_id))

    sockets = [(socket(rms[2 * i]), socket(rms[2 * i + 1])) for i in range(args.rounds)]
    ops = {"share": [], "winning claim": [], "losing claim at the database": []}
    profiler = cProfile.Profile() if args.profile else None
    share(-1)  # warm-up: first-use imports and caches

    def measured(name: str, fn, *a):
        meter.statements.clear()
        meter.round_trips = 0
        if profiler and args.profile in name:
            profiler.enable()
        meter.on = True
        cpu = time.process_time()
        out = fn(*a)
        cpu = time.process_time() - cpu
        meter.on = False
        if profiler:
            profiler.disable()
        ops[name].append((sum(meter.statements.values()), meter.round_trips, cpu, Counter(meter.statements)))
        return out

    for winner, loser in sockets:
        opp_id = measured("share", share, 0)
        answer = measured("winning claim", claim, winner, opp_id)
        assert answer.get("ok"), answer
        forget_race(opp_id)
        answer = measured("losing claim at the database", claim, loser, opp_id)
        assert answer.get("code") == "already-claimed", answer

    postgres = engine.dialect.name == "postgresql"
    print(f"database: {engine.dialect.name}; {args.rounds} rounds; load average {os.getloadavg()[0]:.1f}")
    for name, rows in ops.items():
        statements = sum(r[0] for r in rows) / len(rows)
        trips = sum(r[1] for r in rows) / len(rows)
        cpu_ms = sorted(r[2] for r in rows)[len(rows) // 2] * 1000
        line = f"{name:32} statements {statements:5.1f}"
        if postgres:
            line += f"  round trips {trips:5.1f}"
        print(line + f"  CPU (median) {cpu_ms:5.1f} ms")
        if args.show:
            for statement, count in sorted(rows[-1][3].items()):
                print(f"    {count} × {statement}")
    for winner, loser in sockets:
        winner.disconnect(namespace="/feed")
        loser.disconnect(namespace="/feed")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
