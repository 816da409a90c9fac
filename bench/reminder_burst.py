"""Reminder burst: 10,000 reminders due in the same minute for 2,000 RMs with 2 devices each,
delivered by ONE RQ worker (SimpleWorker) to the local push-service stand-in (which checks VAPID and
decrypts a sample of payloads). Prints the time until every push and inbox entry is done,
deliveries/s, and duplicates (must be 0). Goal: 20,000 pushes and 10,000 inbox entries in < 30 s.

    .venv/bin/python bench/reminder_burst.py [--rms 2000] [--per-rm 5] [--devices 2]
        [--redis-url redis://127.0.0.1:6379/12] [--database-url postgresql://...]

The Redis db (BENCH_REDIS_URL, default db 12) is flushed first: give it one of its own.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def stand_in_process(n_subs: int, decrypt_every: int, public_key: str, conn) -> None:
    """The push service, in its own process (as it would be on its own machine), served by aiohttp."""
    import threading

    from tests.push_service import PushServiceStandIn, b64e, serve_async

    svc = PushServiceStandIn(decrypt_every=decrypt_every, expected_public_key=public_key, record=False)
    port = svc.server.server_address[1]
    svc.server.server_close()  # the port (and origin) is taken over by the asyncio server
    subs = [svc.new_subscription() for _ in range(n_subs)]

    def report() -> None:
        conn.send([(s.endpoint, s.p256dh, b64e(s.auth)) for s in subs])
        while True:
            msg = conn.recv()
            if msg == "stop":
                os._exit(0)
            conn.send(
                {
                    "ok": svc.accepted,
                    "dupes": svc.duplicates,
                    "errors": svc.errors[:5],
                    "n_errors": len(svc.errors),
                    "decrypted": svc.decrypted,
                    "samples": svc.samples,
                }
            )

    threading.Thread(target=report, daemon=True).start()
    serve_async(svc, port)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_reference(subs: list[tuple[str, str, str]], settings) -> dict[str, float]:
    """What the work costs at its floor on this machine right now: pywebpush's encryption alone,
    and a bare HTTP POST to the same stand-in (an unknown path: no checks) at the same concurrency."""
    import asyncio

    import aiohttp
    from pywebpush import WebPusher

    data = b'{"title":"\u8bb0\u4e8b\u63d0\u9192","body":"x","url":"/notes/1","tag":"n1","id":1}'
    t = time.perf_counter()
    for endpoint, p256dh, auth in subs:
        WebPusher({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}).encode(data, "aes128gcm")
    encrypt_ms = (time.perf_counter() - t) / len(subs) * 1000
    origin = subs[0][0].split("/push/")[0]

    async def bare() -> float:
        limit = settings.PUSH_CONCURRENCY
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit)) as http:
            sem = asyncio.Semaphore(limit)

            async def one(i: int) -> None:
                async with sem, http.post(f"{origin}/reference/{i}", data=b"x" * 230) as response:
                    await response.read()

            started = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(len(subs))))
            return (time.perf_counter() - started) / len(subs) * 1000

    return {"encrypt_ms": encrypt_ms, "http_ms": asyncio.run(bare())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rms", type=int, default=2000)
    parser.add_argument("--per-rm", type=int, default=5)
    parser.add_argument("--devices", type=int, default=2)
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"),
        help="a Redis db of its own: the bench flushes it (BENCH_REDIS_URL, like the other benches)",
    )
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--decrypt-every", type=int, default=10, help="decrypt 1 in N payloads at the stand-in"
    )
    args = parser.parse_args()

    import redis
    from sqlalchemy import insert, select, text

    tmp = Path(tempfile.mkdtemp(prefix="reminder-burst-"))
    db_url = args.database_url
    if db_url.startswith("postgres"):
        from sqlalchemy import create_engine

        from server.config import sqlalchemy_url

        name = f"bench_burst_{os.getpid()}"
        admin = create_engine(
            sqlalchemy_url(db_url).rsplit("/", 1)[0] + "/postgres",
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        db_url = db_url.rsplit("/", 1)[0] + "/" + name
    else:
        db_url = f"sqlite:///{tmp / 'bench.db'}"
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": args.redis_url, "VAR_DIR": str(tmp / "var")}
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "VAR_DIR")})
    redis.Redis.from_url(args.redis_url).flushdb()

    from alembic import command
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = None
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "heads")

    from server import create_app, db
    from server.notebook.models import Note, Reminder
    from server.org.models import Branch, Role, User
    from server.push import vapid
    from server.push.models import PushSubscription
    from server.push.service import endpoint_hash

    app = create_app()
    settings = app.config["SETTINGS"]
    public_key = vapid.public_key(settings.VAPID_PRIVATE_KEY)
    n_subs = args.rms * args.devices
    parent, child = mp.Pipe()
    proc = mp.Process(
        target=stand_in_process, args=(n_subs, args.decrypt_every, public_key, child), daemon=True
    )
    proc.start()
    subs = parent.recv()

    print(f"setting up {args.rms} RMs, {n_subs} devices, {args.rms * args.per_rm} reminders ...", flush=True)
    due = (datetime.now(UTC) + timedelta(minutes=1)).replace(second=0, microsecond=0)
    engine = db.engine_for(app)
    with engine.begin() as conn:
        branch_id = conn.execute(
            insert(Branch).returning(Branch.id),
            {"code": "BENCH", "name": "压测支行", "city": "上海", "region_code": "310000",
             "latitude": 31.2, "longitude": 121.5},
        ).scalar_one()  # fmt: skip
        users = [
            {"username": f"bench_rm_{i}", "display_name": f"客户经理{i}", "password_hash": "x", "role": Role.rm,
             "branch_id": branch_id, "is_active": True, "failed_logins": 0, "created_at": due}
            for i in range(args.rms)
        ]  # fmt: skip
        user_ids = list(conn.execute(insert(User).returning(User.id), users).scalars())
        if len(user_ids) != args.rms:  # some drivers return only the last id for executemany
            user_ids = [r[0] for r in conn.execute(text('SELECT id FROM "user" ORDER BY id')).all()]
        conn.execute(
            insert(PushSubscription),
            [
                {"user_id": user_ids[i // args.devices], "endpoint": e, "endpoint_hash": endpoint_hash(e),
                 "p256dh": p, "auth": a, "user_agent": "bench", "created_at": due}
                for i, (e, p, a) in enumerate(subs)
            ],
        )  # fmt: skip
        notes = [
            {"owner_id": uid, "body": f"提醒 {uid}-{k}", "tags": [], "todo": False, "done": False,
             "remind_at": due + timedelta(seconds=k * 7), "urgent": False, "version": 1,
             "created_at": due, "updated_at": due}
            for uid in user_ids for k in range(args.per_rm)
        ]  # fmt: skip
        conn.execute(insert(Note), notes)
        note_rows = conn.execute(select(Note.id, Note.owner_id, Note.remind_at).order_by(Note.id)).all()
        conn.execute(
            insert(Reminder),
            [
                {"user_id": owner, "kind": "note", "source_key": f"note:{nid}", "note_id": nid, "due_at": at,
                 "urgent": False, "title": "", "body": "", "url": f"/notes/{nid}", "created_at": due}
                for nid, owner, at in note_rows
            ],
        )  # fmt: skip
    total_reminders = len(note_rows)

    from tasks.queues import init_app as init_queues

    init_queues(app)
    from tasks.reminders import scan_reminders

    # One SimpleWorker process, as `rq worker -w rq.worker.SimpleWorker` runs in production; warmed
    # up by a first scan (nothing due then), so the figures are of a running worker, not its start.
    worker = subprocess.Popen(
        [str(ROOT / ".venv/bin/rq"), "worker", "-c", "tasks.rq_settings", "-w", "rq.worker.SimpleWorker",
         "high", "default"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / "worker.log", "w"),
    )  # fmt: skip
    warm = scan_reminders.enqueue(now=(due - timedelta(hours=1)).isoformat(), chain=False)
    while warm.get_status(refresh=True) not in ("finished", "failed"):
        time.sleep(0.2)
    at = due + timedelta(seconds=59)  # the scan at the end of the minute sees all of them due
    cpu_before = _cpu_seconds(worker.pid)
    t0 = time.perf_counter()
    scan_reminders.enqueue(now=at.isoformat(), chain=False)
    expected = total_reminders * args.devices
    stats: dict = {}
    inbox_done_at = None
    while time.perf_counter() - t0 < 240:
        parent.send("stats")
        stats = parent.recv()
        if inbox_done_at is None:
            with engine.connect() as conn:
                count = conn.execute(text("SELECT count(*) FROM notification")).scalar_one()
            if count >= total_reminders:
                inbox_done_at = time.perf_counter() - t0
        if stats["ok"] >= expected and inbox_done_at is not None:
            break
        if worker.poll() is not None:
            break
        time.sleep(0.25)
    elapsed = time.perf_counter() - t0
    time.sleep(1)  # let the last job write its log line
    worker_cpu = _cpu_seconds(worker.pid) - cpu_before
    worker.terminate()
    worker.wait(timeout=30)
    log_text = (tmp / "worker.log").read_text()
    scan_line = next((line for line in log_text.splitlines() if "fired " in line), "")
    job_lines = [line for line in log_text.splitlines() if " notifications: live " in line]
    with engine.connect() as conn:
        notifications = conn.execute(text("SELECT count(*) FROM notification")).scalar_one()
        dup_inbox = conn.execute(
            text("SELECT count(*) FROM (SELECT user_id, source_key FROM notification "
                 "GROUP BY user_id, source_key HAVING count(*) > 1) d")
        ).scalar_one()  # fmt: skip
        attempts = dict(
            conn.execute(text("SELECT outcome, count(*) FROM push_attempt GROUP BY outcome")).all()
        )
    reference = measure_reference(subs[: min(2000, len(subs))], settings)
    parent.send("stop")
    proc.join(5)

    print(f"reminders due in one minute : {total_reminders} for {args.rms} RMs x {args.devices} devices")
    print(f"inbox entries               : {notifications} (all in {inbox_done_at or float('nan'):.2f} s)")
    print(f"pushes accepted by service  : {stats['ok']} of {expected}")
    print(f"time until all delivered    : {elapsed:.2f} s (goal < 30 s)")
    print(f"deliveries/s                : {stats['ok'] / elapsed:.0f} pushes/s")
    print(f"duplicate pushes            : {stats['dupes']}; duplicate inbox entries: {dup_inbox}")
    print(f"attempts recorded           : {attempts}")
    per_push = reference["encrypt_ms"] + reference["http_ms"]
    floor_s = per_push * expected / 1000
    print(f"payloads decrypted (sample) : {stats['decrypted']}, e.g. {stats['samples'][:1]}")
    print(f"protocol errors at service  : {stats['n_errors']} {stats['errors']}")
    print(f"reference, same machine now : encrypt {reference['encrypt_ms']:.2f} ms/push + bare HTTP POST "
          f"{reference['http_ms']:.2f} ms/request -> floor for {expected} pushes {floor_s:.1f} s")  # fmt: skip
    print(f"ratio measured / floor      : {elapsed / floor_s:.2f}")
    print(f"worker CPU time             : {worker_cpu:.1f} s ({worker_cpu / max(1, stats['ok']) * 1000:.2f} ms per push, "
          f"scan and delivery jobs)")  # fmt: skip
    print(f"scan job                    : {scan_line.split('] ', 1)[-1]}")
    print(
        f"delivery jobs               : {len(job_lines)}, e.g. {job_lines[0].split('] ', 1)[-1] if job_lines else '-'}"
    )
    print(f"load average (1, 5, 15 min) : {os.getloadavg()}")


if __name__ == "__main__":
    main()
