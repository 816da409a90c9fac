"""Campaign bulk: a wholesale room of 50 members (all connected to /warroom) takes 5,000 targets from
one CSV list in one request, then 1,000 of them are moved a stage in one request. Prints, for each
step: the time to commit, how long until every member's socket had every event, the web process's
CPU for the step, the p50/p99 over (event, member) of the delay from the commit (bounded by the
first receipt: events leave only after it) to each receipt, the per-event p99 of the slowest member,
messages and KB per member, and loss (events a member never got), duplicates and out-of-order
receipts. Goals from the issue: bulk add <= 3 s, fan-out p99 <= 500 ms, zero loss. Nothing asserts
on time.

    .venv/bin/python bench/campaign_bulk.py [--targets 5000] [--members 50] [--move 1000] [--customers 0]
                                            [--client-procs 4]

--customers N makes N of the list's rows the owner's own customers (by 客户编号): each is lent to
every member (N x 49 audited grants in the same transaction); the rest are prospects by name.
The members' sockets are spread over --client-procs processes (see members_proc).
Set-up (not measured): a fresh SQLite database (BENCH_DATABASE_URL=postgresql://... for PostgreSQL),
the Redis db of BENCH_REDIS_URL (default db 14), our server (`wsgi.py`, eventlet) in a subprocess.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the project root

from bench._common import ROOT, bench_branch, bench_database, bulk_rms, bulk_sessions, drop_postgres
from bench.warroom_fanout import NS, start_ours


def prepare(url: str, members: int, customers: int) -> tuple[int, list[tuple[str, str]], list[int]]:
    """Migrates; an owner and members-1 RMs with sessions, one wholesale room, `customers` of the owner's."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import insert
    from sqlmodel import Session

    from server import db
    from server.auth.service import hash_password
    from server.customers.models import CorporateProfile, Customer, CustomerKind
    from server.org.models import Role, User
    from server.timeutil import utcnow
    from server.warrooms import rooms
    from server.warrooms.models import MemberRole, MemberStatus, WarRoomMember
    from server.warrooms.schemas import RoomCreate
    from tests.factories import credit_code

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = url
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "heads")
    engine = db.get_engine(url)
    now = utcnow()
    tag = uuid.uuid4().hex[:6]
    with Session(engine, expire_on_commit=False) as session:
        branch = bench_branch(session, code=f"CAMP{tag}")
        password = hash_password(secrets.token_urlsafe(12))
        owner = User(
            username=f"camp_owner_{tag}",
            display_name="牵头人",
            password_hash=password,
            role=Role.rm,
            branch_id=branch.id,
        )
        session.add(owner)
        session.commit()
        member_ids = bulk_rms(
            session,
            branch_id=branch.id,
            prefix=f"camp_{tag}_",
            display="成员",
            count=members - 1,
            password_hash=password,
        )
        room = rooms.create_room(
            session,
            user=owner,
            ip=None,
            data=RoomCreate(title="批发销售压测", kind="wholesale", mode="joint"),
        )
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
        customer_ids = []
        if customers:
            rows = [
                Customer(
                    kind=CustomerKind.corporate,
                    name=f"压测客户{tag}{i}有限公司",
                    name_initials="yckh",
                    owner_id=owner.id,
                    branch_id=branch.id,
                )
                for i in range(customers)
            ]
            session.add_all(rows)
            session.flush()
            session.add_all(CorporateProfile(customer_id=c.id, credit_code=credit_code()) for c in rows)
            customer_ids = [c.id for c in rows]
        creds = bulk_sessions(session, [owner.id, *member_ids])
        session.commit()
        room_id = room.id
    db.dispose_all()
    return room_id, creds, customer_ids


# --- members: sockets in client processes -------------------------------------------------------------
# One asyncio process decoding every member's messages was the bottleneck of the first measurements
# (5,000 events x 50 members of JSON to parse and unpack): the members are spread over several
# processes, each stamping a message when it arrives (reading only which seqs it holds) and decoding,
# expanding and checking it (each seq once, in order) after the step, so the figures measure the
# server and the network rather than the load client (a member's phone decodes its own messages).


BATCH_HEAD = re.compile(rf'42{NS},\["batch",\{{"room_id":\d+,"first_seq":(?P<seq>\d+),"count":(?P<count>\d+)')
EVENT_HEAD = re.compile(rf'42{NS},\["event",\{{"room_id":\d+,"seq":(?P<seq>\d+)(?P<count>)')


