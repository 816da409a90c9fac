"""The demo bank: a deterministic, realistic bank in Simplified Chinese, built for demonstrations and
for load tests (`flask --app server demo load`).

The same seed (and the same day, since tenures and maturities are relative to today) gives the same
bank. Rows are generated in chunks and written with bulk inserts (SQLAlchemy Core executemany on
SQLite, COPY on PostgreSQL), so a million customers load in minutes with bounded memory.

The five RM personas are made by construction, not labelled after the fact:
- newcomer (新进): hired under 6 months ago, a small book of mostly small customers, handed-over
  accounts, results well below target;
- general (一般): several years in, few customers, results around target;
- excellent (优秀): many customers, results well above target;
- super (超级): the longest tenure, the biggest book and the largest customers, champion results;
- veteran (老油): long tenure, erratic results, and conduct signals a monitor can find — month-end
  bursts of new business reversed early the next month (ledger entries with source "adjustment"),
  sales of products that need a qualification the RM lacks, and late-night bursts of
  `customer.reveal` audit entries from unusual addresses.
"""

from __future__ import annotations

import os
import random
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from multiprocessing import get_context
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from server.customers.models import (
    Contact,
    CorporateProfile,
    Customer,
    CustomerEvent,
    CustomerLink,
    CustomerTag,
    IndividualProfile,
    OwnershipChange,
    Tag,
)
from server.db import table_of
from server.demo.base import CHUNK, DEMO_LOGINS, DEMO_PASSWORD, DemoBankError, Rm
from server.demo.conduct import plant_conduct_demo
from server.demo.customers import CustomerBuilder
from server.demo.ledger import LedgerBuilder
from server.demo.org import OrgBuilder
from server.demo.prospects import load_prospect_universe
from server.demo.writer import Writer, as_values
from server.org.models import Branch, Team, User
from server.pinyin import initials
from server.products.models import Holding, Product
from server.timeutil import utcnow
from server.validators import id_check_char

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "DemoBankError", "database_is_empty", "load_demo_bank"]

# ---------------------------------------------------------------------------------------------------
# Entry points


