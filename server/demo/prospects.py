"""The demo bank's prospect universe (待开发客户): firms in the bank's cities that are not customers,
with registry fields, ties to the book (supply chain, shareholding, shared decision makers, parks)
and a planted, hidden truth: each firm's propensity to become a good customer.

The truth depends on industry, size and region (how much they resemble the firms that did new
business with the bank in the last 12 months), age, capital and ties to the best customers, plus noise the features cannot see. It is written to
`prospect_truth`, which only the evaluation reads. The bank's past development of prospects (5 %
claimed and visited, each converted or not as its propensity draws) is recorded as the app records
it (claims, visits, conversions): those are the outcomes the training job learns the tie weights from.

`generate_universe` is pure numpy (the benchmark runs it for 1,000,000 firms in memory);
`load_prospect_universe` writes it to the database with bulk inserts and trains the bank's first
lookalike model, and is called by one line from the demo generator."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine, insert, text

from server.db import table_of
from server.demo import industries, naming, places
from server.prospects.features import Book, Universe, load_book
from server.prospects.lookalike import INDUSTRY_CODES, REGION_CODES, SIZES, encode_firms
from server.reference import REGIONS
from server.validators import uscc_check_char

log = logging.getLogger(__name__)

OWNERSHIPS = ("government", "central_soe", "local_soe", "private", "foreign")
OWNERSHIP_MIX = (0.01, 0.03, 0.07, 0.83, 0.06)
SIZE_MIX = (0.02, 0.08, 0.30, 0.60)
PARKS_PER_CITY = 5
PARK_WORDS = ("高新技术产业园", "经济技术开发区", "软件园", "物流园", "智能制造产业园", "生物医药产业园")
BASE_RATE = 0.03  # share of good customers among prospects
NOISE = 0.6  # sd of what no feature can see (management, luck, a competitor's grip)
LINK_SHARE = {"customer": 0.30, "prospect": 0.25, "decision_maker": 0.02}
ALREADY_CUSTOMERS = 0.005  # registry rows that are already customers: merged away on load
# Prospects the bank's RMs developed in past years (claimed and visited), whose outcome is known:
# each converted or not as real firms do, drawn from its own propensity (a draw of its own, not
# `good`). Picked at random: which firms were developed depends on nothing the truth hides.
DEVELOPED_SHARE = 0.05


@dataclass
class Generated:
    universe: Universe
    region: np.ndarray  # region code index per prospect
    industry: np.ndarray
    size: np.ndarray
    ownership: np.ndarray
    age_years: np.ndarray
    capital_yuan: np.ndarray
    lat: np.ndarray
    lng: np.ndarray
    park_names: list[str]
    link_kinds: dict[str, np.ndarray]  # chain_customer / chain_prospect kinds
    propensity: np.ndarray
    good: np.ndarray
    developed: np.ndarray  # developed in past years, outcome known (what the bank records)
    converted: np.ndarray  # ... and became a customer


def _log_ratio(best: np.ndarray, universe: np.ndarray, width: int) -> np.ndarray:
    b = np.bincount(best, minlength=width) / max(len(best), 1)
    u = np.bincount(universe, minlength=width) / max(len(universe), 1)
    return np.clip(np.log((b + 0.004) / (u + 0.004)), -1.5, 1.5)


def generate_universe(book: Book, n: int, *, seed: int) -> Generated:
    rng = np.random.default_rng([seed, 2026])
    regions = len(REGION_CODES)
    industries = [i for i, code in enumerate(INDUSTRY_CODES) if not code.startswith("S")]
    region = rng.choice(regions, size=n, p=rng.dirichlet(np.full(regions, 20.0)))
    industry = np.asarray(industries)[
        rng.choice(len(industries), size=n, p=rng.dirichlet(np.full(len(industries), 8.0)))
    ]
    size = rng.choice(4, size=n, p=SIZE_MIX)
    ownership = rng.choice(5, size=n, p=OWNERSHIP_MIX)
    # Age and capital follow the same law given size as the bank's own customers (one market).
    low = np.array([12.0, 6.0, 3.0, 1.0])[size]
    high = np.array([40.0, 30.0, 20.0, 10.0])[size]
    age = low + (high - low) * rng.random(n)
    rev_low = np.log(np.array([4e8, 2e7, 3e6, 2e5]))[size]
    rev_high = np.log(np.array([3e10, 4e8, 2e7, 3e6]))[size]
    revenue = np.exp(rev_low + (rev_high - rev_low) * rng.random(n))
    # Rounded to a million yuan; a firm that rounds to nothing registers 100,000 yuan, exactly as the
    # book's own customers do (a floor of a million made every small seed look unlike any prospect).
    capital = np.round(revenue * rng.uniform(0.05, 0.4, size=n) / 1e6) * 1e6
    capital[capital == 0] = 1e5
    center_lat = np.array([REGIONS[c]["lat"] for c in REGION_CODES])
    center_lng = np.array([REGIONS[c]["lng"] for c in REGION_CODES])
    lat = center_lat[region] + rng.normal(0, 0.05, size=n)
    lng = center_lng[region] + rng.normal(0, 0.06, size=n)
    # Parks: a few per city; a fifth of the firms sit in one, around its centre.
    park_names = [
        f"{REGIONS[code]['name'].rstrip('市')}{PARK_WORDS[k % len(PARK_WORDS)]}"
        + ("" if k < len(PARK_WORDS) else f"{k}")
        for code in REGION_CODES
        for k in range(PARKS_PER_CITY)
    ]
    park_lat = np.repeat(center_lat, PARKS_PER_CITY) + rng.normal(0, 0.06, size=len(park_names))
    park_lng = np.repeat(center_lng, PARKS_PER_CITY) + rng.normal(0, 0.07, size=len(park_names))
    park = np.where(rng.random(n) < 0.2, region * PARKS_PER_CITY + rng.integers(0, PARKS_PER_CITY, n), -1)
    in_park = park >= 0
    lat[in_park] = park_lat[park[in_park]] + rng.normal(0, 0.006, size=int(in_park.sum()))
    lng[in_park] = park_lng[park[in_park]] + rng.normal(0, 0.007, size=int(in_park.sum()))

    # Ties to the book: customers of the same city are likelier partners.
    c = len(book)
    book_region = book.blocks["region"].astype(np.int64)
    by_region = [np.flatnonzero(book_region == r) for r in range(regions)]

    def customer_in(regions_of: np.ndarray) -> np.ndarray:
        out = rng.integers(0, max(c, 1), size=len(regions_of))
        same = rng.random(len(regions_of)) < 0.7
        for r in range(regions):
            pool = by_region[r]
            rows = np.flatnonzero(same & (regions_of == r))
            if len(pool) and len(rows):
                out[rows] = pool[rng.integers(0, len(pool), size=len(rows))]
        return out

    has_c = np.flatnonzero(rng.random(n) < LINK_SHARE["customer"]) if c else np.empty(0, np.int64)
    chain_c = (has_c, customer_in(region[has_c]))
    has_p = np.flatnonzero(rng.random(n) < LINK_SHARE["prospect"])
    order = np.argsort(region, kind="stable")  # partners in the same city
    starts = np.searchsorted(region[order], np.arange(regions))
    ends = np.searchsorted(region[order], np.arange(regions), side="right")
    r_of = region[has_p]
    span = np.maximum(ends[r_of] - starts[r_of], 1)
    partner = order[starts[r_of] + rng.integers(0, 1 << 30, size=len(has_p)) % span]
    keep = partner != has_p
    chain_p = (has_p[keep], partner[keep])
    has_dm = np.flatnonzero(rng.random(n) < LINK_SHARE["decision_maker"]) if c else np.empty(0, np.int64)
    dm = (has_dm, customer_in(region[has_dm]))
    # Each park has a few of the bank's customers; its firms are tied to one of them.
    park_customers: dict[int, np.ndarray] = {}
    for k in range(len(park_names)):
        pool = by_region[k // PARKS_PER_CITY]
        if len(pool):
            park_customers[k] = pool[rng.integers(0, len(pool), size=min(len(pool), int(rng.integers(1, 8))))]
    park_rows = np.flatnonzero(in_park & np.isin(park, list(park_customers)))
    park_c = (
        park_rows,
        np.array(
            [park_customers[k][int(rng.integers(0, len(park_customers[k])))] for k in park[park_rows]],
            dtype=np.int64,
        ),
    )
    chain_kinds = {
        "chain_customer": rng.choice(4, size=len(chain_c[0]), p=(0.4, 0.4, 0.1, 0.1)),
        "chain_prospect": rng.choice(4, size=len(chain_p[0]), p=(0.4, 0.4, 0.1, 0.1)),
    }

    blocks = encode_firms(
        industry=[INDUSTRY_CODES[i] for i in industry],
        region=[REGION_CODES[r] for r in region],
        size=[SIZES[s] for s in size],
        ownership=[OWNERSHIPS[o] for o in ownership],
        age_years=age,
        capital_yuan=capital,
    )
    universe = Universe(
        ids=np.arange(1, n + 1, dtype=np.int64),
        converted=np.zeros(n, dtype=bool),  # set below, once the outcomes are drawn
        blocks=blocks,
        chain_customer=chain_c,
        chain_prospect=chain_p,
        dm_customer=dm,
        park_customer=park_c,
        park=park,
        park_names=park_names,
    )
    propensity = _planted_truth(book, universe, rng, age=age, capital=capital)
    good = rng.random(n) < propensity
    developed = rng.random(n) < DEVELOPED_SHARE
    converted = developed & (rng.random(n) < propensity)
    universe.converted = converted
    return Generated(
        universe,
        region,
        industry,
        size,
        ownership,
        age,
        capital,
        lat,
        lng,
        park_names,
        chain_kinds,
        propensity,
        good,
        developed,
        converted,
    )


def _planted_truth(
    book: Book, universe: Universe, rng: np.random.Generator, *, age: np.ndarray, capital: np.ndarray
) -> np.ndarray:
    """Propensity to become a good customer. Never a feature, never in the API."""
    n = len(universe)
    best = np.flatnonzero(book.top)
    # The firms that do business with the bank today set the profile of a good customer.
    active = np.flatnonzero(book.new_business) if book.new_business.any() else best
    logit = np.zeros(n)
    for name, scale in (("industry", 1.0), ("region", 0.8), ("size", 0.7)):
        width = int(max(universe.blocks[name].max(initial=0), book.blocks[name].max(initial=0))) + 1
        logit += (
            scale * _log_ratio(book.blocks[name][active], universe.blocks[name], width)[universe.blocks[name]]
        )
    logit -= np.where(age < 2, 0.5, 0.0)  # too young to know
    is_best = np.zeros(max(len(book), 1), dtype=bool)
    is_best[best] = True
    ties = np.zeros(n)
    p, cidx = universe.chain_customer
    ties[p] += 0.7  # a partner of any customer
    np.add.at(ties, p[is_best[cidx]], 1.5)  # ... of a best customer
    linked_best = np.zeros(n, dtype=bool)
    linked_best[p[is_best[cidx]]] = True
    a, b = universe.chain_prospect
    two_hop = np.zeros(n, dtype=bool)
    two_hop[a[linked_best[b]]] = True
    two_hop[b[linked_best[a]]] = True
    ties += np.where(two_hop & ~linked_best, 0.7, 0.0)
    p, cidx = universe.dm_customer
    np.add.at(ties, p[is_best[cidx]], 0.8)
    p, cidx = universe.park_customer
    np.add.at(ties, p[is_best[cidx]], 0.5)
    logit += np.minimum(ties, 3.0) + rng.normal(0, NOISE, size=n)
    lo, hi = -20.0, 20.0
    for _ in range(60):  # the intercept that gives the base rate
        mid = (lo + hi) / 2
        if np.mean(1 / (1 + np.exp(-(logit + mid)))) > BASE_RATE:
            hi = mid
        else:
            lo = mid
    return 1 / (1 + np.exp(-(logit + lo)))


# --- writing the demo universe ----------------------------------------------------------------


def _credit_code(region: str, serial: int, seed: int) -> str:
    prefix = "91"
    body8 = f"{(serial * 48_271 + seed * 7_777 + 13_579_113) % 10**8:08d}"
    total = sum(int(ch) * w for ch, w in zip(body8, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    org_check = "X" if check == 10 else "0" if check == 11 else str(check)
    first17 = prefix + region + body8 + org_check
    return first17 + uscc_check_char(first17)


def _names(g: Generated, rng: np.random.Generator, taken: set[str]) -> list[str]:
    first, second = naming.TRADE_FIRST, naming.TRADE_SECOND
    out = []
    for i in range(len(g.region)):
        city = REGIONS[REGION_CODES[g.region[i]]]["name"].rstrip("市")
        code = INDUSTRY_CODES[g.industry[i]]
        words = industries.INDUSTRY_WORDS.get(code) or ["实业"]
        word = words[int(rng.integers(0, len(words)))]
        trade = first[int(rng.integers(0, len(first)))] + second[int(rng.integers(0, len(second)))]
        suffix = "股份有限公司" if g.size[i] <= 1 and rng.random() < 0.5 else "有限公司"
        name = f"{city}{trade}{word}{suffix}"
        k = 2
        while name in taken:
            name = f"{city}{trade}{word}{suffix.removesuffix('有限公司')}第{k}有限公司"
            k += 1
        taken.add(name)
        out.append(name)
    return out


def load_prospect_universe(engine: Engine, *, seed: int, today: date, customers: int) -> dict[str, int]:
    """Writes the universe next to the customers (10 prospects per customer unless DEMO_PROSPECTS
    says otherwise) and trains the bank's default lookalike model."""
    from server.config import load_settings
    from server.prospects.models import (
        LINK_LABELS,
        LinkKind,
        Prospect,
        ProspectActivity,
        ProspectClaim,
        ProspectLink,
        ProspectTruth,
    )

    started = time.perf_counter()
    n = load_settings().DEMO_PROSPECTS or 10 * customers
    if n <= 0:
        return {}
    with engine.begin() as conn:
        book = load_book(conn, today=today)
        base = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM prospect")).scalar_one()
        customer_codes = [r[0] for r in conn.execute(text("SELECT credit_code FROM corporate_profile"))]
        taken = {r[0] for r in conn.execute(text("SELECT name FROM customer WHERE kind = 'corporate'"))}
    g = generate_universe(book, n, seed=seed)
    rng = np.random.default_rng([seed, 4754])
    names = _names(g, rng, taken)
    now = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    registry_day = (today - timedelta(days=3)).isoformat()
    source = {"source": "工商登记(演示)", "at": registry_day}
    sources = {
        f: source
        for f in (
            "name",
            "credit_code",
            "industry_code",
            "size",
            "registered_capital_cents",
            "founded_on",
            "address",
        )
    }
    districts = places.DISTRICTS
    roads = ("路", "大道", "街")
    prospect_rows: list[dict[str, Any]] = []
    for i in range(n):
        region = REGION_CODES[g.region[i]]
        district = (districts.get(region) or [region])[i % len(districts.get(region) or [region])]
        prospect_rows.append(
            {
                "id": base + i + 1,
                "kind": "corporate",
                "name": names[i],
                "credit_code": _credit_code(region, base + i + 1, seed),
                "industry_code": INDUSTRY_CODES[g.industry[i]],
                "size": SIZES[g.size[i]],
                "ownership": OWNERSHIPS[g.ownership[i]],
                "registered_capital_cents": int(g.capital_yuan[i] * 100),
                "founded_on": today - timedelta(days=int(g.age_years[i] * 365.25)),
                "address": f"{REGIONS[region]['name']}{district[-2:]}区{naming.TRADE_FIRST[i % 40]}{naming.TRADE_SECOND[i % 38]}{roads[i % 3]}{1 + i % 999}号",
                "region_code": region,
                "latitude": round(float(g.lat[i]), 6),
                "longitude": round(float(g.lng[i]), 6),
                "park": g.park_names[g.universe.park[i]] if g.universe.park[i] >= 0 else None,
                "lawful_for_marketing": True,
                "status": "open",
                "customer_id": None,
                "claimed_by": None,
                "claimed_until": None,
                "converted_at": None,
                "field_sources": sources,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    # A few registry rows are firms the bank already serves: merged away, never shown.
    if customer_codes:
        # A customer's code another row already carries (the two generators can meet in a large
        # bank) is not used again: credit codes are unique in the registry.
        used: set[str] = {row["credit_code"] for row in prospect_rows}
        for i in np.flatnonzero(rng.random(n) < ALREADY_CUSTOMERS).tolist():
            code = customer_codes[int(rng.integers(0, len(customer_codes)))]
            if code not in used:
                used.add(code)
                prospect_rows[i]["credit_code"] = code
    # The bank's past development of prospects, as the bank records it: an RM's claim, a visit, and
    # the claim's end — the firm became a customer (`converted`), or the claim lapsed without it.
    # (The demo keeps its book as generated: a past conversion's customer record is not added.)
    claim_rows: list[dict[str, Any]] = []
    activity_rows: list[dict[str, Any]] = []
    for i in np.flatnonzero(g.developed).tolist() if len(book) else []:
        rm_id = int(book.owner_ids[int(rng.integers(0, len(book)))])
        claimed = now - timedelta(days=int(rng.integers(45, 900)))
        visited = claimed + timedelta(days=int(rng.integers(1, 20)))
        ended = (
            visited + timedelta(days=int(rng.integers(1, 10)))
            if g.converted[i]
            else claimed + timedelta(days=30)
        )
        if g.converted[i]:
            prospect_rows[i].update(status="converted", converted_at=ended)
        claim_rows.append(
            {
                "prospect_id": base + i + 1,
                "rm_id": rm_id,
                "claimed_at": claimed,
                "expires_at": claimed + timedelta(days=30),
                "ended_at": ended,
                "end_reason": "converted" if g.converted[i] else "expired",
            }
        )
        activity_rows.append(
            {"prospect_id": base + i + 1, "rm_id": rm_id, "kind": "visited", "at": visited, "note": None}
        )
    kinds = (LinkKind.supplier, LinkKind.buyer, LinkKind.shareholder, LinkKind.subsidiary)
    link_rows: list[dict[str, Any]] = []

    def add(pairs, kind_of, *, to_customer: bool) -> None:
        for k, (p, other) in enumerate(zip(pairs[0].tolist(), pairs[1].tolist(), strict=True)):
            kind = kind_of(k)
            link_rows.append(
                {
                    "prospect_id": base + p + 1,
                    "kind": kind.value,
                    "customer_id": int(book.ids[other]) if to_customer else None,
                    "other_prospect_id": None if to_customer else base + other + 1,
                    "label": LINK_LABELS[kind],
                    "source_id": None,
                    "created_at": now,
                }
            )

    add(g.universe.chain_customer, lambda k: kinds[g.link_kinds["chain_customer"][k]], to_customer=True)
    add(g.universe.chain_prospect, lambda k: kinds[g.link_kinds["chain_prospect"][k]], to_customer=False)
    add(g.universe.dm_customer, lambda k: LinkKind.decision_maker, to_customer=True)
    add(g.universe.park_customer, lambda k: LinkKind.park, to_customer=True)
    seen: set[tuple] = set()
    unique_links = []
    for row in link_rows:
        key = (row["prospect_id"], row["kind"], row["customer_id"], row["other_prospect_id"])
        if key not in seen:
            seen.add(key)
            unique_links.append(row)
    truth_rows = [
        {"prospect_id": base + i + 1, "propensity": float(g.propensity[i]), "good": bool(g.good[i])}
        for i in range(n)
    ]
    with engine.begin() as conn:
        for table, rows in (
            (table_of(Prospect), prospect_rows),
            (table_of(ProspectLink), unique_links),
            (table_of(ProspectTruth), truth_rows),
            (table_of(ProspectClaim), claim_rows),
            (table_of(ProspectActivity), activity_rows),
        ):
            for start in range(0, len(rows), 10_000):
                conn.execute(insert(table), rows[start : start + 10_000])  # type: ignore[arg-type]
        # Registry rows naming an existing customer's credit code: merged into that customer.
        conn.execute(
            text(
                "UPDATE prospect SET status = 'merged', customer_id = (SELECT customer_id FROM corporate_profile"
                " WHERE corporate_profile.credit_code = prospect.credit_code)"
                " WHERE credit_code IN (SELECT credit_code FROM corporate_profile)"
            )
        )
        if conn.dialect.name == "postgresql":
            for name in ("prospect", "prospect_link"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)"
                    )
                )
    from server.prospects.training import train_default_now

    model = train_default_now(engine, today=today)
    log.info("prospect universe: %d prospects in %.1fs", n, time.perf_counter() - started)
    return {
        "prospect": n,
        "prospect_link": len(unique_links),
        "prospect_claim": len(claim_rows),
        "prospect_model": model,
    }
