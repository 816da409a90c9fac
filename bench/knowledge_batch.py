"""Knowledge degree at scale, and the customer 360 API's latency.

1. Batch: builds a fresh database with N customers (default 1,000,000) and ~7 facts each with bulk
   INSERT ... SELECT statements, then times the set-based recompute of every customer's knowledge
   degree (goal: under 60 s) and, separately, the set-based sync of profile-derived facts.
2. 360: a database with M customers (default 100,000) with holdings, ledger entries, visits, contacts
   and facts; times GET /api/v1/customers/<id>/360 for one RM's customers through the app (Flask test
   client, the whole request path) and prints p50/p95/p99 (goal: p95 under 80 ms).

    .venv/bin/python bench/knowledge_batch.py [--customers 1000000] [--customers-360 100000]
        [--database sqlite|postgres] [--requests 300]

PostgreSQL: set DATABASE_URL to a server (a scratch database is created and dropped)."""

from __future__ import annotations

import argparse
import base64
import functools
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from sqlalchemy import bindparam, create_engine, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from server.config import sqlalchemy_url  # noqa: E402
from server.db import make_engine  # noqa: E402
from server.knowledge import facts as knowledge_facts  # noqa: E402
from server.knowledge import scores as knowledge_scores  # noqa: E402
from server.knowledge.catalogue import CATALOGUE  # noqa: E402
from server.knowledge.models import CustomerFact  # noqa: E402
from server.timeutil import utcnow  # noqa: E402

print = functools.partial(print, flush=True)  # figures appear as they are measured

RMS = 500
PASSWORD = "bench1234"
DATA_KEY = base64.b64encode(bytes(range(32))).decode()  # a throwaway key for generated ID numbers


def _migrate(url: str) -> None:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = url
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "heads")


