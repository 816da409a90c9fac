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

import base64
import bisect
import calendar
import csv
import hashlib
import hmac
import io
import json
import math
import os
import random
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from multiprocessing import get_context
from operator import itemgetter
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import JSON, Boolean, Date, DateTime, Table, func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from server.audit.models import AuditEntry
from server.auth.service import hash_password
from server.crypto import _key as data_key_bytes
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
from server.demo import catalog
from server.demo.prospects import load_prospect_universe
from server.org.models import Branch, Persona, RmProfile, Role, Team, User
from server.performance.models import PerformanceEntry, PerformanceTarget
from server.pinyin import initials
from server.products.models import Holding, Product
from server.reference import INDUSTRIES, REGIONS
from server.timeutil import month_key, utcnow
from server.validators import id_check_char, uscc_check_char

DEMO_PASSWORD = "demo1234"
DEMO_LOGINS = ("rm_newcomer", "rm_general", "rm_excellent", "rm_super", "rm_veteran", "lead", "risk", "admin")
CHUNK = 20_000  # customers per transaction
LOCAL_TZ = timedelta(hours=8)  # the bank works on Beijing time; timestamps are stored in UTC


class DemoBankError(RuntimeError):
    pass


@dataclass(frozen=True)
class PersonaSpec:
    count: int  # RMs with this persona, including the demo login
    tenure_days: tuple[int, int]
    grade: str
    book_weight: float  # share of customers relative to a general RM
    corporate_share: float
    size_mix: tuple[int, int, int, int]  # large, medium, small, micro (corporate)
    tier_mix: tuple[int, int, int, int]  # vip, high, mid, mass (individual)
    qualifications: tuple[str, ...]
    new_customers_target: int


PERSONAS: dict[Persona, PersonaSpec] = {
    Persona.newcomer: PersonaSpec(8, (30, 170), "初级", 0.35, 0.2, (0, 5, 40, 55), (0, 5, 25, 70), (), 3),
    Persona.general: PersonaSpec(
        12, (800, 2200), "中级", 1.0, 0.35, (2, 15, 45, 38), (2, 12, 36, 50), ("credit", "fund_sales"), 4
    ),
    Persona.excellent: PersonaSpec(
        10,
        (1500, 3600),
        "高级",
        2.6,
        0.4,
        (8, 30, 42, 20),
        (8, 22, 38, 32),
        ("credit", "fund_sales", "insurance_agent", "wealth"),
        6,
    ),
    Persona.super: PersonaSpec(
        4,
        (5200, 8000),
        "资深",
        5.0,
        0.5,
        (25, 38, 27, 10),
        (22, 30, 30, 18),
        ("credit", "fund_sales", "insurance_agent", "wealth", "fx"),
        6,
    ),
    Persona.veteran: PersonaSpec(
        6,
        (3800, 7000),
        "资深",
        2.0,
        0.4,
        (8, 27, 40, 25),
        (8, 18, 34, 40),
        ("credit", "fund_sales", "insurance_agent"),
        4,
    ),
}
# (username, persona, display name) of the demo logins that are RMs; all in the team `lead` leads.
DEMO_RMS = [
    ("rm_newcomer", Persona.newcomer, "林新雨"),
    ("rm_general", Persona.general, "王建国"),
    ("rm_excellent", Persona.excellent, "陈思远"),
    ("rm_super", Persona.super, "赵德明"),
    ("rm_veteran", Persona.veteran, "周国庆"),
]
SIZES = ("large", "medium", "small", "micro")
TIERS = ("vip", "high", "mid", "mass")
# Typical scale of a customer's business with the bank, in yuan.
CORPORATE_SCALE = {"large": 5e7, "medium": 8e6, "small": 1.2e6, "micro": 2e5}
INDIVIDUAL_SCALE = {"vip": 8e6, "high": 1.6e6, "mid": 3e5, "mass": 5e4}
SIZE_TIER = {"large": "vip", "medium": "high", "small": "mid", "micro": "mass"}
TIER_INCOME = {"vip": (3, 5), "high": (2, 4), "mid": (1, 3), "mass": (0, 2)}
# What a holding earns the bank a year, as a share of its balance (interest margin or fees).
CATEGORY_YIELD = {
    "deposit": 0.008,
    "loan": 0.015,
    "wealth": 0.005,
    "fund": 0.012,
    "insurance": 0.06,
    "payroll": 0.002,
    "cash_management": 0.003,
    "trade_finance": 0.006,
    "credit_card": 0.03,
    "fx": 0.002,
}
TERM_DAYS = {
    "DEP-TD": (90, 1095),
    "DEP-LCD": (30, 1095),
    "DEP-STD": (90, 1825),
    "LN-WC": (180, 365),
    "LN-FA": (1095, 3650),
    "LN-SME": (365, 365),
    "LN-MTG": (3650, 10950),
    "LN-CONS": (365, 1825),
    "LN-BIZ": (1095, 3650),
    "WM-FIX180": (180, 180),
    "WM-PLUS": (365, 365),
    "FD-PENSION": (1095, 1095),
    "TF-BA": (90, 365),
    "TF-FACTOR": (60, 180),
    "TF-LC": (30, 180),
    "FX-FWD": (30, 365),
}
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156",
    "157", "158", "159", "176", "177", "180", "181", "182", "183", "185", "186", "187", "188", "189",
    "198", "199",
]  # fmt: skip


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
) -> dict[str, int]:
    """Load the demo bank into an empty database and return row counts per table.

    `workers` processes generate customer chunks in parallel (None: one per spare core; 0: all in
    this process); the result is the same either way. The demo logins all get the password `demo1234`: this loader exists for demonstrations and
    tests only and is reached through the `demo load` command, never from the running app."""
    if customers < 0:
        raise DemoBankError("--customers must not be negative")
    if not database_is_empty(engine):
        raise DemoBankError("The database already holds users; the demo bank loads into an empty one.")
    builder = _Builder(engine, seed=seed, data_key=data_key, today=today or utcnow().date())
    return builder.run(customers, workers=workers, chunk_size=chunk_size)


# ---------------------------------------------------------------------------------------------------
# Writing rows


