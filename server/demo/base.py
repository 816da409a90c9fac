"""What every part of the demo bank's builder shares: the personas and their recipes, the scales of
customers and products, the demo logins, small helpers (sealing, pinyin initials, Beijing wall-clock
times) and the builder's state with its seeded random picks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import Engine

from server.crypto import key_bytes as data_key_bytes
from server.demo import naming
from server.org.models import Persona
from server.pinyin import initials

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
# Small helpers


class Sealer:
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


class Initials:
    """Pinyin initials, cached per part (surnames, given names, cities, trade names repeat)."""

    def __init__(self) -> None:
        self.cache: dict[str, str] = dict(naming.SURNAME_INITIALS)

    def part(self, text_: str) -> str:
        got = self.cache.get(text_)
        if got is None:
            got = self.cache[text_] = initials(text_)
        return got

    def join(self, *parts: str) -> str:
        return "".join(self.part(p) for p in parts)[:64]


def cumulative(weights: Iterable[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def month_starts(today: date, months: int) -> list[date]:
    first = today.replace(day=1)
    out = []
    for back in range(months - 1, -1, -1):
        y, m = first.year, first.month - back
        while m <= 0:
            m += 12
            y -= 1
        out.append(date(y, m, 1))
    return out


def local_dt(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    """A Beijing wall-clock time on `day`, as aware UTC."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=UTC) - LOCAL_TZ


@dataclass
class Rm:
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


class BuilderBase:
    """The builder's state and its seeded random picks; the org, customer and ledger parts extend it."""

    def __init__(self, engine: Engine | None, *, seed: int, data_key: str, today: date):
        self._engine = engine  # None in a pool worker, which only generates rows
        self.seed = seed
        self.rng = random.Random(seed)
        self.rand = self.rng.random
        self.today = today
        self.now = datetime.combine(today, time(2, 0), tzinfo=UTC)  # 10:00 in Beijing
        self.data_key = data_key
        self.sealer = Sealer(data_key)
        self.initials = Initials()
        self.counts: dict[str, int] = {}
        self.rms: list[Rm] = []
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
        self.segment_products: dict[str, tuple[list[dict], list[float]]] = {}
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

    def _person_name(self, gender: str) -> tuple[str, str]:
        rng = self.rng
        # Frequent surnames first: a skewed pick over the list.
        surname = naming.SURNAMES[min(int(rng.expovariate(1 / 22)), len(naming.SURNAMES) - 1)]
        given = self.pick(naming.GIVEN_MALE if gender == "M" else naming.GIVEN_FEMALE)
        return surname, given
