"""Opportunity pool under load: 1,000 RMs connected to /feed, an originator sharing 10 opportunities/s
for 30 s, and 100 RMs racing to claim each one the moment it arrives. Prints p50/p95/p99 share → feed
latency (from the start of the share request to the event at each client), deliveries, claim requests
per second and their outcomes, and double claims (must be zero: checked in the responses and in the
database's transition log).

    .venv/bin/python bench/opportunity_feed.py [--clients 1000] [--claimers 100] [--rate 10] [--seconds 30]

Set-up (not measured): a fresh SQLite database (or BENCH_DATABASE_URL=postgresql://...) built by the
migrations, one signed-in session per RM, the Redis db of BENCH_REDIS_URL (default db 11), the real
web process (`wsgi.py`: eventlet, Flask-SocketIO, Redis message queue). Load clients are asyncio
python-socketio clients on aiohttp (TCPConnector(limit=0)), split over --client-procs processes.
Everything stops by itself; nothing asserts on time."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NS = "/feed"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(url: str, clients: int) -> tuple[tuple[str, str], list[tuple[str, str]]]:
    """Originator + `clients` RMs in one branch, each with a session. Returns the (cookie, csrf)
    of the originator and of each RM."""
    from sqlalchemy import insert, update
    from sqlmodel import Session, select

    from bench._common import migrate
    from server import db
    from server.auth.models import UserSession
    from server.auth.service import hash_password
    from server.opportunities.models import ClaimPolicy
    from server.org.models import Branch, RmProfile, Role, User
    from server.timeutil import utcnow

    migrate(url)
    engine = db.get_engine(url)
    now = utcnow()
    tag = uuid.uuid4().hex[:6]
    with Session(engine, expire_on_commit=False) as session:
        branch = Branch(code=f"OPP{tag}", name="压测支行", city="上海", region_code="310000", latitude=31.2, longitude=121.5)
        session.add(branch)
        session.flush()
        password = hash_password(secrets.token_urlsafe(12))
        rows = [
            {
                "username": f"opp_{tag}_{i}",
                "display_name": f"客户经理{i}",
                "password_hash": password,
                "role": Role.rm,
                "branch_id": branch.id,
                "is_active": True,
                "failed_logins": 0,
                "created_at": now,
            }
            for i in range(clients + 1)
        ]
        session.execute(insert(User), rows)
        ids = list(session.exec(select(User.id).where(User.username.startswith(f"opp_{tag}_")).order_by(User.id)).all())
        session.execute(
            insert(RmProfile),
            [
                {
                    "user_id": uid,
                    "persona": "general",
                    "hire_date": now.date(),
                    "grade": "中级",
                    "qualifications": [],
                    "languages": ["zh"],
                    "home_region": "310000",
                }
                for uid in ids
            ],
        )
        creds = [(secrets.token_urlsafe(32), secrets.token_urlsafe(16)) for _ in ids]
        session.execute(
            insert(UserSession),
            [
                {"id": c, "user_id": uid, "csrf_token": t, "created_at": now, "last_seen_at": now}
                for (c, t), uid in zip(creds, ids, strict=True)
            ],
        )
        # the load is about the race, not the rules: no priority window, no practical cap
        session.execute(
            update(ClaimPolicy).where(ClaimPolicy.id == 1).values(priority_window_minutes=0, max_open_claims=100_000)
        )
        session.commit()
    db.dispose_all()
    return creds[0], creds[1:]


def start_server(database_url: str, redis_url: str, var_dir: Path) -> tuple[subprocess.Popen, str, Path]:
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
        }
    )
    log = var_dir / f"server-{port}.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "wsgi.py")], env=env, cwd=ROOT, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text()[-2000:])
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url, log
        except requests.RequestException:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


# --- load clients -------------------------------------------------------------------------------------


def client_proc(url: str, creds: list[tuple[str, str]], claimers: int, ready, results, stop) -> None:
    asyncio.run(_client_main(url, creds, claimers, ready, results, stop))


async def _client_main(url, creds, claimers, ready, results, stop) -> None:
    import logging

    import aiohttp
    import socketio

    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)
    logging.getLogger("socketio.client").setLevel(logging.ERROR)
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar())
    arrivals: list[tuple[int, float]] = []  # (opportunity id, arrival time) of each "shared" delivery
    claims: list[tuple[int, int, float, float]] = []  # (opportunity id, status, start, end)
    failed = [0]
    gate = asyncio.Semaphore(40)
    tasks: set[asyncio.Task] = set()

    async def claim(n: int, opp_id: int) -> None:
        cookie, csrf = creds[n]
        started = time.time()
        try:
            async with http.post(
                f"{url}/api/v1/opportunities/{opp_id}/claim",
                headers={"Cookie": f"zhanye_session={cookie}", "X-CSRF-Token": csrf},
                timeout=aiohttp.ClientTimeout(total=30),
            ) as response:
                await response.read()
                claims.append((opp_id, response.status, started, time.time()))
        except Exception:
            claims.append((opp_id, -1, started, time.time()))

    def make_client(n: int) -> socketio.AsyncClient:
        # One shared aiohttp session for all sockets: the cookie must ride in per-socket headers
        # (engine.io would move a Cookie header into the shared jar).
        client = socketio.AsyncClient(
            reconnection=False,
            http_session=http,
            websocket_extra_options={"headers": {"Cookie": f"zhanye_session={creds[n][0]}"}},
        )

        @client.on("feed", namespace=NS)
        async def on_feed(data):
            if data.get("kind") != "shared":
                return
            opp_id = data["opportunity"]["id"]
            arrivals.append((opp_id, time.time()))
            if n < claimers:
                task = asyncio.create_task(claim(n, opp_id))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

        return client

    clients = [make_client(n) for n in range(len(creds))]

    async def connect(n: int) -> None:
        async with gate:
            try:
                await clients[n].connect(
                    url,
                    namespaces=[NS],
                    transports=["websocket"],
                    wait_timeout=30,
                )
            except Exception as exc:
                failed[0] += 1
                if failed[0] == 1:
                    print(f"connect failed: {exc!r}", flush=True)

    await asyncio.gather(*(connect(n) for n in range(len(clients))))
    ready.put(len(clients) - failed[0])
    while not stop.is_set():
        await asyncio.sleep(0.2)
    if tasks:
        await asyncio.wait(list(tasks), timeout=30)
    dropped = sum(1 for c in clients if not c.connected) - failed[0]
    results.put({"arrivals": arrivals, "claims": claims, "failed": failed[0], "dropped": dropped})
    await asyncio.gather(*(c.disconnect() for c in clients if c.connected), return_exceptions=True)
    await http.close()


# --- the run --------------------------------------------------------------------------------------------


def share_loop(url: str, cred: tuple[str, str], rate: float, seconds: float) -> dict[int, float]:
    """Shares at a fixed `rate`/s for `seconds` (an open loop: a slow response does not slow the
    schedule); returns opportunity id → time its request started."""
    from concurrent.futures import ThreadPoolExecutor

    http = requests.Session()
    http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=32))
    http.headers.update({"Cookie": f"zhanye_session={cred[0]}", "X-CSRF-Token": cred[1]})

    def one(n: int) -> tuple[int | None, float]:
        began = time.time()
        try:
            response = http.post(
            url + "/api/v1/opportunities",
                json={
                    "title": f"压测商机{n}",
                    "prospect_name": f"潜客{n}",
                    "region_code": "310000",
                    "industry_code": "C36",
                    "visibility": "branch",
                    "estimated_amount_cents": 100_000_00,
                },
                timeout=60,
            )
        except requests.RequestException:
            return None, began
        return (response.json()["id"] if response.status_code == 201 else None), began

    futures = []
    start = time.time()
    with ThreadPoolExecutor(32) as pool:
        n = 0
        while time.time() - start < seconds:
            due = start + n / rate
            if time.time() < due:
                time.sleep(due - time.time())
            futures.append(pool.submit(one, n))
            n += 1
    sent = {}
    failed = 0
    for future in futures:
        opp_id, began = future.result()
        if opp_id is not None:
            sent[opp_id] = began
        else:
            failed += 1
    print(f"shares sent: {len(futures)}, failed or timed out: {failed}", flush=True)
    return sent


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def double_claims_in_db(url: str, opp_ids: list[int]) -> tuple[int, int]:
    from sqlalchemy import func
    from sqlmodel import Session, col, select

    from server import db
    from server.opportunities.models import Opportunity, OpportunityTransition

    engine = db.get_engine(url)
    with Session(engine) as session:
        counts = session.exec(
            select(OpportunityTransition.opportunity_id, func.count())
            .where(col(OpportunityTransition.opportunity_id).in_(opp_ids), OpportunityTransition.to_status == "claimed")
            .group_by(OpportunityTransition.opportunity_id)
        ).all()
        owned = session.exec(
            select(func.count()).select_from(Opportunity).where(col(Opportunity.id).in_(opp_ids), col(Opportunity.owner_id).is_not(None))
        ).one()
    db.dispose_all()
    return sum(1 for _, c in counts if c > 1), owned


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--claimers", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--client-procs", type=int, default=4)
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="opp-bench-"))
    base = os.environ.get("BENCH_DATABASE_URL", "")
    admin_url = None
    if base.startswith("postgres"):
        from bench._common import drop_postgres, fresh_postgres

        url, admin_url = fresh_postgres(base)
    else:
        url = f"sqlite:///{var_dir / 'bench.db'}"
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
    t_setup = time.time()
    originator, rms = prepare(url, args.clients)
    server, server_url, log = start_server(url, redis_url, var_dir)
    procs = []
    try:
        ctx = mp.get_context("spawn")
        ready, results, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
        chunks = [rms[i :: args.client_procs] for i in range(args.client_procs)]
        per_proc_claimers = args.claimers // args.client_procs
        for chunk in chunks:
            proc = ctx.Process(target=client_proc, args=(server_url, chunk, per_proc_claimers, ready, results, stop))
            proc.start()
            procs.append(proc)
        connected = sum(ready.get(timeout=240) for _ in procs)
        print(f"set-up: {time.time() - t_setup:.1f} s; connected {connected}/{args.clients} RMs on {NS}", flush=True)

        import psutil

        watched = {"server": [psutil.Process(server.pid)], "clients": [psutil.Process(p.pid) for p in procs]}

        def cpu(name: str) -> float:
            return sum(p.cpu_times().user + p.cpu_times().system for p in watched[name])

        cpu_before = {name: cpu(name) for name in watched}
        run_start = time.time()
        sent = share_loop(server_url, originator, args.rate, args.seconds)
        share_end = time.time()
        time.sleep(5)  # let the last events and claims land
        elapsed = time.time() - run_start
        cpu_used = {name: (cpu(name) - cpu_before[name]) / elapsed for name in watched}
        stop.set()
        outs = [results.get(timeout=120) for _ in procs]
        for proc in procs:
            proc.join(30)
    finally:
        stop.set() if "stop" in locals() else None
        for proc in procs:
            if proc.is_alive():
                proc.kill()
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()

    latencies = []
    deliveries = 0
    for out in outs:
        for opp_id, at in out["arrivals"]:
            if opp_id in sent:
                deliveries += 1
                latencies.append((at - sent[opp_id]) * 1000)
    claims = [c for out in outs for c in out["claims"] if c[0] in sent]
    wins: dict[int, int] = {}
    for opp_id, status, _s, _e in claims:
        if status == 200:
            wins[opp_id] = wins.get(opp_id, 0) + 1
    conflicts = sum(1 for c in claims if c[1] == 409)
    other = sum(1 for c in claims if c[1] not in (200, 409))
    claim_span = (max(c[3] for c in claims) - min(c[2] for c in claims)) if claims else float("nan")
    claim_latency = [(e - s) * 1000 for _o, _st, s, e in claims]
    doubles_db, owned = double_claims_in_db(url, list(sent))
    expected = len(sent) * connected
    print(f"shares: {len(sent)} sent over {args.seconds:.0f} s at {args.rate:g}/s; all answered after {share_end - run_start:.1f} s")
    print(
        f"share → feed latency (ms, request start → client): p50 {pct(latencies, 50):.0f}  "
        f"p95 {pct(latencies, 95):.0f}  p99 {pct(latencies, 99):.0f}  max {max(latencies or [0]):.0f}"
    )
    print(f"sockets dropped during the run (server too busy to answer pings): {sum(o['dropped'] for o in outs)}")
    print(f"deliveries: {deliveries}/{expected} ({100 * deliveries / max(expected, 1):.2f}%)")
    print(
        f"claims: {len(claims)} requests in {claim_span:.1f} s = {len(claims) / claim_span:.0f}/s; "
        f"200: {sum(wins.values())}, 409: {conflicts}, other: {other}; "
        f"claim latency p50 {pct(claim_latency, 50):.0f} ms p99 {pct(claim_latency, 99):.0f} ms"
    )
    print(
        f"opportunities won by exactly one RM: {sum(1 for v in wins.values() if v == 1)}/{len(sent)}; "
        f"double claims in responses: {sum(1 for v in wins.values() if v > 1)}; "
        f"in the database: {doubles_db}; owned in DB: {owned}"
    )
    print(
        f"CPU during the run (cores): server {cpu_used['server']:.2f}, load clients {cpu_used['clients']:.2f}; "
        f"machine has {os.cpu_count()} cores, 1-min load average at the end {os.getloadavg()[0]:.1f}"
    )
    print(f"server log: {log}")
    if admin_url:
        drop_postgres(url, admin_url)


if __name__ == "__main__":
    main()
