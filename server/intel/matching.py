"""Matching items to customers through an in-memory index, never a query or a scan per item.

The index is built set-based from the database (a handful of SELECTs over whole tables) and maps
name / short name / credit code / (industry, region) / (region, section) / tag / product category /
supply-chain partner to customer ids. Each signal scores a customer; the best signal gives the
score, every further distinct signal adds BONUS_PER_SIGNAL, and the reasons are written in Chinese.

Signals and base scores:
    credit_code  95  the item carries the customer's unified social credit code
    name         90  the item names the customer (full registered name)
    short_name   80  the item names the customer by its short name (70 when the short name is shared
                     by 2-5 customers and the item's region or industry picks this one; never alone
                     when it is shared more widely or is shorter than 3 characters)
    weather      70  a weather warning for the customer's region, whose industry weather hits
    industry     65  news about the customer's industry in the customer's region
                 45  national news about the customer's industry (policy, industry, market items)
    supply_chain 60  the customer's supplier or buyer is named
    tag          55  one of the customer's tags (e.g. 专精特新) is named (天时 items)
    product      40  news about a product the customer holds (LPR → loans; market, policy items)
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import chain
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from server.customers.models import CorporateProfile, Customer, CustomerKind, CustomerLink, CustomerTag, Tag
from server.intel import funding
from server.intel.enrich import Enrichment, enrich
from server.intel.lexicon import PRODUCT_KEYWORDS
from server.products.models import Holding, Product
from server.reference import INDUSTRIES, WEATHER_SENSITIVE_SECTIONS, region_name

MIN_ALERT_SCORE = 40
NOTIFY_SCORE = 70
BONUS_PER_SIGNAL = 5
FUNDING_MIN_CENTS = 100 * 10**4 * 100  # 100万元: smaller contracts need no facility
BROAD_CATEGORIES = ("policy", "market", "industry", "weather")
FUNDING_EVENTS = ("tender_won", "contract_signed", "large_transaction")
EVENT_VERBS = {
    "tender_won": "中标",
    "contract_signed": "签订合同",
    "large_transaction": "发生大额交易",
    "legal": "涉及司法或处罚事项",
    "registration_change": "发生工商变更",
    "weather_warning": "受天气预警影响",
}
PRODUCT_LABELS = {
    "loan": "贷款",
    "deposit": "存款",
    "fx": "外汇",
    "trade_finance": "贸易融资",
    "payroll": "代发",
    "cash_management": "现金管理",
    "wealth": "理财",
}
_COMPANY_SUFFIX = re.compile(r"公司|集团")
_MAX_NAME = 40

_tokenizer: Any = None  # jieba.Tokenizer; jieba is imported on first use (it loads pkg_resources)
_tokenizer_lock = threading.Lock()


def tokenizer() -> Any:
    """One jieba tokenizer per process; customers' short names are added to it as a user dictionary
    so each comes out as one token."""
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            tok.initialize()
            _tokenizer = tok
        return _tokenizer


@dataclass
class Match:
    customer_id: int
    rm_id: int
    score: int
    signals: list[str]
    reasons: list[str]
    sentiment: str
    funding_need: dict | None = None

    @property
    def reason(self) -> str:
        return "；".join(self.reasons)[:500]


@dataclass
class Found:
    """A company the item names: which customers it is, and how it was recognised."""

    text: str
    customer_ids: list[int]
    how: str  # name, short_name, credit_code


@dataclass
class CustomerIndex:
    owner: dict[int, int] = field(default_factory=dict)
    name_of: dict[int, str] = field(default_factory=dict)
    industry_of: dict[int, str] = field(default_factory=dict)
    region_of: dict[int, str] = field(default_factory=dict)
    full: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    short: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    credit: dict[str, int] = field(default_factory=dict)
    by_industry: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_industry_region: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    by_region_sensitive: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    links: dict[int, list[tuple[int, str]]] = field(default_factory=lambda: defaultdict(list))
    by_tag: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_product: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    signature: tuple = ()

    # --- building -----------------------------------------------------------------------------

    def add_customer(
        self,
        customer_id: int,
        *,
        name: str,
        owner_id: int,
        region_code: str | None,
        industry_code: str | None,
        short_name: str | None,
        credit_code: str | None,
    ) -> None:
        self.owner[customer_id] = owner_id
        self.name_of[customer_id] = name
        self.full[name].append(customer_id)
        if short_name and short_name != name:
            self.short[short_name].append(customer_id)
        if credit_code:
            self.credit[credit_code.upper()] = customer_id
        if industry_code:
            self.industry_of[customer_id] = industry_code
            self.by_industry[industry_code].append(customer_id)
        if region_code:
            self.region_of[customer_id] = region_code
            if industry_code:
                self.by_industry_region[(industry_code, region_code)].append(customer_id)
                if industry_code[:1] in WEATHER_SENSITIVE_SECTIONS:
                    self.by_region_sensitive.setdefault(region_code, {}).setdefault(industry_code, []).append(
                        customer_id
                    )

    def add_link(self, from_id: int, to_id: int, kind: str) -> None:
        """`from` lists `to` as its supplier (kind=supplier), buyer (buyer) or shareholder. Each side
        keeps (partner, what this side is to the partner), the words its alert reason needs."""
        roles = {"supplier": ("下游客户", "供应商"), "buyer": ("供应商", "下游客户")}
        mine, theirs = roles.get(kind, ("关联企业", "关联企业"))
        self.links[to_id].append((from_id, mine))  # from is to's buyer when to supplies from
        self.links[from_id].append((to_id, theirs))

    def finish(self) -> CustomerIndex:
        """Teach the tokenizer the short names (and freeze the defaultdicts so lookups add nothing)."""
        tok = tokenizer()
        for short_name in self.short:
            if len(short_name) >= 2:
                tok.add_word(short_name, 2000)
        for attr in (
            "full",
            "short",
            "by_industry",
            "by_industry_region",
            "links",
            "by_tag",
            "by_product",
        ):
            setattr(self, attr, dict(getattr(self, attr)))
        return self

    @classmethod
    def build(cls, session: Session) -> CustomerIndex:
        index = cls()
        rows = session.execute(
            select(  # type: ignore[call-overload]
                Customer.id,
                Customer.name,
                Customer.owner_id,
                Customer.region_code,
                Customer.industry_code,
                CorporateProfile.short_name,
                CorporateProfile.credit_code,
            )
            .join(CorporateProfile, CorporateProfile.customer_id == Customer.id, isouter=True)
            .where(Customer.kind == CustomerKind.corporate)
            .execution_options(yield_per=20000)
        )
        for cid, name, owner_id, region, industry, short_name, code in rows:
            index.add_customer(
                cid,
                name=name,
                owner_id=owner_id,
                region_code=region,
                industry_code=industry,
                short_name=short_name,
                credit_code=code,
            )
        for from_id, to_id, kind in session.execute(
            select(CustomerLink.from_customer_id, CustomerLink.to_customer_id, CustomerLink.kind).where(  # type: ignore[call-overload]
                col(CustomerLink.to_customer_id).is_not(None),
                col(CustomerLink.kind).in_(("supplier", "buyer", "shareholder")),
            )
        ):
            if from_id in index.owner and to_id in index.owner:
                index.add_link(from_id, to_id, kind)
        for cid, tag_name in session.execute(
            select(CustomerTag.customer_id, Tag.name).join(Tag, Tag.id == CustomerTag.tag_id)  # type: ignore[call-overload,arg-type]
        ):
            if cid in index.owner and len(tag_name) >= 2:
                index.by_tag[tag_name].append(cid)
        for cid, category in session.execute(
            select(Holding.customer_id, Product.category)  # type: ignore[call-overload]
            .join(Product, Product.id == Holding.product_id)
            .where(Holding.status == "active")
            .distinct()
        ):
            if cid in index.owner:
                index.by_product[str(category)].append(cid)
        index.signature = signature(session)
        return index.finish()

    # --- finding companies --------------------------------------------------------------------

    def find_companies(self, text: str, *, region_codes: Iterable[str] = ()) -> list[Found]:
        found: dict[str, Found] = {}
        for code, cid in ((c, self.credit.get(c)) for c in _credit_candidates(text)):
            if cid is not None:
                found[code] = Found(code, [cid], "credit_code")
        # Full names: every stretch of up to 40 characters that ends in 公司/集团 is looked up.
        for m in _COMPANY_SUFFIX.finditer(text):
            end = m.end()
            for start in range(max(0, end - _MAX_NAME), end - 3):
                ids = self.full.get(text[start:end])
                if ids:
                    found[text[start:end]] = Found(text[start:end], list(ids), "name")
                    break
        full_hits = [f.text for f in found.values() if f.how == "name"]
        regions = set(region_codes)
        for token in tokenizer().lcut(text, HMM=False):
            if len(token) < 2 or token in found or any(token in name for name in full_hits):
                continue
            ids = self.short.get(token)
            if not ids:
                continue
            if len(ids) == 1 and len(token) >= 3:
                found[token] = Found(token, list(ids), "short_name")
            elif len(ids) <= 5 and regions:
                picked = [cid for cid in ids if self.region_of.get(cid) in regions]
                if 1 <= len(picked) <= 2:
                    found[token] = Found(token, picked, "short_name")
        return list(found.values())

    # --- matching -----------------------------------------------------------------------------

    def match_groups(
        self,
        *,
        title: str,
        summary: str,
        category: str,
        enrichment: Enrichment | None = None,
        found: list[Found] | None = None,
    ) -> tuple[Enrichment, list[Found], MatchResult]:
        """The customers an item concerns, as groups sharing one signal and one reason (a regional
        policy's group is the index's own list of that industry's customers in that city), combined
        per customer with C-speed dict operations — no Python work per (item, customer) pair."""
        text = f"{title}\n{summary}"
        if found is None:
            from server.intel.enrich import regions as find_regions

            found = self.find_companies(text, region_codes=find_regions(text))
        if enrichment is None:
            enrichment = enrich(text, category=category, strip=[f.text for f in found])
        e = enrichment
        groups: list[Group] = []
        verb = EVENT_VERBS.get(e.event_kind or "", _mood(category, e.sentiment))
        amount = f"，金额{funding.yuan(e.amount_cents)}" if e.amount_cents else ""

        named: set[int] = set()
        for f in found:
            score = {"credit_code": 95, "name": 90, "short_name": 80 if len(f.customer_ids) == 1 else 70}[
                f.how
            ]
            if f.how == "credit_code":
                why = f"情报载明该客户统一社会信用代码({f.text}){verb}{amount}"
            else:
                why = f"情报点名该客户({f.text}){verb}{amount}"
            groups.append(Group("named", score, why, f.customer_ids))
            named.update(f.customer_ids)
        for cid in sorted(named):
            # links[cid] holds (partner, what the partner is to cid); the partner's alert names cid.
            by_role: dict[str, list[int]] = defaultdict(list)
            for partner, partner_role in self.links.get(cid, ()):
                if partner not in named:
                    by_role[
                        {"供应商": "下游客户", "下游客户": "供应商"}.get(partner_role, partner_role)
                    ].append(partner)
            for role, partners in by_role.items():
                groups.append(
                    Group("supply_chain", 60, f"该客户的{role}({self.name_of[cid]}){verb}", partners)
                )

        broad = category in BROAD_CATEGORIES
        if e.event_kind == "weather_warning":
            terms = "、".join(e.weather_terms) or "天气"
            for region in e.region_codes:
                city = region_name(region)
                for code, ids in self.by_region_sensitive.get(region, {}).items():
                    industry = INDUSTRIES.get(code, code)
                    why = f"该客户所在地区({city})发布{terms}预警，其所在行业({industry})易受天气影响"
                    groups.append(Group("weather", 70, why, ids))
        elif broad and e.industry_codes:
            labels = _industry_labels(e.industry_terms)
            mood = _mood(category, e.sentiment)
            for code in e.industry_codes:
                label = labels.get(code) or INDUSTRIES.get(code, code)
                if e.region_codes:
                    for region in e.region_codes:
                        ids = self.by_industry_region.get((code, region)) or []
                        if ids:
                            why = f"该客户所在行业({label}){mood}，涉及地区({region_name(region)})"
                            groups.append(Group("industry", 65, why, ids))
                elif category in ("policy", "industry", "market") and self.by_industry.get(code):
                    groups.append(
                        Group("industry", 45, f"该客户所在行业({label}){mood}", self.by_industry[code])
                    )
        if broad and e.event_kind != "weather_warning":
            for tag, ids in self.by_tag.items():
                if tag in text:
                    groups.append(Group("tag", 55, f"该客户标签({tag})与情报相关", ids))
        if category in ("market", "policy"):
            for keyword, product in PRODUCT_KEYWORDS.items():
                if keyword in text:
                    label = PRODUCT_LABELS.get(product, product)
                    ids = self.by_product.get(product) or []
                    if ids:
                        groups.append(
                            Group("product", 40, f"该客户持有{label}类产品，{keyword}变化影响其业务", ids)
                        )
                    break
        groups = [g for g in groups if g.score >= MIN_ALERT_SCORE and g.ids]
        return e, found, MatchResult.combine(groups, named)

    def match(
        self,
        *,
        title: str,
        summary: str,
        category: str,
        published: date,
        enrichment: Enrichment | None = None,
        found: list[Found] | None = None,
    ) -> tuple[Enrichment, list[Found], list[Match]]:
        """match_groups, then one Match per customer with its score, reasons and funding need."""
        e, found, result = self.match_groups(
            title=title, summary=summary, category=category, enrichment=enrichment, found=found
        )
        mood = "unfavourable" if e.event_kind == "weather_warning" else e.sentiment
        funded = (
            e.event_kind in FUNDING_EVENTS
            and (e.amount_cents or 0) >= FUNDING_MIN_CENTS
            and mood != "unfavourable"
        )
        matches = []
        for cid, score, signals, reasons in result.customers():
            need = None
            if funded and cid in result.named:
                need = funding.estimate(
                    contract_cents=e.amount_cents,  # type: ignore[arg-type]
                    start=published,
                    industry_code=self.industry_of.get(cid),
                    advance_ratio=e.advance_ratio,
                    term_months=e.term_months,
                )
            matches.append(
                Match(
                    customer_id=cid,
                    rm_id=self.owner[cid],
                    score=score,
                    signals=signals,
                    reasons=reasons,
                    sentiment=mood,
                    funding_need=need,
                )
            )
        matches.sort(key=lambda m: (-m.score, m.customer_id))
        return e, found, matches


@dataclass
class Group:
    signal: str
    score: int
    reason: str
    ids: Sequence[int]


@dataclass
class MatchResult:
    """Per customer: the best group (its score and reason) and how many groups name it; every
    further signal adds BONUS_PER_SIGNAL."""

    groups: list[Group]
    best: dict[int, int]  # customer id -> index of its best group
    counts: Counter | None  # customer id -> groups naming it (None: one group only)
    named: set[int]

    @classmethod
    def combine(cls, groups: list[Group], named: set[int]) -> MatchResult:
        order = sorted(range(len(groups)), key=lambda i: groups[i].score)
        best: dict[int, int] = {}
        for i in order:  # ascending score: a better group overwrites a worse one
            best.update(dict.fromkeys(groups[i].ids, i))
        counts = Counter(chain.from_iterable(g.ids for g in groups)) if len(groups) > 1 else None
        return cls(groups, best, counts, named)

    def __len__(self) -> int:
        return len(self.best)

    def score(self, cid: int) -> int:
        extra = (self.counts[cid] - 1) if self.counts else 0
        return min(100, self.groups[self.best[cid]].score + BONUS_PER_SIGNAL * extra)

    def customers(self) -> Iterator[tuple[int, int, list[str], list[str]]]:
        """(customer id, score, signals, reasons) — reasons best first."""
        several: dict[int, list[int]] = {}
        if self.counts:
            multi = {cid for cid, n in self.counts.items() if n > 1}
            if multi:
                for i, g in enumerate(self.groups):
                    for cid in multi.intersection(g.ids):
                        several.setdefault(cid, []).append(i)
        for cid, i in self.best.items():
            idx = sorted(several[cid], key=lambda j: -self.groups[j].score) if cid in several else [i]
            signals = list(dict.fromkeys(self.groups[j].signal for j in idx))
            yield cid, self.score(cid), signals, [self.groups[j].reason for j in idx]


def _mood(category: str, sentiment: str) -> str:
    if category == "policy":
        return {"favourable": "获政策支持", "unfavourable": "受政策收紧影响"}.get(sentiment, "有新政策")
    return {"favourable": "迎来利好", "unfavourable": "面临利空"}.get(sentiment, "有新动态")


def _industry_labels(terms: list[str]) -> dict[str, str]:
    from server.intel.lexicon import INDUSTRY_KEYWORDS

    labels: dict[str, str] = {}
    for term in terms:
        for code in INDUSTRY_KEYWORDS[term]:
            labels.setdefault(code, term)
    return labels


_CREDIT_RE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")


def _credit_candidates(text: str) -> list[str]:
    from server.intel.enrich import credit_codes

    return credit_codes(text) if _CREDIT_RE.search(text.upper()) else []


def signature(session: Session) -> tuple:
    """Changes whenever a customer, profile, link, tag or holding is added or changed, so a worker
    knows its cached index is stale (one cheap aggregate per table)."""
    return (
        tuple(
            session.execute(select(func.count(), func.max(Customer.id), func.max(Customer.updated_at))).one()
        ),
        tuple(session.execute(select(func.count(), func.max(CorporateProfile.customer_id))).one()),
        tuple(session.execute(select(func.count(), func.max(CustomerLink.id))).one()),
        tuple(session.execute(select(func.count(), func.max(CustomerTag.customer_id))).one()),
        tuple(session.execute(select(func.count(), func.max(Holding.id))).one()),
    )


_cached: CustomerIndex | None = None
_cache_lock = threading.Lock()


def current_index(session: Session) -> CustomerIndex:
    """The process's index, rebuilt when the customer book changed since it was built."""
    global _cached
    with _cache_lock:
        if _cached is None or _cached.signature != signature(session):
            _cached = CustomerIndex.build(session)
        return _cached