class _Writer:
    """Bulk inserts of plain rows: the statement SQLAlchemy Core compiles for the table, run with the
    driver's executemany over tuples (SQLite), or COPY ... FROM STDIN (PostgreSQL). Values are
    converted here, once per column, instead of through per-row type processing."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        self.counts: dict[str, int] = {}
        if not self.postgres:
            # A big page cache keeps index updates in memory while millions of rows go in.
            conn.exec_driver_sql("PRAGMA cache_size=-262144")

    def insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.insert_values(table, *_as_values(table, rows, postgres=self.postgres))

    def insert_values(self, table: Table, columns: list[str], values: list[tuple]) -> None:
        if not values:
            return
        self.counts[table.name] = self.counts.get(table.name, 0) + len(values)
        if self.postgres:
            self._copy(table, columns, values)
        else:
            statement = insert(table).compile(dialect=self.conn.dialect, column_keys=columns)
            order = [columns.index(name) for name in statement.positiontup]  # type: ignore[union-attr]
            if order != list(range(len(columns))):
                values = [tuple(v[i] for i in order) for v in values]
            self.conn.exec_driver_sql(str(statement), values)

    def _copy(self, table: Table, columns: list[str], values: list[tuple]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(values)
        buffer.seek(0)
        cols = ", ".join(f'"{c}"' for c in columns)
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(f'COPY "{table.name}" ({cols}) FROM STDIN WITH (FORMAT csv)', stream=buffer)
        cursor.close()


def _as_values(table: Table, rows: list[dict[str, Any]], *, postgres: bool) -> tuple[list[str], list[tuple]]:
    """Row dicts -> (columns, driver-ready tuples), converting only the columns that need it."""
    columns = list(rows[0].keys())
    getter = itemgetter(*columns)
    values: list[Any] = (
        [getter(row) for row in rows] if len(columns) > 1 else [(r[columns[0]],) for r in rows]
    )
    conversions = [
        (i, f) for i, c in enumerate(columns) if (f := _converter(table.c[c].type, postgres)) is not _identity
    ]
    if conversions:
        values = [list(v) for v in values]
        for i, f in conversions:
            for v in values:
                if v[i] is not None:
                    v[i] = f(v[i])
        values = [tuple(v) for v in values]
    return columns, values


def _identity(value: Any) -> Any:
    return value


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _sqlite_datetime(value: datetime) -> str:
    # SQLAlchemy's SQLite storage format for DATETIME (UTC, naive text).
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _converter(type_: Any, postgres: bool):
    """Driver-ready value of a column: None stays None (NULL; unquoted empty field in COPY csv)."""
    impl = getattr(type_, "impl_instance", type_)  # TypeDecorator (e.g. UTCDateTime) -> its impl
    if isinstance(impl, JSON):
        return _json
    if isinstance(impl, DateTime):
        return datetime.isoformat if postgres else _sqlite_datetime
    if isinstance(impl, Date):
        return date.isoformat
    if isinstance(impl, Boolean):
        return (lambda v: "t" if v else "f") if postgres else int
    return _identity


# ---------------------------------------------------------------------------------------------------
# Small helpers


class _Sealer:
    """`server.crypto.encrypt_field`/`field_digest` with the key set up once (same format)."""

    def __init__(self, data_key: str):
        self.key = data_key_bytes(data_key)
        self.aead = AESGCM(self.key)

    def seal(self, plaintext: str) -> str:
        nonce = os.urandom(12)  # random, never derived from the seed: GCM must not reuse nonces
        return base64.b64encode(
            nonce + self.aead.encrypt(nonce, plaintext.encode(), b"zhanye-field")
        ).decode()

    def digest(self, value: str) -> str:
        return hmac.new(self.key, value.encode(), hashlib.sha256).hexdigest()


class _Initials:
    """Pinyin initials, cached per part (surnames, given names, cities, trade names repeat)."""

    def __init__(self) -> None:
        self.cache: dict[str, str] = dict(catalog.SURNAME_INITIALS)

    def part(self, text_: str) -> str:
        got = self.cache.get(text_)
        if got is None:
            got = self.cache[text_] = initials(text_)
        return got

    def join(self, *parts: str) -> str:
        return "".join(self.part(p) for p in parts)[:64]


def _cumulative(weights: Iterable[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _month_starts(today: date, months: int) -> list[date]:
    first = today.replace(day=1)
    out = []
    for back in range(months - 1, -1, -1):
        y, m = first.year, first.month - back
        while m <= 0:
            m += 12
            y -= 1
        out.append(date(y, m, 1))
    return out


def _local_dt(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    """A Beijing wall-clock time on `day`, as aware UTC."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=UTC) - LOCAL_TZ


@dataclass
class _Rm:
    id: int
    username: str
    display_name: str
    persona: Persona
    hire_date: date
    branch_id: int
    region_code: str
    team_index: int
    qualifications: list[str]
    customers: int = 0
    balance_cents: int = 0
    loan_cents: int = 0
    fee_cents: int = 0
    # A bounded sample of (customer_id, product_id) business, for the performance ledger.
    sample: list[tuple[int, int]] = field(default_factory=list)
    seen: int = 0


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
_INDUSTRY_CODES = [c for c in INDUSTRIES if c in catalog.INDUSTRY_WORDS]
_INDUSTRY_CUM = _cumulative(catalog.INDUSTRY_WEIGHTS.get(c, 1) for c in _INDUSTRY_CODES)


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
            tables.append((name, *_as_values(_TABLES[name], rows[name], postgres=context["postgres"])))
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