def members_proc(base_url: str, cookies: list[str], room_id: int, ready, control, results) -> None:
    asyncio.run(_members(base_url, cookies, room_id, ready, control, results))


async def _members(base_url: str, cookies: list[str], room_id: int, ready, control, results) -> None:
    import aiohttp

    from server.warrooms.eventlog import expand_batch

    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar())
    prefix = f"42{NS},"
    inbox: list[list[tuple[float, str]]] = [[] for _ in cookies]  # per member: (arrival, message)
    have: list[set[int]] = [set() for _ in cookies]

    async def member(n: int) -> None:
        ws_url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        ws = await http.ws_connect(
            ws_url, headers={"Cookie": f"zhanye_session={cookies[n]}"}, heartbeat=None, max_msg_size=0
        )
        await ws.receive_str(timeout=60)
        await ws.send_str(f"40{NS},")
        while not (await ws.receive_str(timeout=60)).startswith(f"40{NS},"):
            pass
        await ws.send_str(f"42{NS},1" + json.dumps(["join", {"room_id": room_id, "last_seq": 10**9}]))
        while not (await ws.receive_str(timeout=60)).startswith(f"43{NS},1"):
            pass
        ready.put(1)
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            if msg.data == "2":
                await ws.send_str("3")
                continue
            at = time.time()
            # Which seqs arrived, read from the head of the message (our server writes these keys
            # first); the message itself is decoded and checked after the step.
            head = BATCH_HEAD.match(msg.data) or EVENT_HEAD.match(msg.data)
            if head is None:
                continue
            first = int(head["seq"])
            have[n].update(range(first, first + int(head["count"] or 1)))
            inbox[n].append((at, msg.data))

    tasks = [asyncio.create_task(member(n)) for n in range(len(cookies))]
    loop = asyncio.get_running_loop()
    while True:
        order = await loop.run_in_executor(None, control.get)
        if order is None:
            break
        first, last = order
        wanted = set(range(first, last + 1))
        deadline = time.time() + 60
        while time.time() < deadline and any(not wanted <= h for h in have):
            await asyncio.sleep(0.02)
        out = []
        for n in range(len(cookies)):
            receipts: dict[int, float] = {}
            duplicates = out_of_order = wire = messages = 0
            previous = 0
            for at, raw in inbox[n]:
                name, data = json.loads(raw[len(prefix) :])
                wire, messages = wire + len(raw.encode()), messages + 1
                for event in expand_batch(data) if name == "batch" else [data]:
                    seq = event["seq"]
                    if not (first <= seq <= last):
                        continue
                    if seq in receipts:
                        duplicates += 1
                        continue
                    out_of_order += seq <= previous
                    previous = max(previous, seq)
                    receipts[seq] = at
            inbox[n].clear()
            out.append((receipts, duplicates, out_of_order, wire, messages))
        results.put(out)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await http.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux): a figure the shared host's load does not inflate."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(
    base_url: str,
    room_id: int,
    creds: list[tuple[str, str]],
    targets: int,
    move: int,
    customer_ids: list[int],
    procs: int,
    server_pid: int,
) -> None:
    import multiprocessing as mp

    import requests

    ctx = mp.get_context("spawn")
    ready, results = ctx.Queue(), ctx.Queue()
    controls = []
    workers = []
    for p in range(procs):
        control = ctx.Queue()
        cookies = [c for c, _ in creds[p::procs]]
        worker = ctx.Process(target=members_proc, args=(base_url, cookies, room_id, ready, control, results))
        worker.start()
        controls.append(control)
        workers.append(worker)
    for _ in creds:
        ready.get(timeout=120)
    owner_cookie, owner_csrf = creds[0]
    http = requests.Session()
    http.headers.update({"Cookie": f"zhanye_session={owner_cookie}", "X-CSRF-Token": owner_csrf})

    rows = ["客户编号,客户名称"] + [f"{c}," for c in customer_ids]
    rows += [f",批发名单{uuid.uuid4().hex[:8]}{i}有限公司" for i in range(targets - len(customer_ids))]
    content = base64.b64encode("\n".join(rows).encode("utf-8-sig")).decode()
    body = {
        "client_key": uuid.uuid4().hex,
        "source": {"type": "file", "filename": "名单.csv", "content_base64": content},
    }

    def step(name: str, path: str, payload: dict, expected_key: str) -> None:
        cpu_before = cpu_seconds(server_pid)
        started = time.time()
        response = http.post(base_url + path, json=payload)
        answered = time.time()
        result = response.json()
        if response.status_code >= 300:
            raise RuntimeError(result)
        first, last = result["first_seq"], result["last_seq"]
        seqs = list(range(first, last + 1))
        for control in controls:
            control.put((first, last))
        members = [m for _ in controls for m in results.get(timeout=120)]
        cpu = cpu_seconds(server_pid) - cpu_before
        receipts = [m[0] for m in members]
        # The events leave after the commit: the earliest receipt of any of them bounds the commit.
        committed = min([answered] + [r[s] for r in receipts for s in seqs if s in r])
        delays = [max(r[s] - committed, 0.0) for r in receipts for s in seqs if s in r]
        per_event = [max((r[s] for r in receipts if s in r), default=committed) - committed for s in seqs]
        lost = sum(1 for r in receipts for s in seqs if s not in r)
        everyone = max((r[s] for r in receipts for s in seqs if s in r), default=committed) - started
        q = statistics.quantiles(delays, n=100) if len(delays) > 1 else [0.0] * 99
        qe = statistics.quantiles(per_event, n=100) if len(per_event) > 1 else [0.0] * 99
        print(f"\n{name}: {result[expected_key]} targets, seqs {first}..{last} ({len(seqs)} events)")
        print(
            f"  time to commit (request start -> first receipt): {committed - started:.3f} s; "
            f"answer after {answered - started:.3f} s"
        )
        print(f"  until every member had every event (from request start): {everyone:.3f} s")
        print(f"  server process CPU for the step (request and fan-out): {cpu:.2f} s")
        print(
            f"  commit -> receipt over {len(delays)} (event, member) pairs: "
            f"p50 {q[49] * 1000:.0f} ms, p99 {q[98] * 1000:.0f} ms"
        )
        print(f"  slowest member per event: p50 {qe[49] * 1000:.0f} ms, p99 {qe[98] * 1000:.0f} ms")
        print(
            f"  on the wire: {sum(m[4] for m in members) / len(members):.0f} messages and "
            f"{sum(m[3] for m in members) / len(members) / 1024:.0f} KB per member"
        )
        print(
            f"  lost {lost}, duplicates {sum(m[1] for m in members)}, "
            f"out of order {sum(m[2] for m in members)}"
        )

    try:
        step(
            "bulk add",
            f"/api/v1/war-rooms/{room_id}/targets/bulk",
            body,
            "prospects" if not customer_ids else "found",
        )
        detail = http.get(base_url + f"/api/v1/war-rooms/{room_id}").json()
        ids = sorted(t["id"] for t in detail["targets"])[:move]
        step(
            "bulk move",
            f"/api/v1/war-rooms/{room_id}/targets/move",
            {"client_key": uuid.uuid4().hex, "target_ids": ids, "stage": "contacted"},
            "moved",
        )
    finally:
        for control in controls:
            control.put(None)
        for worker in workers:
            worker.join(10)
            if worker.is_alive():
                worker.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--targets", type=int, default=5000)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--move", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=0)
    parser.add_argument("--client-procs", type=int, default=4, help="processes holding the members' sockets")
    args = parser.parse_args()

    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    with tempfile.TemporaryDirectory() as tmp:
        var_dir = Path(tmp)
        url, admin_url = bench_database(var_dir)
        room_id, creds, customer_ids = prepare(url, args.members, args.customers)
        server = start_ours(url, redis_url, var_dir)
        try:
            print(
                f"room {room_id}: {args.members} members connected to /warroom; {args.targets} targets "
                f"({len(customer_ids)} own customers lent to every member), then {args.move} moved"
            )
            run(
                server.url,
                room_id,
                creds,
                args.targets,
                args.move,
                customer_ids,
                args.client_procs,
                server.proc.pid,
            )
        finally:
            server.stop()
            if admin_url:
                drop_postgres(url, admin_url)
    try:
        load = os.getloadavg()
        print(f"\nload average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores shared)")
    except OSError:
        pass


if __name__ == "__main__":
    main()
