"""The hottest API reads under concurrent clients against ONE real web process (eventlet, the
production entry point wsgi.py) on loopback: home, customer search, customer 360, inbox and the
opportunity feed. Loads a small demo bank into a fresh SQLite file, signs in N RMs (one aiohttp
session each) and has every client loop over the five reads for a fixed time. Prints requests/s and
p50/p95/p99 per endpoint and overall.

    .venv/bin/python bench/api_load.py [--clients 100] [--seconds 20] [--customers 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, fresh_sqlite, random_data_key


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] if ordered else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(directory: Path, customers: int, data_key: str) -> tuple[str, list[tuple[str, list[int]]]]:
    from sqlmodel import Session, select

    from server.customers.models import Customer
    from server.db import get_engine
    from server.demo.generator import load_demo_bank
    from server.org.models import Role, User

    url = fresh_sqlite(directory)
    engine = get_engine(url)
    load_demo_bank(engine, customers=customers, seed=7, data_key=data_key)
    with Session(engine) as session:
        rms = session.exec(select(User).where(User.role == Role.rm, User.is_active)).all()
        users = []
        for rm in rms:
            ids = list(session.exec(select(Customer.id).where(Customer.owner_id == rm.id).limit(20)).all())
            if ids:
                users.append((rm.username, ids))
    engine.dispose()
    return url, users


async def sign_in(http, base: str, username: str) -> float:
    started = time.perf_counter()
    async with http.post(
        f"{base}/api/v1/auth/login", json={"username": username, "password": "demo1234"}
    ) as r:
        await r.read()
        if r.status != 200:
            raise RuntimeError(f"login {username}: {r.status}")
    return time.perf_counter() - started


async def reads(http, base: str, username: str, customer_ids: list[int], until: float, out: dict) -> None:
    import aiohttp

    rng = random.Random(username)
    paths = {
        "home": lambda: "/api/v1/home",
        "search": lambda: f"/api/v1/customers?q={rng.choice(['科技', '制造', 'zh', '贸易', '上海'])}",
        "360": lambda: f"/api/v1/customers/{rng.choice(customer_ids)}/360",
        "inbox": lambda: "/api/v1/inbox",
        "feed": lambda: "/api/v1/opportunities/feed",
    }
    while time.perf_counter() < until:
        for name, path in paths.items():
            started = time.perf_counter()
            try:
                async with http.get(base + path(), timeout=aiohttp.ClientTimeout(total=60)) as r:
                    await r.read()
                    status = r.status
            except Exception as exc:  # noqa: BLE001
                status = type(exc).__name__
            out.setdefault(name, []).append(time.perf_counter() - started)
            if status != 200:
                out.setdefault("errors", []).append(f"{name} {status}")


async def load(base: str, users: list[tuple[str, list[int]]], clients: int, seconds: float) -> dict:
    import aiohttp

    sessions = []
    for _ in range(clients):
        jar = aiohttp.CookieJar(unsafe=True)  # the default jar drops cookies of an IP address host
        sessions.append(aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), cookie_jar=jar))
    out: dict = {}
    try:
        started = time.perf_counter()
        out["sign-in"] = list(
            await asyncio.gather(
                *(sign_in(http, base, users[i % len(users)][0]) for i, http in enumerate(sessions))
            )
        )
        out["_sign_in_s"] = time.perf_counter() - started
        until = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(
            *(reads(http, base, *users[i % len(users)], until, out) for i, http in enumerate(sessions))
        )
        out["_elapsed"] = time.perf_counter() - started
    finally:
        for http in sessions:
            await http.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"))
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="zhanye-api-load-"))
    data_key = random_data_key()
    url, users = prepare(directory, args.customers, data_key)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": args.redis_url,
        "VAR_DIR": str(directory),
        "DATA_KEY": data_key,
        "PORT": str(port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "DEMO_MODE": "true",
        "LOGIN_RATE_PER_MINUTE": "100000",
    }
    log = open(directory / "server.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "wsgi.py")], env=env, cwd=ROOT, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        import requests

        deadline = time.time() + 120
        while time.time() < deadline and server.poll() is None:
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise SystemExit(f"the server did not start: {(directory / 'server.log').read_text()[-2000:]}")
        out = asyncio.run(load(base, users, args.clients, args.seconds))
    finally:
        server.terminate()
        server.wait(10)
    elapsed = out.pop("_elapsed")
    sign_in_s = out.pop("_sign_in_s")
    signed = out.pop("sign-in")
    errors = out.pop("errors", [])
    total = sum(len(v) for v in out.values())
    print(
        f"{args.clients} clients, {args.seconds:.0f} s, {len(users)} RMs, {args.customers} customers, one process"
    )
    print(
        f"  sign-in of all {len(signed)} clients at once: {sign_in_s:.1f} s "
        f"(p50={percentile(signed, 50) * 1000:.0f} ms, max={max(signed) * 1000:.0f} ms)"
    )
    for name, values in out.items():
        print(
            f"  {name:<7} n={len(values):>6}  p50={percentile(values, 50) * 1000:7.0f} ms  "
            f"p95={percentile(values, 95) * 1000:7.0f} ms  p99={percentile(values, 99) * 1000:7.0f} ms"
        )
    every = [v for values in out.values() for v in values]
    print(
        f"  overall {total / elapsed:.0f} req/s  p50={percentile(every, 50) * 1000:.0f} ms  "
        f"p95={percentile(every, 95) * 1000:.0f} ms  p99={percentile(every, 99) * 1000:.0f} ms  errors={len(errors)}"
        + (f" (first: {errors[:3]})" if errors else "")
    )


if __name__ == "__main__":
    main()
