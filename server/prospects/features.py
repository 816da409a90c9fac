"""The bank's book and the prospect universe as columns, read in a few set-based queries, and the
one graph that joins them (customers are nodes 0..C-1, prospects C..C+P-1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import Connection, bindparam, text
from sqlmodel import col, select

from server.prospects.lookalike import Graph, encode_firms
from server.prospects.models import ProspectActivity, ProspectClaim

TOP_TIERS = ("vip", "high")
BOOK_CHAIN_KINDS = ("supplier", "buyer", "shareholder")  # customer_link kinds that join the graph


def _years(founded: list, today: date) -> np.ndarray:
    return np.array(
        [
            np.nan
            if f is None
            else (today - (f if isinstance(f, date) else date.fromisoformat(str(f)[:10]))).days / 365.25
            for f in founded
        ],
        dtype=np.float64,
    )


@dataclass
class Book:
    """The bank's corporate customers."""

    ids: np.ndarray
    owner_ids: np.ndarray
    names: list[str]
    industry: list
    region: list
    size: list
    blocks: dict[str, np.ndarray]
    top: np.ndarray  # VIP/high tier
    new_business: np.ndarray  # a holding opened in the last 12 months
    revenue: np.ndarray
    lat: np.ndarray
    lng: np.ndarray
    chain: tuple[np.ndarray, np.ndarray]  # customer-customer supply-chain ties, as book indices

    def __len__(self) -> int:
        return len(self.ids)

    def index_of(self) -> dict[int, int]:
        return {int(c): i for i, c in enumerate(self.ids)}


def load_book(conn: Connection, *, today: date) -> Book:
    rows = conn.execute(
        text(
            "SELECT c.id, c.owner_id, c.name, c.industry_code, c.region_code, c.size, c.ownership, c.tier,"
            " p.founded_on, p.registered_capital_cents, p.revenue_cents, c.latitude, c.longitude"
            " FROM customer c JOIN corporate_profile p ON p.customer_id = c.id"
            " WHERE c.kind = 'corporate' ORDER BY c.id"
        )
    ).all()
    cols: list = list(zip(*rows, strict=True)) if rows else [() for _ in range(13)]
    ids = np.array(cols[0], dtype=np.int64)
    since = today - timedelta(days=365)
    recent = {
        r[0]
        for r in conn.execute(
            text("SELECT DISTINCT customer_id FROM holding WHERE opened_on >= :since"), {"since": since}
        )
    }
    index = {int(c): i for i, c in enumerate(ids)}
    links = conn.execute(
        text(
            "SELECT from_customer_id, to_customer_id FROM customer_link WHERE to_customer_id IS NOT NULL"
            " AND kind IN :kinds"
        ).bindparams(bindparam("kinds", expanding=True)),
        {"kinds": list(BOOK_CHAIN_KINDS)},
    ).all()
    pairs = [(index[a], index[b]) for a, b in links if a in index and b in index]
    a = np.array([p[0] for p in pairs], dtype=np.int64)
    b = np.array([p[1] for p in pairs], dtype=np.int64)
    capital = np.array([np.nan if v is None else v / 100 for v in cols[9]], dtype=np.float64)
    return Book(
        ids=ids,
        owner_ids=np.array(cols[1], dtype=np.int64),
        names=list(cols[2]),
        industry=list(cols[3]),
        region=list(cols[4]),
        size=list(cols[5]),
        blocks=encode_firms(
            industry=list(cols[3]),
            region=list(cols[4]),
            size=list(cols[5]),
            ownership=list(cols[6]),
            age_years=_years(list(cols[8]), today),
            capital_yuan=capital,
        ),
        top=np.array([t in TOP_TIERS for t in cols[7]], dtype=bool),
        new_business=np.array([int(c) in recent for c in ids], dtype=bool),
        revenue=np.array([0 if v is None else v for v in cols[10]], dtype=np.float64),
        lat=np.array([np.nan if v is None else v for v in cols[11]], dtype=np.float64),
        lng=np.array([np.nan if v is None else v for v in cols[12]], dtype=np.float64),
        chain=(a, b),
    )


@dataclass
class Universe:
    """Open prospects (not customers) and their ties; for training, also the prospects that
    became customers (`converted`), whose outcome the model learns from."""

    ids: np.ndarray
    converted: np.ndarray  # bool: became a customer (kept as a node with its ties; never scored)
    blocks: dict[str, np.ndarray]
    # Ties as (prospect index, customer book index) or (prospect index, prospect index).
    chain_customer: tuple[np.ndarray, np.ndarray]
    chain_prospect: tuple[np.ndarray, np.ndarray]
    dm_customer: tuple[np.ndarray, np.ndarray]
    park_customer: tuple[np.ndarray, np.ndarray]
    park: np.ndarray  # park number per prospect, -1: none
    park_names: list[str]

    def __len__(self) -> int:
        return len(self.ids)