def database_is_empty(engine: Engine) -> bool:
    """True when the database has no users (so the demo bank may be loaded)."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table_of(User))).scalar_one() == 0


def load_demo_bank(
    engine: Engine,
    *,
    customers: int,
    seed: int,
    data_key: str,
    today: date | None = None,
    workers: int | None = None,
    chunk_size: int = CHUNK,
    classify: bool = True,
) -> dict[str, int]:
    """Load the demo bank into an empty database and return row counts per table.

    `workers` processes generate customer chunks in parallel (None: one per spare core; 0: all in
    this process); the result is the same either way. The demo logins all get the password `demo1234`: this loader exists for demonstrations and
    tests only; `classify` runs the persona classifier over the loaded RMs (tests of the classifier
    turn it off to keep the generator's intended personas to compare with) and is reached through the `demo load` command, never from the running app."""
    if customers < 0:
        raise DemoBankError("--customers must not be negative")
    if not database_is_empty(engine):
        raise DemoBankError("The database already holds users; the demo bank loads into an empty one.")
    builder = _Builder(engine, seed=seed, data_key=data_key, today=today or utcnow().date())
    counts = builder.run(customers, workers=workers, chunk_size=chunk_size)
    if classify:
        # The personas the RMs were built as are only the generator's intent: what the app shows is
        # what the classifier reads from their data (server/personas), as at a real bank.
        from sqlmodel import Session

        from server.personas.service import classify_all

        with Session(engine) as session:
            counts.update({f"persona_{k}": v for k, v in classify_all(session, as_of=builder.today).items()})
    return counts


# ---------------------------------------------------------------------------------------------------
# Customers in chunks: each chunk has its own random stream (seed, chunk number), so chunks can be
# generated in worker processes while the main process writes, and the result does not depend on
# how many workers ran.

_CHUNK_TABLES = (
    "customer",
    "corporate_profile",
    "individual_profile",
    "contact",
    "customer_event",
    "customer_link",
    "customer_tag",
    "ownership_change",
    "holding",
)
_CHUNK_MODELS: tuple[type[SQLModel], ...] = (
    Customer,
    CorporateProfile,
    IndividualProfile,
    Contact,
    CustomerEvent,
    CustomerLink,
    CustomerTag,
    OwnershipChange,
    Holding,
)
_TABLES: dict[str, Table] = {table.name: table for table in map(table_of, _CHUNK_MODELS)}
# Tables the generator numbers itself: new ids start after the largest one already stored.
_NUMBERED_MODELS: dict[str, type[SQLModel]] = {
    "branch": Branch,
    "team": Team,
    "user": User,
    "product": Product,
    "tag": Tag,
    "customer": Customer,
}
_worker_context: dict[str, Any] | None = None


def _init_worker(context: dict[str, Any]) -> None:
    global _worker_context
    _worker_context = context


def _make_chunk_in_worker(chunk: tuple[int, int, int]) -> dict[str, Any]:
    assert _worker_context is not None
    return _make_chunk(_worker_context, chunk)


def _make_chunk(context: dict[str, Any], chunk: tuple[int, int, int]) -> dict[str, Any]:
    index, start, end = chunk
    maker = _Builder(None, seed=context["seed"], data_key=context["data_key"], today=context["today"])
    maker.rng = random.Random(f"{context['seed']}:{index}")
    maker.rand = maker.rng.random
    maker.rms = context["rms"]
    for rm in maker.rms:
        rm.customers = rm.balance_cents = rm.loan_cents = rm.fee_cents = rm.seen = 0
        rm.sample = []
    maker.products = context["products"]
    maker.segment_products = context["segment_products"]
    maker.tag_ids = context["tag_ids"]
    maker.code_base = context["code_base"]
    rows = maker._customers(list(context["schedule"]), start, end)
    tables = []
    for name in _CHUNK_TABLES:
        if rows[name]:
            tables.append((name, *as_values(_TABLES[name], rows[name], postgres=context["postgres"])))
    return {
        "tables": tables,
        "corporate_rows": [i for i, r in enumerate(rows["customer"]) if r["kind"] == "corporate"],
        "id_bodies": maker.id_bodies,
        "rm_stats": {
            i: (rm.customers, rm.balance_cents, rm.loan_cents, rm.fee_cents, rm.sample)
            for i, rm in enumerate(maker.rms)
            if rm.customers
        },
    }


def _generate_chunks(context: dict[str, Any], chunks: list[tuple[int, int, int]], *, workers: int | None):
    """Yield generated chunks in order; with workers, a bounded number are made ahead in parallel."""
    if workers is None:
        workers = max(1, min(4, (os.cpu_count() or 1) - 1)) if len(chunks) > 2 else 0
    if workers <= 0:
        for chunk in chunks:
            yield _make_chunk(context, chunk)
        return
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("spawn"), initializer=_init_worker, initargs=(context,)
    )
    try:
        pending: deque = deque()
        todo = iter(chunks)
        for chunk in todo:
            pending.append(pool.submit(_make_chunk_in_worker, chunk))
            if len(pending) > workers:  # keep memory bounded: a few chunks in flight
                break
        while pending:
            done = pending.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.submit(_make_chunk_in_worker, nxt))
            yield done
    finally:
        pool.shutdown(cancel_futures=True)


# ---------------------------------------------------------------------------------------------------
# The builder