class _Builder:
    def __init__(self, engine: Engine | None, *, seed: int, data_key: str, today: date):
        self._engine = engine  # None in a pool worker, which only generates rows
        self.seed = seed
        self.rng = random.Random(seed)
        self.rand = self.rng.random
        self.today = today
        self.now = datetime.combine(today, time(2, 0), tzinfo=UTC)  # 10:00 in Beijing
        self.data_key = data_key
        self.sealer = _Sealer(data_key)
        self.initials = _Initials()
        self.counts: dict[str, int] = {}
        self.rms: list[_Rm] = []
        self.branches: list[tuple[int, str, str, float, float]] = []  # id, code, region, lat, lng
        self.products: list[dict[str, Any]] = []
        self.tag_ids: dict[str, int] = {}
        self.names_used: set[str] = set()
        self.ids_issued: set[int] = set()
        self.id_bodies: list[str] = []  # per chunk: the ID number bodies, in individual_profile order
        # Recently generated customers, to link supply chains, employers and families.
        self.recent_corporates: deque[tuple[int, str, str]] = deque(maxlen=4000)  # id, name, region
        self.recent_people: deque[int] = deque(maxlen=4000)
        self.payroll_employers: dict[str, int] = {}
        self.code_base = {t: 0 for t in ("branch", "team", "user", "product", "tag", "customer")}

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("this builder only generates rows; it has no database")
        return self._engine

    # Faster than Random.choice/randint (no rejection sampling); the same seed gives the same picks.
    def pick(self, seq):
        return seq[int(self.rand() * len(seq))]

    def between(self, low: int, high: int) -> int:
        return low + int(self.rand() * (high - low + 1))

    # -- orchestration ----------------------------------------------------------------------------

    def run(self, customers: int, *, workers: int | None, chunk_size: int) -> dict[str, int]:
        with self.engine.begin() as conn:
            for name in self.code_base:
                table = table_of(_NUMBERED_MODELS[name])
                self.code_base[name] = conn.execute(
                    select(func.coalesce(func.max(table.c.id), 0))
                ).scalar_one()
            writer = _Writer(conn)
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
                writer = _Writer(conn)
                self._write_chunk(writer, chunk)
                self._merge(writer)
        self.counts.update(load_prospect_universe(self.engine, seed=self.seed, today=self.today, customers=customers))
        with self.engine.begin() as conn:
            writer = _Writer(conn)
            self._performance(writer)
            self._audit_history(writer)
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
                _Rm(
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

    def _write_chunk(self, writer: _Writer, chunk: dict[str, Any]) -> None:
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

    def _merge(self, writer: _Writer) -> None:
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

    def _person_name(self, gender: str) -> tuple[str, str]:
        rng = self.rng
        # Frequent surnames first: a skewed pick over the list.
        surname = catalog.SURNAMES[min(int(rng.expovariate(1 / 22)), len(catalog.SURNAMES) - 1)]
        given = self.pick(catalog.GIVEN_MALE if gender == "M" else catalog.GIVEN_FEMALE)
        return surname, given

    def _organisation(self, writer: _Writer) -> None:
        rng = self.rng
        bid = self.code_base["branch"]
        head_id = bid + 1
        code, name, region, lat, lng = catalog.HEAD_BRANCH
        branch_rows = [
            {
                "id": head_id,
                "code": code,
                "name": name,
                "city": REGIONS[region]["name"],
                "region_code": region,
                "parent_id": None,
                "latitude": lat,
                "longitude": lng,
            }
        ]
        self.branches.append((head_id, code, region, lat, lng))
        for i, (code, name, region, lat, lng) in enumerate(catalog.BRANCHES, start=2):
            branch_rows.append(
                {
                    "id": bid + i,
                    "code": code,
                    "name": name,
                    "city": REGIONS[region]["name"],
                    "region_code": region,
                    "parent_id": head_id,
                    "latitude": lat,
                    "longitude": lng,
                }
            )
            self.branches.append((bid + i, code, region, lat, lng))
        writer.insert(table_of(Branch), branch_rows)

        # One team per branch, plus the demo team at the head branch.
        team_base = self.code_base["team"]
        teams = []  # (team id, branch index)
        teams.append((team_base + 1, 0))
        for i in range(1, len(self.branches)):
            teams.append((team_base + 1 + i, i))
        team_rows = []
        for n, (team_id, b) in enumerate(teams):
            city = REGIONS[self.branches[b][2]]["name"].rstrip("市")
            label = (
                "营业部客户经理一组"
                if n == 0
                else f"{catalog.BRANCHES[b - 1][1].replace(city, '')}客户经理团队"
            )
            team_rows.append(
                {"id": team_id, "name": label, "branch_id": self.branches[b][0], "lead_id": None}
            )
        writer.insert(table_of(Team), team_rows)

        password_hash = hash_password(DEMO_PASSWORD)  # argon2 once; every demo user shares it
        uid = self.code_base["user"]
        users: list[dict[str, Any]] = []
        profiles: list[dict[str, Any]] = []
        leads: list[int] = []

        def add_user(
            username: str, display: str, role: Role, branch_index: int, team_index: int | None
        ) -> int:
            nonlocal uid
            uid += 1
            users.append(
                {
                    "id": uid,
                    "username": username,
                    "display_name": display,
                    "password_hash": password_hash,
                    "role": role.value,
                    "branch_id": self.branches[branch_index][0],
                    "team_id": teams[team_index][0] if team_index is not None else None,
                    "is_active": True,
                    "failed_logins": 0,
                    "locked_until": None,
                    "created_at": self.now - timedelta(days=self.between(400, 2000)),
                }
            )
            return uid

        leads.append(add_user("lead", "孙立新", Role.team_lead, 0, 0))
        for t in range(1, len(teams)):
            surname, given = self._person_name(self.pick("MF"))
            leads.append(add_user(f"lead{t + 1:02d}", surname + given, Role.team_lead, teams[t][1], t))
        add_user("risk", "吴慧敏", Role.risk_officer, 0, None)
        add_user("admin", "系统管理员", Role.admin, 0, None)

        # ~40 RMs: the five demo logins and two more in the demo team, the rest dealt over the others.
        pool: list[Persona] = []
        for persona, spec in PERSONAS.items():
            pool += [persona] * spec.count
        for _, persona, _ in DEMO_RMS:
            pool.remove(persona)
        pool.remove(Persona.newcomer)
        pool.remove(Persona.general)
        rng.shuffle(pool)
        rm_plan: list[tuple[str, Persona, str | None, int]] = [(u, p, d, 0) for u, p, d in DEMO_RMS]
        rm_plan += [("rm006", Persona.newcomer, None, 0), ("rm007", Persona.general, None, 0)]
        for n, persona in enumerate(pool):
            rm_plan.append((f"rm{n + 8:03d}", persona, None, 1 + n % (len(teams) - 1)))
        for username, persona, display, team_index in rm_plan:
            spec = PERSONAS[persona]
            if display is None:
                surname, given = self._person_name(self.pick("MF"))
                display = surname + given
            branch_index = teams[team_index][1]
            rm_id = add_user(username, display, Role.rm, branch_index, team_index)
            hire = self.today - timedelta(days=self.between(*spec.tenure_days))
            quals = list(spec.qualifications)
            if persona == Persona.newcomer and rng.random() < 0.5:
                quals.append("fund_sales")  # the first licence newcomers take
            region = self.branches[branch_index][2]
            profiles.append(
                {
                    "user_id": rm_id,
                    "persona": persona.value,
                    "hire_date": hire,
                    "grade": spec.grade,
                    "qualifications": quals,
                    "languages": ["zh", "en"] if rng.random() < 0.4 else ["zh"],
                    "home_region": region,
                }
            )
            self.rms.append(
                _Rm(
                    rm_id,
                    username,
                    display,
                    persona,
                    hire,
                    self.branches[branch_index][0],
                    region,
                    team_index,
                    quals,
                )
            )
        writer.insert(table_of(User), users)
        writer.insert(table_of(RmProfile), profiles)
        for (team_id, _), lead_id in zip(teams, leads, strict=True):
            writer.conn.execute(
                update(table_of(Team)).where(table_of(Team).c.id == team_id).values(lead_id=lead_id)
            )

    def _products(self, writer: _Writer) -> None:
        base = self.code_base["product"]
        rows = []
        for i, p in enumerate(catalog.PRODUCTS, start=1):
            rows.append(
                {
                    "id": base + i,
                    "code": p["code"],
                    "name": p["name"],
                    "category": p["category"],
                    "segment": p["segment"],
                    "terms": p["terms"],
                    "required_qualification": p["qualification"],
                    "risk_level": p["risk_level"],
                    "selling_points": p["selling_points"],
                    "advantages": p["advantages"],
                    "target_profile": p["target"],
                }
            )
            self.products.append({**p, "id": base + i})
        writer.insert(table_of(Product), rows)
        # What each segment tends to hold, most common first.
        weights = {
            "deposit": 6,
            "wealth": 3,
            "fund": 2,
            "loan": 2,
            "insurance": 1,
            "payroll": 2,
            "cash_management": 1,
            "trade_finance": 1,
            "credit_card": 2,
            "fx": 1,
        }
        self.segment_products: dict[str, tuple[list[dict], list[float]]] = {}
        for segment in ("corporate", "individual"):
            items = [p for p in self.products if p["segment"] in (segment, "both")]
            self.segment_products[segment] = (items, _cumulative(weights[p["category"]] for p in items))

    def _tags(self, writer: _Writer) -> None:
        base = self.code_base["tag"]
        self.tag_ids = {name: base + i for i, (name, _category) in enumerate(catalog.TAGS, start=1)}
        rows = [
            {"id": self.tag_ids[name], "name": name, "category": category} for name, category in catalog.TAGS
        ]
        writer.insert(table_of(Tag), rows)

    # -- customers --------------------------------------------------------------------------------

    def _owner_schedule(self, total: int) -> list[int]:
        """Owners (indexes into self.rms) for one block of customers, in exact proportion to the
        personas' book weights; every RM owns at least one customer."""
        block = max(1, min(total, 1000))
        weights = [PERSONAS[rm.persona].book_weight for rm in self.rms]
        scale = block / sum(weights)
        quotas = [w * scale for w in weights]
        counts = [max(1, int(q)) for q in quotas]
        by_remainder = sorted(range(len(quotas)), key=lambda i: quotas[i] - int(quotas[i]), reverse=True)
        i = 0
        while sum(counts) < block:
            counts[by_remainder[i % len(counts)]] += 1
            i += 1
        while sum(counts) > block:  # tiny banks: take back from the biggest books
            biggest = max(range(len(counts)), key=counts.__getitem__)
            counts[biggest] -= 1
        schedule = [rm for rm, n in enumerate(counts) for _ in range(n)]
        self.rng.shuffle(schedule)
        return schedule

    def _customers(self, schedule: list[int], start: int, end: int) -> dict[str, list[dict[str, Any]]]:
        rng = self.rng
        rand = rng.random
        choice = self.pick
        today = self.today
        today_ord = today.toordinal()
        base_id = self.code_base["customer"]
        region_codes = list(REGIONS)
        rows: dict[str, list[dict[str, Any]]] = {
            "customer": [],
            "corporate_profile": [],
            "individual_profile": [],
            "contact": [],
            "customer_event": [],
            "customer_link": [],
            "customer_tag": [],
            "ownership_change": [],
            "holding": [],
        }
        cust_rows = rows["customer"]
        block = len(schedule)
        for n in range(start, end):
            if n % block == 0 or n == start:
                rng.shuffle(schedule)
            rm = self.rms[schedule[n % block]]
            spec = PERSONAS[rm.persona]
            cid = base_id + n + 1
            region = rm.region_code if rand() < 0.85 else choice(region_codes)
            center = REGIONS[region]
            lat = round(center["lat"] + rng.gauss(0, 0.045), 6)
            lng = round(center["lng"] + rng.gauss(0, 0.055), 6)
            corporate = rand() < spec.corporate_share
            tags: list[str] = []
            if corporate:
                size = rng.choices(SIZES, weights=spec.size_mix)[0]
                tier = SIZE_TIER[size] if rand() < 0.8 else choice(TIERS[1:])
                name, short, name_initials, industry, ownership, founded = self._company(region, size)
                row = {
                    "id": cid,
                    "kind": "corporate",
                    "name": name,
                    "name_initials": name_initials,
                    "industry_code": industry,
                    "size": size,
                    "ownership": ownership,
                    "gender": None,
                    "tier": tier,
                }
                scale = CORPORATE_SCALE[size] * math.exp(rng.gauss(0, 0.5))
                since = max(founded.toordinal(), today_ord - 365 * 15)
                self._corporate_details(rows, cid, short, size, industry, ownership, region, founded, tags)
            else:
                tier = rng.choices(TIERS, weights=spec.tier_mix)[0]
                gender = "M" if rand() < 0.5 else "F"
                surname, given = self._person_name(gender)
                name = surname + given
                born = date.fromordinal(today_ord - self.between(22 * 365, 75 * 365))
                row = {
                    "id": cid,
                    "kind": "individual",
                    "name": name,
                    "name_initials": self.initials.join(surname, given),
                    "industry_code": None,
                    "size": None,
                    "ownership": None,
                    "gender": gender,
                    "tier": tier,
                }
                scale = INDIVIDUAL_SCALE[tier] * math.exp(rng.gauss(0, 0.6))
                since = max(born.toordinal() + 20 * 365, today_ord - 365 * 12)
                self._individual_details(rows, cid, gender, born, tier, region, tags)
            # A newcomer's book is mostly handed over; others won most of theirs themselves.
            created = date.fromordinal(self.between(min(since, today_ord - 1), today_ord - 1))
            created_at = _local_dt(created, self.between(9, 17), self.between(0, 59))
            row.update(
                {
                    "owner_id": rm.id,
                    "branch_id": rm.branch_id,
                    "region_code": region,
                    "region_name": center["name"],
                    "phone": self._mobile(),
                    "latitude": lat,
                    "longitude": lng,
                    "version": 1,
                    "created_at": created_at,
                    "updated_at": min(created_at + timedelta(days=self.between(0, 400)), self.now),
                }
            )
            cust_rows.append(row)
            self._ownership(rows, cid, rm, created_at)
            self._holdings(rows, cid, rm, corporate, scale, created, tags)
            if created.toordinal() > today_ord - 180:
                tags.append("新客户")
            if rand() < (0.18 if rm.persona in (Persona.super, Persona.excellent) else 0.06):
                tags.append("长期未联系")  # too many customers, too little time
            for tag in set(tags):
                rows["customer_tag"].append({"customer_id": cid, "tag_id": self.tag_ids[tag]})
            rm.customers += 1
            if corporate:
                self.recent_corporates.append((cid, name, region))
            else:
                self.recent_people.append(cid)
        return rows

    def _mobile(self) -> str:
        return self.pick(MOBILE_PREFIXES) + f"{int(self.rand() * 10**8):08d}"

    def _credit_code(self, region: str, ownership: str, serial: int) -> str:
        """GB 32100: registration authority + category, GB/T 2260 region, a GB 11714 organisation
        code (8 characters + its check character), then the check character."""
        prefix = "11" if ownership == "government" else "91"
        body8 = f"{(serial * 7_919_123 + self.seed * 104_729) % 10**8:08d}"
        total = sum(int(c) * w for c, w in zip(body8, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
        check = 11 - total % 11
        org_check = "X" if check == 10 else "0" if check == 11 else str(check)
        first17 = prefix + region + body8 + org_check
        return first17 + uscc_check_char(first17)

    def _company(self, region: str, size: str) -> tuple[str, str, str, str, str, date]:
        rng = self.rng
        city = REGIONS[region]["name"].rstrip("市")
        roll = rng.random()
        parts: tuple[str, ...]
        for _attempt in range(8):
            if roll < 0.03:
                industry, body = self.pick(catalog.GOVERNMENT_BODIES)
                parts = (city, body)
                ownership, short = "government", body.removeprefix("市")
            else:
                industry = _INDUSTRY_CODES[bisect.bisect(_INDUSTRY_CUM, self.rand() * _INDUSTRY_CUM[-1])]
                word = self.pick(catalog.INDUSTRY_WORDS[industry])
                trade = self.pick(catalog.TRADE_FIRST) + self.pick(catalog.TRADE_SECOND)
                if roll < 0.08 and size in ("large", "medium"):
                    ownership = "central_soe"
                    stem = self.pick(catalog.CENTRAL_SOE_STEM)
                    parts = ("中", stem, word, "集团", city, "有限公司")
                    short = f"中{stem}{word[:2]}"
                elif roll < 0.18 and size != "micro":
                    ownership = "local_soe"
                    stem = self.pick(catalog.LOCAL_SOE_STEM) if rng.random() < 0.5 else trade
                    parts = (city, "市", stem, word, "集团有限公司")
                    short = f"{city}{stem}"
                elif roll < 0.25:
                    ownership = "foreign"
                    foreign = self.pick(catalog.FOREIGN_TRADE)
                    parts = (foreign, "（", city, "）", word, "有限公司")
                    short = f"{foreign}{word[:2]}"
                else:
                    ownership = "private"
                    suffix = (
                        "股份有限公司" if size in ("large", "medium") and rng.random() < 0.5 else "有限公司"
                    )
                    parts = (city, trade, word, suffix)
                    short = f"{trade}{word[:2]}"
            name = "".join(parts)
            if name not in self.names_used:
                break
            roll = rng.random() * 0.97 + 0.03 if _attempt < 6 else 0.5  # a private name is almost always free
        else:  # practically never: keep names unique with a branch-office suffix
            parts = (*parts[:-1], f"第{len(self.names_used)}分公司")
            name = "".join(parts)
        self.names_used.add(name)
        name_initials = self.initials.join(*[p for p in parts if p not in ("（", "）")])
        age_years = {"large": (12, 40), "medium": (6, 30), "small": (3, 20), "micro": (1, 10)}[size]
        founded = self.today - timedelta(days=self.between(age_years[0] * 365, age_years[1] * 365))
        return name, short, name_initials, industry, ownership, founded

    def _corporate_details(
        self,
        rows: dict[str, list[dict[str, Any]]],
        cid: int,
        short_name: str,
        size: str,
        industry: str,
        ownership: str,
        region: str,
        founded: date,
        tags: list[str],
    ) -> None:
        rng = self.rng
        rand = rng.random
        employees = {
            "large": (1000, 30000),
            "medium": (100, 999),
            "small": (10, 99),
            "micro": (2, 9),
        }[size]
        revenue_yuan = {"large": (4e8, 3e10), "medium": (2e7, 4e8), "small": (3e6, 2e7), "micro": (2e5, 3e6)}[
            size
        ]
        revenue = int(math.exp(rng.uniform(math.log(revenue_yuan[0]), math.log(revenue_yuan[1]))) * 100)
        capital = int(round(revenue * rng.uniform(0.05, 0.4) / 1_000_000_00) * 1_000_000_00) or 100_000_00
        scope = INDUSTRIES[industry]
        rows["corporate_profile"].append(
            {
                "customer_id": cid,
                "credit_code": self._credit_code(region, ownership, cid),
                "short_name": short_name[:32],
                "registered_capital_cents": capital,
                "revenue_cents": revenue,
                "employees": self.between(*employees),
                "founded_on": founded,
                "business_scope": f"{scope}相关业务；货物及技术进出口（依法须经批准的项目，经相关部门批准后方可开展经营活动）",
                "main_products": scope,
                "address": f"{REGIONS[region]['name']}{self.pick('东南西北中')}{self.pick('湖山江河环海')}路{self.between(1, 999)}号",
            }
        )
        for title, role, influence in rng.sample(catalog.CONTACT_ROLES, k=self.between(2, 4)):
            gender = "M" if rand() < 0.65 else "F"
            surname, given = self._person_name(gender)
            rows["contact"].append(
                {
                    "customer_id": cid,
                    "name": surname + given,
                    "title": title,
                    "role": role,
                    "influence": influence,
                    "preferences": self.pick(catalog.CONTACT_PREFERENCES),
                    "phone": self._mobile(),
                }
            )
        events = rows["customer_event"]
        events.append(
            {
                "customer_id": cid,
                "occurred_on": founded,
                "kind": "founded",
                "title": "公司成立",
                "detail": None,
            }
        )
        span = (self.today - founded).days
        for kind, title in rng.sample(catalog.CORPORATE_EVENTS, k=self.pick((0, 1, 1, 2, 3))):
            if span > 60:
                events.append(
                    {
                        "customer_id": cid,
                        "occurred_on": founded + timedelta(days=self.between(30, span)),
                        "kind": kind,
                        "title": title,
                        "detail": None,
                    }
                )
            if title.startswith("获评国家高新"):
                tags.append("高新技术企业")
            elif title.startswith("入选专精特新"):
                tags.append("专精特新")
        links = rows["customer_link"]
        if self.recent_corporates and rand() < 0.6:
            other, _, _ = self.pick(self.recent_corporates)
            kind = "supplier" if rand() < 0.5 else "buyer"
            links.append(
                {
                    "from_customer_id": cid,
                    "to_customer_id": other,
                    "to_name": None,
                    "kind": kind,
                    "label": self.pick(catalog.SUPPLY_LABELS),
                }
            )
            if size == "large":
                tags.append("供应链核心企业")
        if rand() < 0.35:
            city = REGIONS[self.pick(list(REGIONS))]["name"].rstrip("市")
            trade = self.pick(catalog.TRADE_FIRST) + self.pick(catalog.TRADE_SECOND)
            word = self.pick(catalog.INDUSTRY_WORDS[self.pick(list(catalog.INDUSTRY_WORDS))])
            links.append(
                {
                    "from_customer_id": cid,
                    "to_customer_id": None,
                    "to_name": f"{city}{trade}{word}有限公司",
                    "kind": "supplier" if rand() < 0.5 else "buyer",
                    "label": self.pick(catalog.SUPPLY_LABELS),
                }
            )
        if industry in ("F51", "G58") or (industry.startswith("C") and rand() < 0.2):
            tags.append("外贸企业")
        if rand() < 0.03 and size in ("small", "micro"):
            tags.append("授信关注")
        if rand() < 0.04:
            tags.append("流失预警")

    def _id_number(self, region: str, born: date, gender: str) -> str:
        rng = self.rng
        districts = catalog.DISTRICTS.get(region) or catalog.DISTRICTS["310000"]
        while True:
            district = (
                self.pick(districts)
                if rng.random() < 0.8
                else self.pick(catalog.DISTRICTS[self.pick(list(catalog.DISTRICTS))])
            )
            seq = int(self.rand() * 500) * 2 + (1 if gender == "M" else 0)  # odd 17th digit: male
            body = f"{district}{born:%Y%m%d}{seq:03d}"
            key = int(body)
            if key not in self.ids_issued:
                self.ids_issued.add(key)
                self.id_bodies.append(body)
                return body + id_check_char(body)

    def _individual_details(
        self,
        rows: dict[str, list[dict[str, Any]]],
        cid: int,
        gender: str,
        born: date,
        tier: str,
        region: str,
        tags: list[str],
    ) -> None:
        rng = self.rng
        rand = rng.random
        number = self._id_number(region, born, gender)
        age = (self.today - born).days // 365
        occupation, employer_kind = self.pick(catalog.OCCUPATIONS)
        if age >= 60 and rand() < 0.7:
            occupation, employer_kind = "退休", "none"
        employer = None
        employer_id = None
        if employer_kind == "corporate" and self.recent_corporates:
            employer_id, employer, _ = self.pick(self.recent_corporates)
        elif employer_kind == "public":
            employer = REGIONS[region]["name"].rstrip("市") + self.pick(catalog.PUBLIC_EMPLOYERS)
        low, high = TIER_INCOME[tier]
        rows["individual_profile"].append(
            {
                "customer_id": cid,
                "birth_date": born,
                "id_number_encrypted": self.sealer.seal(number),
                "id_number_digest": self.sealer.digest(number),
                "occupation": occupation,
                "employer": employer,
                "income_band": catalog.INCOME_BANDS[self.between(low, high)],
                "risk_appetite": f"C{min(5, max(1, int(rng.gauss(3 if age < 50 else 2, 1))))}",
                "interests": rng.sample(catalog.INTERESTS, k=self.between(1, 3)),
            }
        )
        events = rows["customer_event"]
        for kind, title, min_age, max_age in rng.sample(catalog.LIFE_EVENTS, k=self.pick((0, 1, 1, 2))):
            at_age = self.between(min_age, max_age)
            if at_age <= age:
                when = born + timedelta(days=at_age * 365 + int(self.rand() * 365))
                if when < self.today:
                    events.append(
                        {
                            "customer_id": cid,
                            "occurred_on": when,
                            "kind": kind,
                            "title": title,
                            "detail": None,
                        }
                    )
        links = rows["customer_link"]
        if self.recent_people and rand() < 0.25:
            other = self.pick(self.recent_people)
            label = self.pick(("配偶", "父母", "子女", "兄弟姐妹"))
            links.append(
                {
                    "from_customer_id": cid,
                    "to_customer_id": other,
                    "to_name": None,
                    "kind": "family",
                    "label": label,
                }
            )
        if employer is not None:
            colleague = self.payroll_employers.get(employer)
            if colleague is not None and colleague != cid:
                links.append(
                    {
                        "from_customer_id": cid,
                        "to_customer_id": colleague,
                        "to_name": None,
                        "kind": "colleague",
                        "label": "同事",
                    }
                )
            if len(self.payroll_employers) > 5000:
                self.payroll_employers.clear()
            self.payroll_employers[employer] = cid
            if employer_id is not None:
                tags.append("代发工资客户")
        if self.recent_people and rand() < 0.08:
            other = self.pick(self.recent_people)
            links.append(
                {
                    "from_customer_id": cid,
                    "to_customer_id": other,
                    "to_name": None,
                    "kind": "referral",
                    "label": "转介绍",
                }
            )
        if tier == "vip":
            tags.append("贵宾客户")
        if tier == "mid" and rand() < 0.3:
            tags.append("潜力客户")
        if rand() < 0.35:
            tags.append("线上活跃")
        if 30 <= age <= 45 and rand() < 0.3:
            tags.append("子女教育规划")
        if 45 < age < 60 and rand() < 0.3:
            tags.append("养老规划")

    def _ownership(
        self, rows: dict[str, list[dict[str, Any]]], cid: int, rm: _Rm, created_at: datetime
    ) -> None:
        """Who owned the customer when: RMs hired after the customer arrived took it over."""
        hired_at = _local_dt(rm.hire_date, 9, 0)
        if created_at < hired_at or self.rng.random() < 0.03:
            previous = self.pick(self.rms)
            handover = max(created_at, hired_at) + timedelta(days=self.between(1, 60))
            handover = min(handover, self.now)
            if previous.id != rm.id:
                rows["ownership_change"].append(
                    {
                        "customer_id": cid,
                        "rm_id": previous.id,
                        "started_at": created_at,
                        "ended_at": handover,
                        "reason": "开户建档",
                    }
                )
                rows["ownership_change"].append(
                    {
                        "customer_id": cid,
                        "rm_id": rm.id,
                        "started_at": handover,
                        "ended_at": None,
                        "reason": "客户经理调岗移交",
                    }
                )
                return
        rows["ownership_change"].append(
            {
                "customer_id": cid,
                "rm_id": rm.id,
                "started_at": created_at,
                "ended_at": None,
                "reason": "开户建档",
            }
        )

    def _holdings(
        self,
        rows: dict[str, list[dict[str, Any]]],
        cid: int,
        rm: _Rm,
        corporate: bool,
        scale: float,
        created: date,
        tags: list[str],
    ) -> None:
        rng = self.rng
        items, cum = self.segment_products["corporate" if corporate else "individual"]
        k = 1 + min(4, int(rng.expovariate(1.0) * (1.6 if scale > 1e6 else 0.8)))
        chosen: dict[int, dict] = {}
        for _ in range(k + 2):
            p = items[bisect.bisect(cum, rng.random() * cum[-1])]
            chosen[p["id"]] = p
            if len(chosen) >= k:
                break
        today_ord = self.today.toordinal()
        start = created.toordinal()
        holdings = rows["holding"]
        for p in chosen.values():
            category = p["category"]
            amount = int(scale * math.exp(rng.gauss(0, 0.5)) * 100)
            opened = date.fromordinal(self.between(min(start, today_ord - 1), today_ord - 1))
            term = TERM_DAYS.get(p["code"])
            matures = opened + timedelta(days=self.between(*term)) if term else None
            status = "matured" if matures is not None and matures <= self.today else "active"
            balance = loan = 0
            if category == "loan" or p["code"] in ("TF-FACTOR",):
                loan = amount * 2 if corporate else amount
            elif category in ("deposit", "wealth", "fund", "insurance", "cash_management"):
                balance = amount
            elif category == "credit_card":
                loan = amount // 50
            if status == "matured":
                balance = loan = 0
            fee = int((balance + loan + (amount if balance == loan == 0 else 0)) * CATEGORY_YIELD[category])
            holdings.append(
                {
                    "customer_id": cid,
                    "product_id": p["id"],
                    "balance_cents": balance,
                    "loan_balance_cents": loan,
                    "fee_income_cents": fee,
                    "opened_on": opened,
                    "matures_on": matures,
                    "status": status,
                }
            )
            rm.balance_cents += balance
            rm.loan_cents += loan
            rm.fee_cents += fee
            if status == "active" and matures is not None and matures.toordinal() - today_ord <= 60:
                tags.append("资金即将到期")
            if category in ("wealth", "fund"):
                tags.append("理财偏好")
            if p["code"] == "LN-MTG":
                tags.append("有房贷")
            if p["code"] == "PAY-PAYROLL":
                tags.append("代发工资客户")
            # Reservoir sample: every holding has the same chance to feed the ledger.
            rm.seen += 1
            if len(rm.sample) < 80:
                rm.sample.append((cid, p["id"]))
            else:
                j = int(self.rand() * rm.seen)
                if j < 80:
                    rm.sample[j] = (cid, p["id"])
        if not corporate and scale > 6e6:
            tags.append("高净值客户")

    # -- performance and conduct ------------------------------------------------------------------

    def _achievement(self, rm: _Rm, months_in_post: int) -> float:
        rng = self.rng
        if rm.persona == Persona.newcomer:
            return min(0.85, 0.3 + 0.08 * months_in_post + rng.uniform(-0.05, 0.08))
        if rm.persona == Persona.general:
            return rng.uniform(0.96, 1.1)
        if rm.persona == Persona.excellent:
            return rng.uniform(1.15, 1.4)
        if rm.persona == Persona.super:
            return rng.uniform(1.55, 2.1)
        # veteran: erratic — idle months, ordinary months and spikes
        roll = rng.random()
        if roll < 0.35:
            return rng.uniform(0.25, 0.7)
        if roll < 0.7:
            return rng.uniform(0.85, 1.2)
        return rng.uniform(1.7, 2.6)

    def _ledger_entry(
        self,
        rm: _Rm,
        kind: str,
        amount: int,
        booked: date,
        *,
        late: bool = False,
        source: str = "core",
        source_ref: str | None = None,
        pick: tuple[int | None, int | None] | None = None,
    ) -> dict[str, Any]:
        customer_id, product_id = pick or (self.pick(rm.sample) if rm.sample else (None, None))
        hour = self.between(20, 23) if late else self.between(9, 17)
        return {
            "rm_id": rm.id,
            "booked_on": booked,
            "kind": kind,
            "amount_cents": amount,
            "customer_id": customer_id,
            "product_id": product_id,
            "source": source,
            "source_ref": source_ref,
            "created_at": _local_dt(booked, hour, self.between(0, 59)),
        }

    def _performance(self, writer: _Writer) -> None:
        """24 months of targets and ledger entries per RM (from the month they were hired)."""
        rng = self.rng
        months = _month_starts(self.today, 24)
        targets: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        licensed = {
            q: [p["id"] for p in self.products if p["qualification"] == q] for q in catalog.QUALIFICATIONS
        }
        ref = 0
        for rm in self.rms:
            spec = PERSONAS[rm.persona]
            # Monthly targets follow the run rate of the RM's book, with a floor by grade.
            floor = {"初级": 20_000_00, "中级": 60_000_00, "高级": 120_000_00, "资深": 200_000_00}[spec.grade]
            monthly_revenue = max(floor, rm.fee_cents // 12)
            monthly_new = max(floor * 20, (rm.balance_cents + rm.loan_cents) // 60)
            hire_month = rm.hire_date.replace(day=1)
            for i, month in enumerate(months):
                if month < hire_month:
                    continue
                months_in_post = (month.year - hire_month.year) * 12 + month.month - hire_month.month
                growth = 0.92 ** ((len(months) - 1 - i) / 12)  # targets rose ~8% a year
                revenue_target = int(monthly_revenue * growth)
                new_target = int(monthly_new * growth)
                targets.append(
                    {
                        "rm_id": rm.id,
                        "month": month_key(month),
                        "revenue_target_cents": revenue_target,
                        "new_business_target_cents": new_target,
                        "new_customers_target": spec.new_customers_target,
                    }
                )
                last_day = calendar.monthrange(month.year, month.month)[1]
                days = [
                    month.replace(day=d)
                    for d in range(1, last_day + 1)
                    if rm.hire_date <= month.replace(day=d) < self.today
                ]
                if not days:
                    continue
                ratio = self._achievement(rm, months_in_post)
                # The current month is under way: results so far.
                share = len(days) / last_day if month == months[-1] else 1.0
                revenue = int(revenue_target * ratio * share)
                parts = self.between(3, 6)
                for _ in range(parts):
                    entries.append(self._ledger_entry(rm, "revenue", revenue // parts, self.pick(days)))
                new_business = int(new_target * ratio * share)
                if rm.persona == Persona.veteran and ratio > 1.6:
                    ref = self._veteran_spike(entries, rm, new_business, days, last_day, licensed, ref)
                else:
                    parts = self.between(1, 3)
                    for _ in range(parts):
                        entries.append(
                            self._ledger_entry(rm, "new_business", new_business // parts, self.pick(days))
                        )
                existing = int(new_business * rng.uniform(0.5, 1.5))
                entries.append(self._ledger_entry(rm, "existing_business", existing, self.pick(days)))
                for _ in range(round(spec.new_customers_target * min(ratio, 1.6) * share)):
                    entries.append(self._ledger_entry(rm, "new_customer", 0, self.pick(days)))
        writer.insert(table_of(PerformanceTarget), targets)
        writer.insert(table_of(PerformanceEntry), entries)

    def _veteran_spike(
        self,
        entries: list[dict[str, Any]],
        rm: _Rm,
        new_business: int,
        days: list[date],
        last_day: int,
        licensed: dict[str, list[int]],
        ref: int,
    ) -> int:
        """Conduct signal: most of a spike month's new business lands on the month's last two days,
        late in the evening; much of it is reversed a few days later; and some of it is a product
        the RM holds no licence to sell."""
        rng = self.rng
        month_end = days[0].replace(day=last_day)
        burst_days = [d for d in days if d.day >= last_day - 1] or days[-1:]
        for _ in range(self.between(4, 7)):
            ref += 1
            tx = f"TX{self.seed}-{ref:07d}"
            amount = int(new_business * rng.uniform(0.1, 0.2))
            sale = self._ledger_entry(
                rm, "new_business", amount, self.pick(burst_days), late=True, source_ref=tx
            )
            entries.append(sale)
            reverse_day = month_end + timedelta(days=self.between(2, 6))
            if reverse_day < self.today and rng.random() < 0.7:
                back = -int(amount * rng.uniform(0.4, 0.9))
                entries.append(
                    self._ledger_entry(
                        rm,
                        "new_business",
                        back,
                        reverse_day,
                        source="adjustment",
                        source_ref=f"reversal:{tx}",
                        pick=(sale["customer_id"], sale["product_id"]),
                    )
                )
        lacking = [q for q in ("wealth", "fx") if q not in rm.qualifications and licensed[q]]
        if lacking and rm.sample:
            product_id = self.pick(licensed[self.pick(lacking)])
            pick = (self.pick(rm.sample)[0], product_id)
            amount = int(new_business * 0.1)
            entries.append(
                self._ledger_entry(rm, "new_business", amount, self.pick(burst_days), late=True, pick=pick)
            )
        return ref

    def _audit_history(self, writer: _Writer) -> None:
        """Sign-ins over the last 60 days for everyone; for veterans, late-night bursts of
        `customer.reveal` from addresses outside the bank's network."""
        rng = self.rng
        rows: list[dict[str, Any]] = []
        for rm in self.rms:
            for back in range(60, 0, -1):
                day = self.today - timedelta(days=back)
                if day.weekday() >= 5 or day < rm.hire_date or rng.random() < 0.1:
                    continue
                rows.append(
                    {
                        "at": _local_dt(day, self.between(8, 9), self.between(0, 59), self.between(0, 59)),
                        "actor_id": rm.id,
                        "action": "login.success",
                        "object_type": None,
                        "object_id": None,
                        "ip": f"10.{rm.branch_id % 250}.{self.between(1, 20)}.{self.between(2, 250)}",
                        "detail": {},
                    }
                )
            owned = [c for c, _ in rm.sample if c is not None]
            if not owned:
                continue
            reveals = 0
            if rm.persona == Persona.veteran:
                reveals = self.between(3, 6)  # bursts
            elif rng.random() < 0.5:
                reveals = 1
            for _ in range(reveals):
                day = self.today - timedelta(days=self.between(1, 90))
                veteran = rm.persona == Persona.veteran
                at = _local_dt(
                    day, self.between(22, 23) if veteran else self.between(9, 17), self.between(0, 30)
                )
                ip = (
                    f"117.{self.between(20, 200)}.{self.between(0, 255)}.{self.between(2, 250)}"
                    if veteran
                    else f"10.{rm.branch_id % 250}.1.{self.between(2, 250)}"
                )
                for _ in range(self.between(15, 40) if veteran else self.between(1, 2)):
                    at += timedelta(seconds=self.between(5, 40))
                    rows.append(
                        {
                            "at": at,
                            "actor_id": rm.id,
                            "action": "customer.reveal",
                            "object_type": "customer",
                            "object_id": str(self.pick(owned)),
                            "ip": ip,
                            "detail": {"field": "phone", "reason": "核实客户联系方式"},
                        }
                    )
        rows.sort(key=lambda r: r["at"])
        writer.insert(table_of(AuditEntry), rows)