def load_universe(conn: Connection, *, book: Book, today: date, with_converted: bool = False) -> Universe:
    statuses = ["open", "converted"] if with_converted else ["open"]
    rows = conn.execute(
        text(
            "SELECT id, industry_code, region_code, size, ownership, founded_on, registered_capital_cents,"
            " park, status FROM prospect WHERE status IN :statuses AND kind = 'corporate' ORDER BY id"
        ).bindparams(bindparam("statuses", expanding=True)),
        {"statuses": statuses},
    ).all()
    cols: list = list(zip(*rows, strict=True)) if rows else [() for _ in range(9)]
    ids = np.array(cols[0], dtype=np.int64)
    p_index = {int(p): i for i, p in enumerate(ids)}
    c_index = book.index_of()
    ties: dict[str, list[tuple[int, int]]] = {"chain_c": [], "chain_p": [], "dm": [], "park": []}
    for pid, kind, cid, other in conn.execute(
        text("SELECT prospect_id, kind, customer_id, other_prospect_id FROM prospect_link")
    ):
        i = p_index.get(pid)
        if i is None:
            continue
        if cid is not None and cid in c_index:
            j = c_index[cid]
            key = "dm" if kind == "decision_maker" else "park" if kind == "park" else "chain_c"
            ties[key].append((i, j))
        elif other is not None and other in p_index and kind not in ("decision_maker", "park"):
            ties["chain_p"].append((i, p_index[other]))

    def pair(key: str) -> tuple[np.ndarray, np.ndarray]:
        values = ties[key]
        return (
            np.array([v[0] for v in values], dtype=np.int64),
            np.array([v[1] for v in values], dtype=np.int64),
        )

    capital = np.array([np.nan if v is None else v / 100 for v in cols[6]], dtype=np.float64)
    park_names = sorted({p for p in cols[7] if p})
    park_number = {name: k for k, name in enumerate(park_names)}
    return Universe(
        ids=ids,
        converted=np.array([status == "converted" for status in cols[8]], dtype=bool),
        blocks=encode_firms(
            industry=list(cols[1]),
            region=list(cols[2]),
            size=list(cols[3]),
            ownership=list(cols[4]),
            age_years=_years(list(cols[5]), today),
            capital_yuan=capital,
        ),
        chain_customer=pair("chain_c"),
        chain_prospect=pair("chain_p"),
        dm_customer=pair("dm"),
        park_customer=pair("park"),
        park=np.array([park_number.get(p, -1) if p else -1 for p in cols[7]], dtype=np.int64),
        park_names=park_names,
    )


def build_graph(book: Book, universe: Universe) -> Graph:
    """A customer is in the park of the prospects that name it as a park neighbour."""
    c = len(book)
    park_of = np.full(c + len(universe), -1, dtype=np.int64)
    park_of[c:] = universe.park
    p_idx, c_idx = universe.park_customer
    if len(p_idx):
        park_of[c_idx] = universe.park[p_idx]
    return Graph.build(
        c + len(universe),
        (
            np.concatenate([book.chain[0], universe.chain_customer[0] + c, universe.chain_prospect[0] + c]),
            np.concatenate([book.chain[1], universe.chain_customer[1], universe.chain_prospect[1] + c]),
        ),
        park_of,
    )


def load_outcomes(conn: Connection, *, universe: Universe, now: datetime) -> tuple[np.ndarray, np.ndarray]:
    """The prospects the bank developed and whose outcome it knows, as universe indices, and
    whether each converted. Developed: an RM logged a visit. Known: it became a customer, or no
    claim on it is still running (released or lapsed without a conversion). A prospect still being
    worked on has no outcome yet and is left out."""
    visited = set(
        conn.execute(
            select(ProspectActivity.prospect_id).where(col(ProspectActivity.kind) == "visited").distinct()
        ).scalars()
    )
    running = set(
        conn.execute(
            select(ProspectClaim.prospect_id)
            .where(col(ProspectClaim.ended_at).is_(None), col(ProspectClaim.expires_at) > now)
            .distinct()
        ).scalars()
    )
    known = np.array(
        [
            int(p) in visited and (bool(done) or int(p) not in running)
            for p, done in zip(universe.ids, universe.converted, strict=True)
        ],
        dtype=bool,
    )
    rows = np.flatnonzero(known)
    return rows, universe.converted[rows]
