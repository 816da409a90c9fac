"""War room fan-out: one room with 500, then 1,000 connected clients, a sender posting 10 messages/s
for 20 s. Our server (`wsgi.py`: eventlet, Flask-SocketIO, Redis message queue) stores and sequences
every message as in production; the reference is a plain Node.js Socket.IO broadcast with no storage
(bench/reference/socketio-node). Prints delivered messages/s, p50/p95/p99 delivery latency, server
CPU per delivered message, loss, the three slowest messages (so a tail set by a few stalled messages
shows as such), the time until each message reached its first member (the server's own work on a
message before its broadcast, apart from the fan-out), our/reference ratios for one and for two
server processes, and the load average (timings mean little on a busy machine).

    .venv/bin/python bench/warroom_fanout.py [--sizes 500,1000] [--seconds 20] [--rate 10] [--warmup 10]
        [--repeat N]

A single run's p99 moves by a tenth or more from run to run on a 2-core machine (a p99 over 200
messages is set by two or three of them), for the reference as much as for us; --repeat runs the
three servers in turn N times per size and prints each round's ratios and their median.

Before the measured messages each server (ours and the reference alike) gets --warmup messages at
the same rate that are neither timed nor counted: the first messages after a connection burst are
slow on every server and would otherwise decide a p99 drawn from 100,000 deliveries. The same
sender connection sends the warm-up and then the measured messages: when it joins, our server tells
the whole room a second later that it came online (a presence broadcast the reference does not
have), and the load clients' cost of reading a thousand of those frames delayed the measured message
sent at that moment (the slowest one of nearly every run when the sender joined just before
measuring). The join and its presence change now fall in the warm-up.

Set-up (not measured): a fresh SQLite database (or, with BENCH_DATABASE_URL=postgresql://..., a fresh
PostgreSQL database next to it, dropped at the end) with one user and one signed-in session per
client, all members of the room, and the Redis db of BENCH_REDIS_URL (default db 14). The per-user message rate limit is lifted for the sender. Load clients are asyncio
python-socketio clients on aiohttp (TCPConnector(limit=0)), split over --client-procs processes.
Everything stops by itself; nothing here asserts on time."""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing as mp
import os
import queue
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NS = "/warroom"
NODE_DIR = ROOT / "bench" / "reference" / "socketio-node"


