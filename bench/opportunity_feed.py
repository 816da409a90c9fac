"""Opportunity pool under load: 1,000 RMs connected to /feed, an originator sharing 10 opportunities/s
for 30 s, and 100 RMs racing to claim each one the moment it arrives (over the /feed socket, or over
HTTP with --claim-via http). Prints p50/p95/p99 share → feed latency (from the start of the share
request to the event at each client), deliveries, dropped sockets, claims answered per second and
their outcomes, and double claims (must be zero: checked in the responses and in the database's
transition log), with CPU and the load average.

    .venv/bin/python bench/opportunity_feed.py [--clients 1000] [--claimers 100] [--rate 10] [--seconds 30]
        [--web-procs 2] [--client-procs 2] [--claim-via socket|http]

Set-up (not measured): a fresh SQLite database (or BENCH_DATABASE_URL=postgresql://...) built by the
migrations, one signed-in session per RM, the Redis db of BENCH_REDIS_URL (default db 11), and
--web-procs real web processes (`wsgi.py`: eventlet, Flask-SocketIO, Redis message queue) on their
own ports, clients spread over them as a load balancer would. Load clients speak the Socket.IO
protocol over aiohttp websockets (TCPConnector(limit=0)), split over --client-procs processes.
Everything stops by itself; nothing asserts on time."""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import re
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
    from sqlmodel import Session

    from bench._common import bench_branch, bulk_rms, bulk_sessions, migrate
    from server import db
    from server.auth.service import hash_password
    from server.opportunities.models import ClaimPolicy
    from server.org.models import RmProfile
    from server.timeutil import utcnow

    migrate(url)
    engine = db.get_engine(url)
    now = utcnow()
    tag = uuid.uuid4().hex[:6]
    with Session(engine, expire_on_commit=False) as session:
        branch = bench_branch(session, code=f"OPP{tag}")
        password = hash_password(secrets.token_urlsafe(12))
        ids = bulk_rms(
            session,
            branch_id=branch.id,
            prefix=f"opp_{tag}_",
            display="客户经理",
            count=clients + 1,
            password_hash=password,
        )
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
        creds = bulk_sessions(session, ids)
        # the load is about the race, not the rules: no priority window, no practical cap
        session.execute(
            update(ClaimPolicy)
            .where(ClaimPolicy.id == 1)
            .values(priority_window_minutes=0, max_open_claims=100_000)
        )
        session.commit()
    db.dispose_all()
    return creds[0], creds[1:]


def start_server(database_url: str, redis_url: str, var_dir: Path) -> tuple[subprocess.Popen, str, Path]:
    """One web process (`wsgi.py`) on its own port; several share the Redis message queue, as
    behind a load balancer."""
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
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "wsgi.py")], env=env, cwd=ROOT, stdout=out, stderr=out
        )
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
# Each RM is a raw Engine.IO 4 / Socket.IO 5 websocket on aiohttp, speaking the protocol directly
# (open, namespace connect, ping/pong, events, acknowledgements): the same frames a browser's
# socket.io-client exchanges, at a fraction of a full client library's CPU, so a 2-core box can
# run 1,000 of them next to the servers. Every delivered frame is still read and timed.

FEED_HEAD = re.compile(
    r'^42/feed,\["feed",\{"seq": ?(\d+), ?"kind": ?"(\w+)".*?"opportunity": ?\{"id": ?(\d+)'
)


def client_proc(
    urls: list[str], creds: list[tuple[str, str]], claimers: int, claim_via: str, ready, results, stop
) -> None:
    asyncio.run(_client_main(urls, creds, claimers, claim_via, ready, results, stop))