class Scratch:
    """A fresh database: a SQLite file, or a PostgreSQL database created for the run."""

    def __init__(self, kind: str, label: str):
        self.kind = kind
        if kind == "postgres":
            base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
            pg = sqlalchemy_url(base)
            self.name = f"zhanye_bench_{label}_{uuid.uuid4().hex[:6]}"
            self.admin = create_engine(pg.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.url = pg.rsplit("/", 1)[0] + "/" + self.name
        else:
            self.dir = tempfile.mkdtemp(prefix=f"zhanye-bench-{label}-")
            self.url = f"sqlite:///{self.dir}/bench.db"
        _migrate(self.url)
        self.engine = make_engine(self.url)

    def drop(self) -> None:
        self.engine.dispose()
        if self.kind == "postgres":
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self.admin.dispose()


def _series(postgres: bool, count: int) -> str:
    if postgres:
        return f"s(n) AS (SELECT generate_series(1, {int(count)}))"
    return f"s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {int(count)})"


def _days_ago(postgres: bool, expr: str) -> str:
    if postgres:
        return f"(CAST(:now AS TIMESTAMPTZ) - make_interval(days => CAST({expr} AS INTEGER)))"
    return f"strftime('%Y-%m-%d %H:%M:%f', :now, '-' || ({expr}) || ' days')"


def populate(engine, customers: int, *, rich: bool) -> dict[str, float]:
    """Bulk-generates RMs, customers with profiles, and facts (and, when rich, what the 360 reads)."""
    postgres = engine.dialect.name == "postgresql"
    now = utcnow()
    now_param = bindparam("now", value=now if postgres else now.strftime("%Y-%m-%d %H:%M:%S.%f"))
    recursive = "" if postgres else "RECURSIVE "
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with engine.connect() as conn:
        if not postgres:  # generated rows are consistent by construction: no per-row FK checks on load
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        with conn.begin():
            _generate(conn, customers, rich, postgres, now, now_param, recursive, timings, started)
        if not postgres:
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()
    _analyze(engine, postgres)
    return timings


def _generate(conn, customers, rich, postgres, now, now_param, recursive, timings, started):
    def _q(sql: str):
        # pg8000 reads `%` as a parameter marker in statements with parameters: double the modulo signs.
        return text(sql.replace("%", "%%") if postgres and re.search(r":[a-z_]+", sql) else sql)

    from server.auth.service import hash_password
    from server.crypto import encrypt_field

    conn.execute(
        _q(
            "INSERT INTO branch (code, name, city, region_code, latitude, longitude) "
            "VALUES ('B0001', '上海分行', '上海', '310000', 31.23, 121.47)"
        )
    )
    password_hash = hash_password(PASSWORD)
    conn.execute(
        _q(
            'INSERT INTO "user" (username, display_name, password_hash, role, branch_id, is_active, '
            "failed_logins, created_at) VALUES (:u, :d, :p, 'rm', 1, :t, 0, :c)"
        ),
        [
            {"u": f"rm{n:04d}", "d": f"客户经理{n}", "p": password_hash, "t": True, "c": now}
            for n in range(1, RMS + 1)
        ],
    )
    conn.execute(
        _q(
            f"INSERT INTO customer (kind, name, name_initials, owner_id, branch_id, region_code, region_name, "
            "industry_code, size, ownership, gender, tier, phone, version, created_at, updated_at) "
            f"WITH {recursive}{_series(postgres, customers)} "
            "SELECT CASE WHEN n % 3 = 0 THEN 'individual' ELSE 'corporate' END, "
            "'客户' || CAST(n AS VARCHAR(12)), 'kh', 1 + n % " + str(RMS) + ", 1, '310000', '上海市', "
            "CASE WHEN n % 3 = 0 THEN NULL ELSE 'C3' || CAST(n % 10 AS VARCHAR(1)) END, "
            "CASE WHEN n % 3 = 0 THEN NULL WHEN n % 5 = 0 THEN 'large' ELSE 'small' END, "
            "CASE WHEN n % 3 = 0 THEN NULL WHEN n % 7 = 0 THEN 'central_soe' ELSE 'private' END, "
            "CASE WHEN n % 3 = 0 THEN (CASE WHEN n % 2 = 0 THEN 'F' ELSE 'M' END) ELSE NULL END, "
            "CASE WHEN n % 10 = 0 THEN 'vip' WHEN n % 4 = 0 THEN 'high' ELSE 'mass' END, "
            "CASE WHEN n % 4 = 0 THEN NULL ELSE '1380000' || CAST(1000 + n % 9000 AS VARCHAR(4)) END, "
            "1, :now, :now FROM s"
        ).bindparams(bindparam("now", value=now))
    )
    conn.execute(
        _q(
            "INSERT INTO corporate_profile (customer_id, credit_code, revenue_cents, employees, business_scope) "
            "SELECT id, 'B' || CAST(id AS VARCHAR(17)), CASE WHEN id % 2 = 0 THEN id * 1000 END, "
            "CASE WHEN id % 5 = 0 THEN 50 END, CASE WHEN id % 3 = 1 THEN '汽车零部件' END "
            "FROM customer WHERE kind = 'corporate'"
        )
    )
    conn.execute(
        _q(
            "INSERT INTO individual_profile (customer_id, birth_date, id_number_encrypted, id_number_digest, "
            "occupation, interests) SELECT id, NULL, :encrypted, 'd' || CAST(id AS VARCHAR(20)), "
            "CASE WHEN id % 2 = 0 THEN '教师' END, '[]' FROM customer WHERE kind = 'individual'"
        ).bindparams(encrypted=encrypt_field("310104198001011234", DATA_KEY))
    )
    timings["customers"] = time.perf_counter() - started
    started = time.perf_counter()
    keys = [(kind, f.key) for kind, dims in CATALOGUE.items() for d in dims for f in d.facts]
    values = ", ".join(f"('{kind}', '{key}', {n})" for n, (kind, key) in enumerate(keys))
    conn.execute(
        _q(
            f"INSERT INTO customer_fact (customer_id, fact_key, value_summary, learned_at, source) "
            f"WITH k(kind, fact_key, n) AS (VALUES {values}) "
            f"SELECT c.id, k.fact_key, 'bench', {_days_ago(postgres, '(c.id * 7 + k.n * 13) % 1000')}, 'visit' "
            "FROM customer c JOIN k ON k.kind = c.kind WHERE (c.id * 31 + k.n * 17) % 4 = 0"
        ).bindparams(now_param)
    )
    timings["facts"] = time.perf_counter() - started
    if rich:
        started = time.perf_counter()
        conn.execute(
            _q(
                "INSERT INTO product (code, name, category, segment, terms, selling_points, advantages) VALUES "
                "('D01', '单位定期', 'deposit', 'corporate', '3个月', '[]', '[]'), "
                "('L01', '流动资金贷款', 'loan', 'corporate', '1年', '[]', '[]'), "
                "('W01', '稳健理财', 'wealth', 'individual', '90天', '[]', '[]')"
            )
        )
        for product in (1, 2, 3):
            conn.execute(
                _q(
                    "INSERT INTO holding (customer_id, product_id, balance_cents, loan_balance_cents, "
                    f"fee_income_cents, opened_on, status) SELECT id, {product}, id * 100, 0, 0, '2025-01-01', "
                    f"'active' FROM customer WHERE (id + {product}) % 2 = 0"
                )
            )
        for k in range(3):
            conn.execute(
                _q(
                    "INSERT INTO performance_entry (rm_id, booked_on, kind, amount_cents, customer_id, product_id, "
                    f"source, created_at) SELECT owner_id, '2026-0{k + 7}-15', 'new_business', id * 10, id, "
                    f"{k + 1}, 'core', :now FROM customer"
                ).bindparams(bindparam("now", value=now))
            )
        conn.execute(
            _q(
                "INSERT INTO customer_visit (customer_id, rm_id, channel, occurred_at, outcome, facts_learned, "
                f"created_at) SELECT id, owner_id, 'visit', {_days_ago(postgres, 'id % 90')}, '例行拜访', 0, :now "
                "FROM customer"
            ).bindparams(now_param)
        )
        conn.execute(
            _q(
                "INSERT INTO contact (customer_id, name, title, role, influence) "
                "SELECT id, '王总', '董事长', 'decision_maker', 5 FROM customer WHERE kind = 'corporate'"
            )
        )
        conn.execute(
            _q(
                "INSERT INTO customer_event (customer_id, occurred_on, kind, title) "
                "SELECT id, '2015-06-01', 'founded', '公司成立' FROM customer WHERE kind = 'corporate'"
            )
        )
        timings["360 data"] = time.perf_counter() - started


def _analyze(engine, postgres: bool) -> None:
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def _timed(step, session) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one step and its commit."""
    wall, cpu = time.perf_counter(), time.process_time()
    step()
    session.commit()
    return time.perf_counter() - wall, time.process_time() - cpu


def bench_batch(kind: str, customers: int, *, sync: bool = True) -> None:
    scratch = Scratch(kind, "batch")
    try:
        timings = populate(scratch.engine, customers, rich=False)
        with scratch.engine.connect() as conn:
            facts = conn.execute(text("SELECT COUNT(*) FROM customer_fact")).scalar_one()
        print(
            f"[{kind}] generated {customers:,} customers in {timings['customers']:.1f}s, "
            f"{facts:,} facts in {timings['facts']:.1f}s"
        )
        with Session(scratch.engine) as session:
            scoring = _timed(lambda: knowledge_scores.recompute(session), session)
            if sync:
                syncing = _timed(lambda: knowledge_facts.sync_profile_facts(session), session)
                rescoring = _timed(lambda: knowledge_scores.recompute(session), session)
        with scratch.engine.connect() as conn:
            count, average = conn.execute(text("SELECT COUNT(*), AVG(total) FROM knowledge_score")).one()
            facts_after = conn.execute(text("SELECT COUNT(*) FROM customer_fact")).scalar_one()
        cpu_note = " (CPU time is this process's: SQLite runs in it)" if kind == "sqlite" else ""
        print(
            f"[{kind}] recompute knowledge degree (set-based, all customers): {scoring[0]:.1f}s wall, "
            f"{scoring[1]:.1f}s CPU{cpu_note}, for {count:,} scores from {facts:,} facts "
            f"(average {average:.1f}); goal < 60 s"
        )
        if sync:
            print(
                f"[{kind}] sync profile facts for all customers: {syncing[0]:.1f}s wall, {syncing[1]:.1f}s CPU "
                f"({facts_after - facts:,} facts added); recompute again over {facts_after:,} facts: "
                f"{rescoring[0]:.1f}s wall, {rescoring[1]:.1f}s CPU"
            )
        print(f"[{kind}] load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    finally:
        scratch.drop()


def bench_360(kind: str, customers: int, requests: int) -> None:
    scratch = Scratch(kind, "c360")
    try:
        timings = populate(scratch.engine, customers, rich=True)
        print(f"[{kind}] generated {customers:,} customers for the 360 in {sum(timings.values()):.1f}s")
        with Session(scratch.engine) as session:
            knowledge_scores.recompute_all(session, sync_profile=True)
        from server import create_app

        var = tempfile.mkdtemp(prefix="zhanye-bench-var-")
        app = create_app(
            {
                "DATABASE_URL": scratch.url,
                "VAR_DIR": var,
                "TESTING": True,
                "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/8"),
                "LOGIN_RATE_PER_MINUTE": 100000,
                "DATA_KEY": DATA_KEY,
            }
        )
        client = app.test_client()
        response = client.post("/api/v1/auth/login", json={"username": "rm0007", "password": PASSWORD})
        assert response.status_code == 200, response.get_data(as_text=True)
        with scratch.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(text("SELECT id FROM customer WHERE owner_id = 7"))]
            facts = conn.execute(text("SELECT COUNT(*) FROM customer_fact")).scalar_one()
        rng = random.Random(7)
        for customer_id in ids[:20]:  # warm-up
            assert client.get(f"/api/v1/customers/{customer_id}/360").status_code == 200
        samples: list[float] = []
        cpu_ms: list[float] = []
        sizes = []
        for _ in range(requests):
            customer_id = rng.choice(ids)
            started, cpu = time.perf_counter(), time.process_time()
            response = client.get(f"/api/v1/customers/{customer_id}/360")
            samples.append((time.perf_counter() - started) * 1000)
            cpu_ms.append((time.process_time() - cpu) * 1000)
            assert response.status_code == 200
            sizes.append(len(response.data))
        samples.sort()

        def pct(p: float) -> float:
            return samples[min(len(samples) - 1, int(p * len(samples)))]

        print(
            f"[{kind}] customer 360 API over {customers:,} customers ({facts:,} facts), {requests} requests "
            f"for one RM's {len(ids)} customers: p50 {pct(0.5):.1f} ms, p95 {pct(0.95):.1f} ms, "
            f"p99 {pct(0.99):.1f} ms, mean {statistics.mean(samples):.1f} ms, "
            f"~{statistics.mean(sizes) / 1024:.1f} KB per response; goal p95 < 80 ms; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        cpu_ms.sort()
        print(
            f"[{kind}] CPU per 360 request in this process (app"
            f"{' + SQLite' if kind == 'sqlite' else ''}): mean {statistics.mean(cpu_ms):.1f} ms, "
            f"p95 {cpu_ms[min(len(cpu_ms) - 1, int(0.95 * len(cpu_ms)))]:.1f} ms"
        )
    finally:
        scratch.drop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--customers-360", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--skip-360", action="store_true")
    parser.add_argument(
        "--skip-sync", action="store_true", help="time only the scoring, not the profile sync"
    )
    args = parser.parse_args()
    assert CustomerFact  # the table the batch reads
    if not args.skip_batch:
        bench_batch(args.database, args.customers, sync=not args.skip_sync)
    if not args.skip_360:
        bench_360(args.database, args.customers_360, args.requests)


if __name__ == "__main__":
    main()
