"""问展业: exact-intent accuracy over the labelled query set (development and held-out parts printed
separately) and the latency of `GET /api/v1/ask` over a demo bank of 100,000 customers, through the
Flask test client (warm), for the RM with the biggest book. Goals: accuracy >= 90 %, p95 <= 100 ms.

    .venv/bin/python bench/ask.py [--customers N] [--repeat R] [--db PATH]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date
from pathlib import Path

from _common import ROOT, fresh_sqlite, peak_rss_mb, random_data_key

SETS = ROOT / "tests" / "server" / "assistant"


def load(name: str) -> list[tuple[str, str]]:
    rows = []
    for line in (SETS / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            intent, query = line.split("\t")
            rows.append((intent, query))
    return rows


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each query")
    parser.add_argument("--db", type=Path, default=None, help="reuse an already loaded SQLite file")
    args = parser.parse_args()

    from sqlmodel import Session, func, select

    from server import create_app, db
    from server.assistant.ask_lexicon import Vocabulary
    from server.assistant.ask_parse import parse
    from server.customers.models import Customer
    from server.demo import catalog, traits
    from server.demo.generator import DEMO_PASSWORD, load_demo_bank
    from server.org.models import User

    products = [(i + 1, p["code"], p["name"], p["category"]) for i, p in enumerate(catalog.PRODUCTS)]
    vocab = Vocabulary.build(products=products, tags=[t for t, _ in traits.TAGS])
    for name in ("ask_dev.tsv", "ask_holdout.tsv"):
        rows = load(name)
        right = sum(parse(q, vocab=vocab, today=date(2026, 12, 4)).intent == want for want, q in rows)
        print(f"exact intent {name:16s} {right}/{len(rows)} = {right / len(rows):.1%} (goal >= 90%)")
    queries = load("ask_dev.tsv") + load("ask_holdout.tsv")

    with tempfile.TemporaryDirectory(prefix="zhanye-ask-") as tmp:
        data_key = random_data_key()
        if args.db and args.db.exists():
            url, data_key = f"sqlite:///{args.db}", ""
        else:
            url = fresh_sqlite(
                args.db.parent if args.db else Path(tmp), args.db.name if args.db else "ask.db"
            )
            started = time.perf_counter()
            load_demo_bank(db.get_engine(url), customers=args.customers, seed=7, data_key=data_key)
            print(f"loaded {args.customers:,} customers in {time.perf_counter() - started:.0f}s", flush=True)
        config = {
            "DATABASE_URL": url,
            "VAR_DIR": Path(tmp) / "var",
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "TESTING": True,
            "ASYNC_MODE": "threading",
            "LOGIN_RATE_PER_MINUTE": 100000,
        }
        if data_key:
            config["DATA_KEY"] = data_key
        app = create_app(config)
        with Session(db.engine_for(app)) as session:
            total = session.exec(select(func.count()).select_from(Customer)).one()
            owner_id, book = session.exec(
                select(Customer.owner_id, func.count())
                .group_by(Customer.owner_id)
                .order_by(func.count().desc())
            ).first()
            username = session.get(User, owner_id).username
        client = app.test_client()
        response = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 200, response.get_data(as_text=True)
        print(f"{total:,} customers; {username} holds {book:,}")
        times: list[float] = []
        cpu_times: list[float] = []  # CPU time of the request: what it costs, whatever else runs here
        by_intent: dict[str, list[float]] = {}
        for intent, q in queries:
            warm = client.get("/api/v1/ask", query_string={"q": q})
            assert warm.status_code == 200, (q, warm.get_data(as_text=True))
            for _ in range(args.repeat):
                started, cpu = time.perf_counter(), time.process_time()
                response = client.get("/api/v1/ask", query_string={"q": q})
                elapsed = (time.perf_counter() - started) * 1000
                cpu_times.append((time.process_time() - cpu) * 1000)
                assert response.status_code == 200
                times.append(elapsed)
                by_intent.setdefault(intent, []).append(elapsed)
        for intent, values in sorted(by_intent.items()):
            print(
                f"  {intent:14s} n={len(values):4d} p50 {percentile(values, 50):6.1f} ms  p95 {percentile(values, 95):6.1f} ms"
            )
        print(
            f"all {len(times)} requests: p50 {percentile(times, 50):.1f} ms, p95 {percentile(times, 95):.1f} ms (goal <= 100 ms), max {max(times):.1f} ms"
        )
        print(
            f"CPU time per request: p50 {percentile(cpu_times, 50):.1f} ms, p95 {percentile(cpu_times, 95):.1f} ms"
        )
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