async def _client_main(urls, creds, claimers, claim_via, ready, results, stop) -> None:
    import aiohttp

    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar())
    arrivals: list[tuple[int, float]] = []  # (opportunity id, arrival time) of each "shared" delivery
    claims: list[tuple[int, int, float, float, str]] = []  # (opportunity id, status, start, end, code)
    failed = [0]
    gate = asyncio.Semaphore(40)
    tasks: set[asyncio.Task] = set()  # sockets and HTTP claims
    http_claims: set[asyncio.Task] = set()
    sockets: list[dict] = []

    def track(coro, group: set) -> None:
        task = asyncio.create_task(coro)
        group.add(task)
        task.add_done_callback(group.discard)

    async def claim_http(n: int, url: str, opp_id: int) -> None:
        cookie, csrf = creds[n]
        started = time.time()
        try:
            async with http.post(
                f"{url}/api/v1/opportunities/{opp_id}/claim",
                headers={"Cookie": f"zhanye_session={cookie}", "X-CSRF-Token": csrf},
                timeout=aiohttp.ClientTimeout(total=30),
            ) as response:
                body = await response.json(content_type=None)
                claims.append((opp_id, response.status, started, time.time(), body.get("code", "")))
        except Exception:
            claims.append((opp_id, -1, started, time.time(), "timeout"))

    async def run_socket(n: int, url: str, connected: asyncio.Future) -> None:
        state = {
            "ws": None,
            "last_ping": time.time(),
            "closed": False,
            "acks": {},
            "next_ack": 0,
            "limit": 45.0,
        }
        sockets.append(state)
        try:
            async with gate:
                ws = await http.ws_connect(
                    url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
                    headers={"Cookie": f"zhanye_session={creds[n][0]}"},
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5),
                    autoping=False,
                    max_msg_size=0,
                )
                state["ws"] = ws
                opened = await asyncio.wait_for(ws.receive_str(), 30)
                info = json.loads(opened[1:])
                state["limit"] = (info["pingInterval"] + info["pingTimeout"]) / 1000
                await ws.send_str(f"40{NS},")
                reply = await asyncio.wait_for(ws.receive_str(), 30)
                while reply == "2":
                    await ws.send_str("3")
                    reply = await asyncio.wait_for(ws.receive_str(), 30)
                if not reply.startswith(f"40{NS},"):
                    raise RuntimeError(f"namespace refused: {reply[:200]}")
            connected.set_result(True)
        except Exception as exc:
            state["closed"] = True
            connected.set_exception(exc)
            return
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            data = msg.data
            if data == "2":
                state["last_ping"] = time.time()
                await ws.send_str("3")
            elif data.startswith("42/feed,"):
                at = time.time()
                head = FEED_HEAD.match(data)
                if head:
                    kind, opp_id = head.group(2), int(head.group(3))
                else:  # not the usual layout: read it properly
                    event = json.loads(data[len("42/feed,") :])[1]
                    kind, opp_id = event["kind"], event["opportunity"]["id"]
                if kind != "shared":
                    continue
                arrivals.append((opp_id, at))
                if n < claimers:
                    if claim_via == "http":
                        track(claim_http(n, url, opp_id), http_claims)
                    else:
                        state["next_ack"] += 1
                        state["acks"][state["next_ack"]] = (opp_id, time.time())
                        await ws.send_str(
                            f'42/feed,{state["next_ack"]}["claim",{{"opportunity_id":{opp_id}}}]'
                        )
            elif data.startswith("43/feed,"):
                body = data[len("43/feed,") :]
                ack_id, _, rest = body.partition("[")
                opp_id, started = state["acks"].pop(int(ack_id))
                answer = json.loads("[" + rest)[0]
                status = 200 if answer.get("ok") else int(answer.get("status") or -1)
                claims.append((opp_id, status, started, time.time(), answer.get("code", "")))
            elif data.startswith("41/feed") or data == "1":
                break
        state["closed"] = True

    connects = []
    for n in range(len(creds)):
        future = asyncio.get_running_loop().create_future()
        track(run_socket(n, urls[n % len(urls)], future), tasks)
        connects.append(future)
    outcomes = await asyncio.gather(*connects, return_exceptions=True)
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    failed[0] = len(failures)
    if failures:
        print(f"connect failed: {failures[0]!r}", flush=True)
    ready.put(len(creds) - failed[0])
    while not stop.is_set():
        await asyncio.sleep(0.2)
    # wait for outstanding claim answers (HTTP tasks, socket acks)
    deadline = time.time() + 30
    while time.time() < deadline and (http_claims or any(s["acks"] for s in sockets)):
        await asyncio.sleep(0.2)
    for s in sockets:
        for opp_id, started in s["acks"].values():
            claims.append((opp_id, -1, started, time.time(), "timeout"))
    now = time.time()
    # dropped: closed by the server, or (as a Socket.IO client would decide) no ping for too long
    dropped = sum(
        1 for s in sockets if s["ws"] is not None and (s["closed"] or now - s["last_ping"] > s["limit"])
    )
    results.put({"arrivals": arrivals, "claims": claims, "failed": failed[0], "dropped": dropped})
    for s in sockets:
        if s["ws"] is not None and not s["ws"].closed:
            await s["ws"].close()
    await http.close()


# --- the run --------------------------------------------------------------------------------------------