# --- set-up ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database(url: str, clients: int, rooms: int) -> tuple[str, list[int], list[str]]:
    """Migrates, then makes an owner, `clients` members with one session each, and `rooms` rooms.
    Returns (owner cookie, room ids, member cookies)."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import insert
    from sqlmodel import Session

    from bench._common import bench_branch, bulk_rms, bulk_sessions
    from server import db
    from server.auth.service import hash_password
    from server.org.models import Role, User
    from server.timeutil import utcnow
    from server.warrooms import rooms as war_rooms
    from server.warrooms.models import MemberRole, MemberStatus, WarRoomMember
    from server.warrooms.schemas import RoomCreate

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = url
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "heads")
    engine = db.get_engine(url)
    now = utcnow()
    tag = uuid.uuid4().hex[:6]
    with Session(engine, expire_on_commit=False) as session:
        branch = bench_branch(session, code=f"BENCH{tag}")
        password = hash_password(secrets.token_urlsafe(12))
        owner = User(
            username=f"bench_owner_{tag}",
            display_name="发送者",
            password_hash=password,
            role=Role.rm,
            branch_id=branch.id,
        )
        session.add(owner)
        session.commit()
        member_ids = bulk_rms(
            session,
            branch_id=branch.id,
            prefix=f"bench_{tag}_",
            display="成员",
            count=clients,
            password_hash=password,
        )
        room_ids = []
        for n in range(rooms):
            room = war_rooms.create_room(
                session,
                user=owner,
                ip=None,
                data=RoomCreate(title=f"压测作战室 {n}", kind="wholesale", mode="joint"),
            )
            room_ids.append(room.id)
            session.execute(
                insert(WarRoomMember),
                [
                    {
                        "room_id": room.id,
                        "user_id": uid,
                        "role": MemberRole.member,
                        "status": MemberStatus.active,
                        "last_read_seq": 0,
                        "invited_at": now,
                        "joined_at": now,
                    }
                    for uid in member_ids
                ],
            )
        owner_creds, *member_creds = bulk_sessions(session, [owner.id, *member_ids])
        owner_cookie, cookies = owner_creds[0], [cookie for cookie, _csrf in member_creds]
        session.commit()
    db.dispose_all()
    return owner_cookie, room_ids, cookies


class ServerProcess:
    def __init__(self, argv: list[str], env: dict[str, str], port: int, log: Path, cwd: Path):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=out)
        deadline = time.time() + 120  # imports are slow on a busy machine
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
            try:
                requests.get(self.url + ("/healthz" if "wsgi.py" in argv[-1] else "/"), timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not start")

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.proc.pid).cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_ours(database_url: str, redis_url: str, var_dir: Path) -> ServerProcess:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "VAR_DIR": str(var_dir),
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "ASYNC_MODE": "eventlet",
            "WARROOM_RATE_LIMIT": "1000000",  # the sender posts 10/s; the limit is for people
        }
    )
    return ServerProcess(
        [sys.executable, str(ROOT / "wsgi.py")], env, port, var_dir / f"ours-{port}.log", ROOT
    )


def start_node(var_dir: Path) -> ServerProcess:
    port = free_port()
    return ServerProcess(
        ["node", str(NODE_DIR / "server.js"), str(port)],
        dict(os.environ),
        port,
        var_dir / f"node-{port}.log",
        NODE_DIR,
    )


# --- load clients (separate processes) ------------------------------------------------------------


def client_proc(urls: list[str], cookies: list[str], room_id: int, ready, results, stop) -> None:
    asyncio.run(_client_main(urls, cookies, room_id, ready, results, stop))


async def _client_main(urls, cookies, room_id, ready, results, stop) -> None:
    """One task per connection speaking Engine.IO 4 / Socket.IO 5 over a bare aiohttp websocket: a
    python-socketio client per connection costs several tasks and would make this process, not the
    server, the bottleneck on a 2-core machine."""
    import json

    import aiohttp

    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar())
    latencies: list[float] = []
    message_ids: list[int] = []  # which message each latency belongs to
    received = [0] * len(cookies)
    counters = {"duplicates": 0, "out_of_order": 0, "failed": 0, "dropped": 0}
    spans = [float("inf"), 0.0]  # first send seen, last receipt
    gate = asyncio.Semaphore(50)
    joined = asyncio.Event()
    pending = [len(cookies)]
    prefix = f"42{NS},"

    def settle() -> None:
        pending[0] -= 1
        if pending[0] == 0:
            joined.set()

    async def one(n: int) -> None:
        seen: set[int] = set()
        last_seq = 0
        ws_url = urls[n % len(urls)].replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        try:
            async with gate:
                ws = await http.ws_connect(
                    ws_url, headers={"Cookie": f"zhanye_session={cookies[n]}"}, heartbeat=None, max_msg_size=0
                )
                await ws.receive_str(timeout=60)  # "0{...}": engine.io open
                await ws.send_str(f"40{NS},")
                while not (await ws.receive_str(timeout=60)).startswith(f"40{NS},"):
                    pass
                await ws.send_str(f"42{NS},1" + json.dumps(["join", {"room_id": room_id, "last_seq": 10**9}]))
                while True:
                    frame = await ws.receive_str(timeout=60)
                    if frame.startswith(f"43{NS},1"):
                        if not json.loads(frame[len(f"43{NS},1") :])[0].get("ok"):
                            raise RuntimeError(frame)
                        break
                    if frame == "2":
                        await ws.send_str("3")
        except Exception:
            counters["failed"] += 1
            settle()
            return
        settle()
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            data = msg.data
            if data == "2":
                await ws.send_str("3")  # engine.io ping -> pong
                continue
            if not data.startswith(prefix):
                continue
            name, event = json.loads(data[len(prefix) :])
            if name != "event":
                continue
            now = time.time()
            parts = event["payload"]["text"].split(" ")
            if parts[0] != "bench":
                continue
            i = int(parts[1])
            if i in seen:
                counters["duplicates"] += 1
                continue
            seen.add(i)
            if event["seq"] <= last_seq:
                counters["out_of_order"] += 1
            last_seq = event["seq"]
            received[n] += 1
            sent_at = float(parts[2])
            latencies.append(now - sent_at)
            message_ids.append(i)
            spans[0] = min(spans[0], sent_at)
            spans[1] = max(spans[1], now)
        if not stop.is_set():
            counters["dropped"] += 1
        await ws.close()

    tasks = [asyncio.create_task(one(n)) for n in range(len(cookies))]
    await joined.wait()
    ready.put((len(cookies) - counters["failed"], counters["failed"]))
    while not stop.is_set():
        await asyncio.sleep(0.1)
    results.put(
        {
            "latencies": latencies,
            "message_ids": message_ids,
            "received": received,
            **counters,
            "first_sent": spans[0],
            "last_received": spans[1],
        }
    )
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await http.close()


# --- one run ---------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    clients: int
    connected: int = 0
    sent: int = 0
    acked: int = 0
    delivered: int = 0
    expected: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    dropped: int = 0  # connections the server closed during the run
    seconds: float = 0.0  # first message sent .. last one received
    first_sent: float = float("inf")
    last_received: float = 0.0
    cpu_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    message_ids: list[int] = field(default_factory=list)

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def slowest(self, count: int = 3) -> str:
        """The messages with the latest last delivery: a p99 over 200 messages is set by two or three
        of them, so this says whether the tail is a few stalled messages or spread evenly."""
        by_message: dict[int, list[float]] = {}
        for i, latency in zip(self.message_ids, self.latencies, strict=True):
            by_message.setdefault(i, []).append(latency * 1000)
        worst = sorted(by_message.items(), key=lambda item: max(item[1]), reverse=True)[:count]
        return ", ".join(
            f"#{i} {min(ms):.0f}/{sorted(ms)[len(ms) // 2]:.0f}/{max(ms):.0f}" for i, ms in worst
        )

    def first_delivery(self) -> str:
        """p50/p99 over messages of the time until the first member heard each: the server's own work
        on a message before its broadcast (read, check, store) plus one hop, apart from the fan-out."""
        first: dict[int, float] = {}
        for i, latency in zip(self.message_ids, self.latencies, strict=True):
            first[i] = min(first.get(i, latency), latency)
        ordered = sorted(first.values())
        if not ordered:
            return "n/a"

        def at(p: float) -> float:
            return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

        return f"{at(50):.1f}/{at(99):.1f}"

    @property
    def loss(self) -> int:
        return self.expected - self.delivered

    @property
    def cpu_us_per_msg(self) -> float:
        return self.cpu_seconds / self.delivered * 1e6 if self.delivered else float("nan")


async def _send(
    url: str,
    cookie: str,
    room_id: int,
    phases: list[tuple[str, float, Result, Callable[[], None] | None]],
    rate: float,
) -> None:
    """One sender joins once, then sends each phase in turn (prefix, seconds, result, called at the
    phase's start): its join's presence change, which our server broadcasts to the whole room a
    second later and the reference never sends, falls in the first phase (the warm-up), not in the
    measured one."""
    import aiohttp
    import socketio

    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)  # "packet queue is empty" at close
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar())
    sender = socketio.AsyncClient(
        reconnection=False,
        http_session=http,
        handle_sigint=False,
        websocket_extra_options={"headers": {"Cookie": f"zhanye_session={cookie}"}},
    )
    await sender.connect(
        url,
        namespaces=[NS],
        transports=["websocket"],
        wait_timeout=30,
    )
    await sender.call("join", {"room_id": room_id, "last_seq": 10**9}, namespace=NS, timeout=30)
    for k, (prefix, seconds, result, at_start) in enumerate(phases):
        if k:
            await asyncio.sleep(0.5)  # the previous phase's stragglers
        if at_start is not None:
            at_start()
        await _send_phase(sender, room_id, prefix, seconds, rate, result)
    await sender.disconnect()
    await http.close()


async def _send_phase(
    sender: Any, room_id: int, prefix: str, seconds: float, rate: float, result: Result
) -> None:
    errors: list = []

    def on_ack(ack):
        if ack and ack.get("ok"):
            result.acked += 1
        else:
            errors.append(ack)

    total = int(seconds * rate)
    started = time.perf_counter()
    for i in range(total):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await sender.emit(
            "message",
            {
                "room_id": room_id,
                "text": f"{prefix} {i} {time.time():.6f}",
                "client_id": f"{prefix}-{room_id}-{i}",
            },
            namespace=NS,
            callback=on_ack,
        )
        result.sent += 1
    deadline = time.perf_counter() + 60  # every message is acknowledged before the next phase
    while result.acked + len(errors) < total and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    if errors:
        print(f"  sender errors: {errors[:3]}", flush=True)


def run(
    name: str,
    servers: list[ServerProcess],
    sender_cookie: str,
    cookies: list[str],
    room_id: int,
    seconds: float,
    rate: float,
    client_procs: int,
    warmup: int = 0,
) -> Result:
    result = Result(name=name, clients=len(cookies), expected=0)
    ctx = mp.get_context("spawn")
    ready, results, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    urls = [s.url for s in servers]
    shares = [cookies[k::client_procs] for k in range(client_procs)]
    procs = [
        ctx.Process(target=client_proc, args=(urls, share, room_id, ready, results, stop), daemon=True)
        for share in shares
    ]
    for proc in procs:
        proc.start()
    try:
        for _ in procs:
            try:
                connected, _failed = ready.get(timeout=300)
            except queue.Empty:
                print("  clients did not connect within 300 s; run skipped", flush=True)
                return result
            result.connected += connected
        time.sleep(1.0)  # let the connection burst settle
        cpu_before = [0.0]

        def measuring() -> None:
            cpu_before[0] = sum(s.cpu_seconds() for s in servers)

        # The same few unmeasured messages for every server first: the first ones after a connection
        # burst are slow everywhere (Node's included) and would otherwise set a 100,000-sample p99.
        phases: list[tuple[str, float, Result, Callable[[], None] | None]] = []
        if warmup:
            phases.append(("warmup", warmup / rate, Result(name="warmup", clients=0), None))
        phases.append(("bench", seconds, result, measuring))
        asyncio.run(_send(servers[0].url, sender_cookie, room_id, phases, rate))
        time.sleep(2.0)  # stragglers
        result.cpu_seconds = sum(s.cpu_seconds() for s in servers) - cpu_before[0]
        stop.set()
        for _ in procs:
            part = results.get(timeout=120)
            result.latencies.extend(part["latencies"])
            result.message_ids.extend(part["message_ids"])
            result.delivered += sum(part["received"])
            result.duplicates += part["duplicates"]
            result.out_of_order += part["out_of_order"]
            result.dropped += part["dropped"]
            result.first_sent = min(result.first_sent, part["first_sent"])
            result.last_received = max(result.last_received, part["last_received"])
    finally:
        stop.set()
        for proc in procs:
            proc.join(30)
            if proc.is_alive():
                proc.kill()
    result.expected = result.connected * result.sent
    result.seconds = max(result.last_received - result.first_sent, 1e-9)
    return result


def check_stored(database_url: str, room_id: int, sent: int) -> str:
    from sqlmodel import Session, col, select

    from server import db
    from server.warrooms.models import WarRoomEvent

    with Session(db.get_engine(database_url)) as session:
        seqs = list(
            session.exec(
                select(WarRoomEvent.seq)
                .where(
                    WarRoomEvent.room_id == room_id,
                    col(WarRoomEvent.client_id).startswith(f"bench-{room_id}-"),
                )
                .order_by(col(WarRoomEvent.seq))
            ).all()
        )
    db.dispose_all()
    contiguous = seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else False
    return f"stored {len(seqs)}/{sent}, seq contiguous: {contiguous}"


def report(r: Result) -> None:
    print(
        f"  {r.name:<28} clients {r.connected:>4}/{r.clients:<4} sent {r.sent:>3} "
        f"delivered {r.delivered / max(r.seconds, 1e-9):>8.0f} msg/s  "
        f"p50 {r.pct(50):6.1f} ms  p95 {r.pct(95):6.1f} ms  p99 {r.pct(99):6.1f} ms  "
        f"cpu {r.cpu_us_per_msg:6.1f} us/msg  loss {r.loss} dup {r.duplicates} reordered {r.out_of_order} dropped {r.dropped}",
        flush=True,
    )
    if r.latencies:
        print(f"    slowest messages, first/median/last delivery ms: {r.slowest()}", flush=True)
        print(f"    first member reached, p50/p99 over messages: {r.first_delivery()} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,1000")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument(
        "--warmup", type=int, default=10, help="unmeasured messages sent first, to every server"
    )
    parser.add_argument("--skip-node", action="store_true")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds per size (reference, ours on one, ours on two processes, in turn); every round's "
        "ratios are printed, then their median",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="warroom-bench-"))
    from bench._common import bench_database, drop_postgres

    database_url, admin_url = bench_database(work)
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    have_node = (
        not args.skip_node and shutil.which("node") and (NODE_DIR / "node_modules" / "socket.io").exists()
    )
    if not args.skip_node and not have_node:
        print(f"(reference skipped: run `npm install` in {NODE_DIR})")
    print(
        f"database {database_url.split('@')[-1]}, redis {redis_url}, {args.rate:g} msg/s for {args.seconds:g} s, "
        f"{args.client_procs} client processes, {os.cpu_count()} cores",
        flush=True,
    )
    rounds = [(size, r) for size in sizes for r in range(args.repeat)]
    owner_cookie, rooms, cookies = prepare_database(database_url, max(sizes), rooms=2 * len(rounds))
    rows: list[tuple[Result, Result | None, Result]] = []
    try:
        for k, (size, r) in enumerate(rounds):
            print(
                f"\n{size} clients in one room" + (f", round {r + 1}" if args.repeat > 1 else ""), flush=True
            )
            reference = None
            if have_node:
                node = start_node(work)
                try:
                    reference = run(
                        "node socket.io (reference)",
                        [node],
                        "",
                        cookies[:size],
                        1,
                        args.seconds,
                        args.rate,
                        args.client_procs,
                        args.warmup,
                    )
                finally:
                    node.stop()
                report(reference)
            results = []
            for n_servers, room_id in ((1, rooms[2 * k]), (2, rooms[2 * k + 1])):
                servers = [start_ours(database_url, redis_url, work) for _ in range(n_servers)]
                try:
                    ours = run(
                        f"ours, {n_servers} process{'es' if n_servers > 1 else ''}",
                        servers,
                        owner_cookie,
                        cookies[:size],
                        room_id,
                        args.seconds,
                        args.rate,
                        args.client_procs,
                        args.warmup,
                    )
                finally:
                    for server in servers:
                        server.stop()
                report(ours)
                print(f"    {check_stored(database_url, room_id, ours.sent)}", flush=True)
                results.append(ours)
            rows.append((results[0], reference, results[1]))
    finally:
        if admin_url:
            drop_postgres(database_url, admin_url)
        shutil.rmtree(work, ignore_errors=True)
    for label, pick in (("1 process", 0), ("2 processes", 2)):
        if not any(ref for _, ref, _ in rows):
            break
        print(f"\nours ({label}) / reference:")
        by_size: dict[int, list[dict[str, float]]] = {}
        for row in rows:
            ours, ref = row[pick], row[1]
            if ref is None:
                continue
            ratios = {
                "p50": ours.pct(50) / ref.pct(50),
                "p95": ours.pct(95) / ref.pct(95),
                "p99": ours.pct(99) / ref.pct(99),
                "cpu/msg": ours.cpu_us_per_msg / ref.cpu_us_per_msg,
                "throughput": ours.delivered / ours.seconds / (ref.delivered / ref.seconds),
            }
            by_size.setdefault(ours.clients, []).append(ratios)
            print(f"  {ours.clients:>5} clients: " + "  ".join(f"{k} {v:4.2f}x" for k, v in ratios.items()))
        if args.repeat > 1:
            for size, runs in by_size.items():
                medians = {k: statistics.median(run[k] for run in runs) for k in runs[0]}
                print(
                    f"  {size:>5} clients, median of {len(runs)} rounds: "
                    + "  ".join(f"{k} {v:4.2f}x" for k, v in medians.items())
                )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)


if __name__ == "__main__":
    main()
