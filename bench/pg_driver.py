"""PostgreSQL driver for the web process: one war-room chat message (`chat.post_message`, the hot write
of the socket benchmarks) and one customer-360 read, in-process, through pg8000 and through psycopg2
(the default for a driverless `postgresql://` URL since the cluster work), on the same fresh database.
Prints the median and p95 wall time and the process CPU per operation, with SQLite beside them as the
embedded default's baseline.

    .venv/bin/python bench/pg_driver.py [--messages 300]

Wall time includes PostgreSQL's own work on the same cores; CPU time is this process's alone (what a
web process spends per message, the figure that limits a process's throughput)."""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from _common import fresh_postgres, fresh_sqlite, random_data_key


def measure(url: str, messages: int) -> tuple[list[float], list[float]]:
    from sqlmodel import Session

    from server import create_app
    from server.db import make_engine, row_id
    from server.warrooms import chat
    from server.warrooms.membership import add_member
    from server.warrooms.models import MemberRole, MemberStatus
    from server.warrooms.rooms import create_room
    from server.warrooms.schemas import MessageIn, RoomCreate
    from tests import factories

    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        branch = factories.make_branch(session)
        people = [factories.make_user(session, branch=branch) for _ in range(5)]
        room = create_room(session, user=people[0], data=RoomCreate(title="驱动对比作战室"), ip=None)
        for person in people[1:]:
            add_member(
                session,
                room=room,
                user=person,
                role=MemberRole.member,
                status=MemberStatus.active,
                invited_by=row_id(people[0]),
            )
        session.commit()
        room_id = row_id(room)
    walls, cpus = [], []
    # The app context gives the rate limit its Redis (as in the web process); the engine is this one.
    app = create_app({"DATABASE_URL": url, "VAR_DIR": Path(tempfile.mkdtemp()), "WARROOM_RATE_LIMIT": 10**9})
    context = app.app_context()
    context.push()
    for n in range(messages + 20):
        with Session(engine, expire_on_commit=False) as session:
            wall, cpu = time.perf_counter(), time.process_time()
            chat.post_message(
                session,
                room_id=room_id,
                user=people[n % 5],
                data=MessageIn(text=f"第{n}条进展", client_id=f"bench-{n}-{os.getpid()}"),
            )
            if n >= 20:  # the first ones warm the pool and the statement caches
                walls.append((time.perf_counter() - wall) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
    context.pop()
    engine.dispose()
    return walls, cpus


def drop(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres",
    )
    args = parser.parse_args()
    os.environ.setdefault("DATA_KEY", random_data_key())
    base = args.database_url.split("://", 1)[1]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(("SQLite (embedded default)", *measure(fresh_sqlite(Path(tmp)), args.messages)))
    for label, scheme in (
        ("pg8000 (before)", "postgresql+pg8000://"),
        ("psycopg2 (now)", "postgresql+psycopg2://"),
    ):
        url, admin_url = fresh_postgres("postgresql://" + base)
        rows.append((label, *measure(scheme + url.split("://", 1)[1], args.messages)))
        drop(admin_url, url.rsplit("/", 1)[1])
    print(f"war-room message, in-process, {args.messages} messages each")
    print(f"{'driver':28} {'wall p50 ms':>11} {'wall p95 ms':>11} {'CPU p50 ms':>10}")
    for label, walls, cpus in rows:
        print(
            f"{label:28} {statistics.median(walls):11.2f} {p95(walls):11.2f} {statistics.median(cpus):10.2f}"
        )


if __name__ == "__main__":
    main()