def share_loop(urls: list[str], cred: tuple[str, str], rate: float, seconds: float) -> dict[int, float]:
    """Shares at a fixed `rate`/s for `seconds` (an open loop: a slow response does not slow the
    schedule), round-robin over the web processes; returns opportunity id → time its request
    started."""
    from concurrent.futures import ThreadPoolExecutor

    from bench._common import shared_lead

    http = requests.Session()
    http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=32))
    http.headers.update({"Cookie": f"zhanye_session={cred[0]}", "X-CSRF-Token": cred[1]})

    def one(n: int) -> tuple[int | None, float]:
        began = time.time()
        try:
            response = http.post(
                urls[n % len(urls)] + "/api/v1/opportunities",
                json=shared_lead(n),
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
            .where(
                col(OpportunityTransition.opportunity_id).in_(opp_ids),
                OpportunityTransition.to_status == "claimed",
            )
            .group_by(OpportunityTransition.opportunity_id)
        ).all()
        owned = session.exec(
            select(func.count())
            .select_from(Opportunity)
            .where(col(Opportunity.id).in_(opp_ids), col(Opportunity.owner_id).is_not(None))
        ).one()
    db.dispose_all()
    return sum(1 for _, c in counts if c > 1), owned


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--claimers", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--web-procs", type=int, default=2, help="web processes on the shared Redis queue")
    parser.add_argument("--claim-via", choices=("socket", "http"), default="socket")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="opp-bench-"))
    from bench._common import bench_database, drop_postgres

    url, admin_url = bench_database(var_dir)
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
    t_setup = time.time()
    originator, rms = prepare(url, args.clients)
    servers = [start_server(url, redis_url, var_dir) for _ in range(args.web_procs)]
    server_urls = [u for _p, u, _l in servers]
    procs = []
    try:
        ctx = mp.get_context("spawn")
        ready, results, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
        # RM n connects to web process n % web-procs (a load balancer's spread); claimers first
        chunks = [rms[i :: args.client_procs] for i in range(args.client_procs)]
        per_proc_claimers = args.claimers // args.client_procs
        for chunk in chunks:
            proc = ctx.Process(
                target=client_proc,
                args=(server_urls, chunk, per_proc_claimers, args.claim_via, ready, results, stop),
            )
            proc.start()
            procs.append(proc)
        connected = sum(ready.get(timeout=240) for _ in procs)
        print(
            f"set-up: {time.time() - t_setup:.1f} s; connected {connected}/{args.clients} RMs on {NS} "
            f"over {args.web_procs} web process(es); claims over {args.claim_via}",
            flush=True,
        )

        import psutil

        watched = {
            "servers": [psutil.Process(p.pid) for p, _u, _l in servers],
            "clients": [psutil.Process(p.pid) for p in procs],
        }

        def cpu(name: str) -> float:
            return sum(p.cpu_times().user + p.cpu_times().system for p in watched[name])

        cpu_before = {name: cpu(name) for name in watched}
        run_start = time.time()
        sent = share_loop(server_urls, originator, args.rate, args.seconds)
        share_end = time.time()
        time.sleep(5)  # let the last events and claims land
        elapsed = time.time() - run_start
        cpu_used = {name: (cpu(name) - cpu_before[name]) / elapsed for name in watched}
        load_at_end = os.getloadavg()
        stop.set()
        outs = [results.get(timeout=120) for _ in procs]
        for proc in procs:
            proc.join(30)
    finally:
        stop.set() if "stop" in locals() else None
        for proc in procs:
            if proc.is_alive():
                proc.kill()
        for server, _u, _l in servers:
            server.terminate()
        for server, _u, _l in servers:
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
    for opp_id, status, *_rest in claims:
        if status == 200:
            wins[opp_id] = wins.get(opp_id, 0) + 1
    conflicts = sum(1 for c in claims if c[1] == 409)
    other = [c for c in claims if c[1] not in (200, 409)]
    other_codes = sorted({f"{c[1]} {c[4]}" for c in other})[:5]
    claim_span = (max(c[3] for c in claims) - min(c[2] for c in claims)) if claims else float("nan")
    claim_latency = [(c[3] - c[2]) * 1000 for c in claims]
    doubles_db, owned = double_claims_in_db(url, list(sent))
    expected = len(sent) * connected
    print(
        f"shares: {len(sent)} sent over {args.seconds:.0f} s at {args.rate:g}/s; all answered after {share_end - run_start:.1f} s"
    )
    print(
        f"share → feed latency (ms, request start → client): p50 {pct(latencies, 50):.0f}  "
        f"p95 {pct(latencies, 95):.0f}  p99 {pct(latencies, 99):.0f}  max {max(latencies or [0]):.0f}"
    )
    print(
        f"sockets dropped during the run (server too busy to answer pings): {sum(o['dropped'] for o in outs)}"
    )
    print(f"deliveries: {deliveries}/{expected} ({100 * deliveries / max(expected, 1):.2f}%)")
    print(
        f"claims over {args.claim_via}: {len(claims)} answered in {claim_span:.1f} s = {len(claims) / claim_span:.0f}/s; "
        f"200: {sum(wins.values())}, 409: {conflicts}, other: {len(other)} {other_codes if other else ''}; "
        f"claim latency p50 {pct(claim_latency, 50):.0f} ms p99 {pct(claim_latency, 99):.0f} ms"
    )
    print(
        f"opportunities won by exactly one RM: {sum(1 for v in wins.values() if v == 1)}/{len(sent)}; "
        f"double claims in responses: {sum(1 for v in wins.values() if v > 1)}; "
        f"in the database: {doubles_db}; owned in DB: {owned}"
    )
    print(
        f"CPU during the run (cores): {args.web_procs} web process(es) {cpu_used['servers']:.2f}, "
        f"load clients {cpu_used['clients']:.2f}; machine has {os.cpu_count()} cores; "
        "load average at the end (1/5/15 min) " + " ".join(f"{v:.1f}" for v in load_at_end)
    )
    print(f"server logs: {' '.join(str(log) for _p, _u, log in servers)}")
    if admin_url:
        drop_postgres(url, admin_url)


if __name__ == "__main__":
    main()
