"""Learning endpoints' latency over a demo bank: loads N demo customers (and the features' demo data,
the learning history included) into a fresh SQLite file, then times the case cards for the whole book
and for one customer, the playbook and the quiz round, as `rm_newcomer` and `rm_super`, through the
Flask test client (warm). Prints p50/p95 per endpoint and user.

    .venv/bin/python bench/learning.py [--customers N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from _common import fresh_sqlite, random_data_key


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()

    from sqlmodel import Session, col, select

    from server import create_app, db
    from server.customers.models import Customer
    from server.demo.features import seed_features
    from server.demo.generator import DEMO_PASSWORD, load_demo_bank
    from server.org.models import User

    with tempfile.TemporaryDirectory(prefix="zhanye-learning-") as tmp:
        data_key = random_data_key()
        url = fresh_sqlite(Path(tmp), "learning.db")
        started = time.perf_counter()
        load_demo_bank(db.get_engine(url), customers=args.customers, seed=7, data_key=data_key)
        config = {
            "DATABASE_URL": url,
            "VAR_DIR": Path(tmp) / "var",
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "TESTING": True,
            "ASYNC_MODE": "threading",
            "LOGIN_RATE_PER_MINUTE": 100000,
            "DATA_KEY": data_key,
        }
        app = create_app(config)
        with app.app_context(), Session(db.engine_for(app)) as session:
            added = seed_features(session, seed=7)["learning"]
        print(
            f"loaded {args.customers:,} customers and the demo features in {time.perf_counter() - started:.0f}s; learning history: {added}"
        )
        for username in ("rm_newcomer", "rm_super"):
            client = app.test_client()
            assert (
                client.post(
                    "/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}
                ).status_code
                == 200
            )
            with Session(db.engine_for(app)) as session:
                user = session.exec(select(User).where(User.username == username)).one()
                customer_id = session.exec(
                    select(Customer.id).where(Customer.owner_id == user.id).order_by(col(Customer.id))
                ).first()
            urls = {
                "cases (book)": "/api/v1/learning/cases",
                "cases (one customer)": f"/api/v1/learning/cases?customer_id={customer_id}",
                "playbook": "/api/v1/learning/playbook",
                "quiz": "/api/v1/learning/quiz",
            }
            for name, url_ in urls.items():
                client.get(url_)  # warm
                times = []
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    response = client.get(url_)
                    times.append((time.perf_counter() - t0) * 1000)
                    assert response.status_code == 200, response.get_data(as_text=True)
                times.sort()
                p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
                print(f"{username:12s} {name:22s} p50 {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms")


if __name__ == "__main__":
    main()