class _Builder(OrgBuilder, CustomerBuilder, LedgerBuilder):
    """The whole bank: the organisation and shelf, the customer book in chunks, then the ledger."""

    # -- orchestration ----------------------------------------------------------------------------

    def run(self, customers: int, *, workers: int | None, chunk_size: int) -> dict[str, int]:
        with self.engine.begin() as conn:
            for name in self.code_base:
                table = table_of(_NUMBERED_MODELS[name])
                self.code_base[name] = conn.execute(
                    select(func.coalesce(func.max(table.c.id), 0))
                ).scalar_one()
            writer = Writer(conn)
            self._organisation(writer)
            self._products(writer)
            self._tags(writer)
            self._merge(writer)
        schedule = self._owner_schedule(customers)
        context = self._chunk_context(schedule)
        chunks = [
            (k, start, min(customers, start + chunk_size))
            for k, start in enumerate(range(0, customers, chunk_size))
        ]
        for chunk in _generate_chunks(context, chunks, workers=workers):
            with self.engine.begin() as conn:
                writer = Writer(conn)
                self._write_chunk(writer, chunk)
                self._merge(writer)
        self.counts.update(
            load_prospect_universe(self.engine, seed=self.seed, today=self.today, customers=customers)
        )
        with self.engine.begin() as conn:
            writer = Writer(conn)
            self._performance(writer)
            self._audit_history(writer)
            plant_conduct_demo(conn, today=self.today, seed=self.seed)  # server/demo/conduct.py
            self._merge(writer)
            if writer.postgres:
                self._reset_sequences(conn)
        with self.engine.begin() as conn:
            # Fresh planner statistics after a bulk load (e.g. owner, not kind, narrows a team's book).
            conn.exec_driver_sql("ANALYZE")
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA cache_size=-2000")  # back to the default for pooled use
        return self.counts

    def _chunk_context(self, schedule: list[int]) -> dict[str, Any]:
        """Everything a chunk generator needs (picklable, for worker processes)."""
        return {
            "seed": self.seed,
            "data_key": self.data_key,
            "today": self.today,
            "postgres": self.engine.dialect.name == "postgresql",
            "rms": [
                Rm(
                    r.id,
                    r.username,
                    r.display_name,
                    r.persona,
                    r.hire_date,
                    r.branch_id,
                    r.region_code,
                    r.team_index,
                    r.qualifications,
                )
                for r in self.rms
            ],
            "products": self.products,
            "segment_products": self.segment_products,
            "tag_ids": self.tag_ids,
            "code_base": self.code_base,
            "schedule": schedule,
        }

    def _write_chunk(self, writer: Writer, chunk: dict[str, Any]) -> None:
        """Insert one generated chunk, after making names and ID numbers unique across chunks
        (chunks are generated independently; a clash is rare and fixed here, deterministically)."""
        tables = {name: (columns, values) for name, columns, values in chunk["tables"]}
        columns, values = tables["customer"]
        name_at, initials_at = columns.index("name"), columns.index("name_initials")
        for pos in chunk["corporate_rows"]:
            row = values[pos]
            name = row[name_at]
            if name in self.names_used:
                stem = name.removesuffix("有限公司")
                n = 2
                while name in self.names_used:
                    name = f"{stem}第{n}分公司"
                    n += 1
                new = list(row)
                new[name_at], new[initials_at] = name, initials(name)
                values[pos] = tuple(new)
            self.names_used.add(name)
        columns, values = tables["individual_profile"]
        enc_at, digest_at = columns.index("id_number_encrypted"), columns.index("id_number_digest")
        for pos, body in enumerate(chunk["id_bodies"]):
            key = int(body)
            if key in self.ids_issued:
                while key in self.ids_issued:  # next free sequence number, same gender
                    body = body[:14] + f"{(int(body[14:]) + 2) % 1000:03d}"
                    key = int(body)
                number = body + id_check_char(body)
                new = list(values[pos])
                new[enc_at], new[digest_at] = self.sealer.seal(number), self.sealer.digest(number)
                values[pos] = tuple(new)
            self.ids_issued.add(key)
        for name, columns, values in chunk["tables"]:  # parents before children
            writer.insert_values(_TABLES[name], columns, values)
        for index, (customers, balance, loan, fee, sample) in chunk["rm_stats"].items():
            rm = self.rms[index]
            rm.customers += customers
            rm.balance_cents += balance
            rm.loan_cents += loan
            rm.fee_cents += fee
            for item in sample:  # reservoir sample over all chunks
                rm.seen += 1
                if len(rm.sample) < 80:
                    rm.sample.append(item)
                else:
                    j = int(self.rand() * rm.seen)
                    if j < 80:
                        rm.sample[j] = item

    def _merge(self, writer: Writer) -> None:
        for name, n in writer.counts.items():
            self.counts[name] = self.counts.get(name, 0) + n

    def _reset_sequences(self, conn: Connection) -> None:
        # Rows were written with explicit ids; move each serial past them.
        for name in self.code_base:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                    f'(SELECT COALESCE(MAX(id), 0) + 1 FROM "{name}"), false)'
                )
            )

    # -- organisation -----------------------------------------------------------------------------
