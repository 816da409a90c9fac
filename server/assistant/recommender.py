"""Next best product (下一个最佳产品): what a customer is likely to open next, filtered to what the
RM may sell and the customer may buy, with a reason in Chinese.

The model (trained by `train`, retrained by the RQ job in tasks/assistant.py, stored as one row of
`recommender_model`):
- Next purchase: a multinomial logistic regression (scikit-learn) fitted on every purchase in the
  history — which product a customer bought, from the parts of their segment (corporate: industry
  section, size; individual: life stage, tier), the products they held before it and the one they
  bought last — each purchase weighing 0.5 ** (its age / HALF_LIFE_DAYS), so recent behaviour counts
  more. The score of a product is its probability of being the customer's next purchase.
- Sequence co-occurrence with time decay, for the reasons (and the score of a bank whose history
  has a single product bought): C[i, j] sums, over customers who opened product i before product j,
  the weight 0.5 ** (age of j's opening / HALF_LIFE_DAYS); P(j after i) = C[i, j] / N[i], N[i] the
  decayed count of customers holding i.
- Segment shares: S[g, j], the share of customers in segment g (corporate: industry section × size;
  individual: life stage × tier) that hold j. Without a next-purchase model the score is
  SEGMENT_WEIGHT * S[g, j] + sum over i in H of d_i * P(j after i) / sum d_i, where d_i decays with
  the age of the customer's own opening of i.
The reason quotes the larger of the last two: the segment ("与该客户相似的 37 家制造业
中型企业中 62% 开通了…") or the product held ("持有…的客户中 45% 随后开通了…").

Filters (never relaxed): the RM may sell it (qualification, branch: server/products), the customer
may buy it (kind and size per the product's fit, risk level R1..R5 not above the risk appetite
C1..C5; a customer without a recorded appetite only R1-R2), it is not already held, and it was not
dismissed by the RM within DISMISS_DAYS."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from server.assistant.models import RecommendationDismissal, RecommendationShown, RecommenderModel
from server.customers.models import Customer, IndividualProfile
from server.errors import Problem, not_found
from server.org.models import User
from server.products.models import Holding, Product, ProductCase, ProductFit
from server.products.service import sellable_products
from server.timeutil import as_utc, iso, utcnow

HALF_LIFE_DAYS = 730.0  # the market's taste: pairs opened two years ago count half
OWN_HALF_LIFE_DAYS = 365.0  # the customer's own history: last year's purchase counts half
SEGMENT_WEIGHT = 1.0
DISMISS_DAYS = 90
MIN_SEGMENT = 5  # fewer similar customers than this: quote the bank-wide share instead
KEEP_MODELS = 3

DISMISS_REASONS = {
    "held_elsewhere": "已持有他行同类产品",
    "no_need": "客户无需求",
    "not_suitable": "不适合该客户",
    "timing": "时机未到",
    "other": "其他",
}

SECTION_NAMES = {
    "A": "农林牧渔",
    "B": "采矿",
    "C": "制造业",
    "D": "电力热力",
    "E": "建筑业",
    "F": "批发零售",
    "G": "交通运输",
    "H": "住宿餐饮",
    "I": "信息技术",
    "K": "房地产",
    "L": "商务服务",
    "M": "科研技术",
    "N": "环保",
    "P": "教育",
    "Q": "卫生",
    "R": "文化",
    "S": "公共管理",
}
SIZE_NAMES = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}
STAGE_NAMES = {"young": "35岁以下", "family": "35-54岁", "senior": "55岁以上"}
TIER_NAMES = {"vip": "私行级", "high": "高端", "mid": "中端", "mass": "大众"}


# --- segments ---------------------------------------------------------------------------------------


def life_stage(birth: date | None, today: date) -> str:
    if birth is None:
        return "family"
    age = (today - birth).days // 365
    return "young" if age < 35 else "family" if age < 55 else "senior"


def segment_of(
    *, kind: str, industry_code: str | None, size: str | None, birth: date | None, tier: str, today: date
) -> str:
    if kind == "corporate":
        return f"corporate:{(industry_code or '?')[:1]}:{size or '?'}"
    return f"individual:{life_stage(birth, today)}:{tier}"


def segment_label(segment: str) -> str:
    kind, a, b = segment.split(":")
    if kind == "corporate":
        return f"{SECTION_NAMES.get(a, '')}{SIZE_NAMES.get(b, '')}企业"
    return f"{STAGE_NAMES.get(a, '')}{TIER_NAMES.get(b, '')}客户"


# --- training (pure, vectorised) ------------------------------------------------------------------------


@dataclass
class History:
    """Holdings as a dense matrix: opened[c, p] = the ordinal day product p was opened by customer c,
    or 0 when not held."""

    customer_ids: list[int]
    product_ids: list[int]
    opened: np.ndarray  # int32, customers × products
    segments: list[str]


def segment_features(segment: str) -> list[str]:
    """The parts of a segment the next-purchase model weighs separately (industry section and size;
    life stage and tier), so a thin segment borrows from its neighbours."""
    kind, a, b = segment.split(":")
    return [f"{kind}:{a}:*", f"{kind}:*:{b}"]


def _next_features(
    parts: dict[str, int], n_products: int, segment: str, held: Iterable[int], last: int | None
) -> list[int]:
    """Columns set for one purchase: the segment's parts, the products held before it, and the
    product bought last."""
    cols = [parts[f] for f in segment_features(segment) if f in parts]
    base = len(parts)
    cols += [base + i for i in held]
    if last is not None:
        cols.append(base + n_products + last)
    return cols


def train_next_purchase(history: History, *, today: date) -> dict[str, Any] | None:
    """The next-purchase model: a multinomial logistic regression (scikit-learn) over every purchase
    in the history, predicting the product from the customer's segment, what they held before and
    what they bought last; purchases weigh 0.5 ** (age / HALF_LIFE_DAYS). None when the history has
    fewer than two products bought."""
    opened = history.opened
    n_products = opened.shape[1]
    parts = {
        f: i for i, f in enumerate(sorted({f for s in set(history.segments) for f in segment_features(s)}))
    }
    rows: list[int] = []
    cols: list[int] = []
    target: list[int] = []
    weight: list[float] = []
    t0 = today.toordinal()
    for c in range(opened.shape[0]):
        mine = opened[c]
        order = [int(j) for j in np.argsort(mine, kind="stable") if mine[j] > 0]
        for n, j in enumerate(order):
            x = _next_features(parts, n_products, history.segments[c], order[:n], order[n - 1] if n else None)
            rows += [len(target)] * len(x)
            cols += x
            target.append(j)
            weight.append(0.5 ** (max(0, t0 - int(mine[j])) / HALF_LIFE_DAYS))
    if len(set(target)) < 2:
        return None
    X = sparse.csr_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(len(target), len(parts) + 2 * n_products)
    )
    fit = LogisticRegression(C=1.0, max_iter=500).fit(X, np.array(target), sample_weight=np.array(weight))
    coef = np.zeros((n_products, X.shape[1]))
    intercept = np.full(n_products, -50.0)  # a product nobody bought: never first
    coef[fit.classes_] = fit.coef_ if len(fit.classes_) > 2 else np.vstack([-fit.coef_, fit.coef_]) / 2
    intercept[fit.classes_] = (
        fit.intercept_ if len(fit.classes_) > 2 else np.array([-fit.intercept_[0], fit.intercept_[0]]) / 2
    )
    return {
        "parts": list(parts),
        "coef": coef.round(5).tolist(),
        "intercept": intercept.round(5).tolist(),
    }


def train(history: History, *, today: date) -> dict[str, Any]:
    opened = history.opened
    held = opened > 0
    age = np.where(held, today.toordinal() - opened, 0).astype(np.float64)
    weight = np.where(held, 0.5 ** (age / HALF_LIFE_DAYS), 0.0)
    n_products = len(history.product_ids)
    counts = weight.sum(axis=0)
    pair = np.zeros((n_products, n_products))
    for i in range(n_products):
        has_i = held[:, i]
        if not has_i.any():
            continue
        before = has_i[:, None] & held & (opened[:, i : i + 1] <= opened)
        before[:, i] = False
        pair[i] = (before * weight).sum(axis=0)
    segments: dict[str, dict[str, Any]] = {}
    seg_array = np.array(history.segments)
    for seg in sorted(set(history.segments)):
        rows = seg_array == seg
        segments[seg] = {"n": int(rows.sum()), "holders": held[rows].sum(axis=0).astype(int).tolist()}
    return {
        "version": 1,
        "trained_on": today.isoformat(),
        "product_ids": list(history.product_ids),
        "counts": counts.round(4).tolist(),
        "holders": held.sum(axis=0).astype(int).tolist(),
        "customers": len(history.customer_ids),
        "pair": pair.round(4).tolist(),
        "segments": segments,
        "next": train_next_purchase(history, today=today),
    }


@dataclass
class Scored:
    product_id: int
    score: float
    reason: str


class Recommender:
    """A trained payload, ready to score one customer."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.product_ids: list[int] = payload["product_ids"]
        self.index = {p: i for i, p in enumerate(self.product_ids)}
        counts = np.array(payload["counts"])
        pair = np.array(payload["pair"])
        self.after = np.divide(pair, counts[:, None], out=np.zeros_like(pair), where=counts[:, None] > 0)
        self.segments = payload["segments"]
        self.customers = max(1, int(payload["customers"]))
        self.holders = np.array(payload["holders"], dtype=float)
        self.bank_share = self.holders / self.customers
        nxt = payload.get("next")
        self.parts = {f: i for i, f in enumerate(nxt["parts"])} if nxt else {}
        self.coef = np.array(nxt["coef"]) if nxt else None
        self.intercept = np.array(nxt["intercept"]) if nxt else None

    def next_purchase(self, *, held: dict[int, date], segment: str) -> np.ndarray | None:
        """P(the next product is j) for a customer of the segment holding `held`, or None without
        a next-purchase model (a bank with a single product bought)."""
        if self.coef is None or self.intercept is None:
            return None
        order = sorted((d, self.index[p]) for p, d in held.items() if p in self.index)
        cols = _next_features(
            self.parts, len(self.product_ids), segment, [i for _, i in order], order[-1][1] if order else None
        )
        logits = self.intercept + self.coef[:, cols].sum(axis=1)
        e = np.exp(logits - logits.max())
        return e / e.sum()

    def scores(
        self, *, held: dict[int, date], segment: str, today: date
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Scores of all products, the segment term, the best history term per product and which
        product gave it (index, -1 for none), and the segment size used."""
        seg = self.segments.get(segment)
        if seg is not None and seg["n"] >= MIN_SEGMENT:
            seg_share = np.array(seg["holders"], dtype=float) / seg["n"]
            seg_n = int(seg["n"])
        else:
            seg_share, seg_n = self.bank_share, 0
        seg_term = SEGMENT_WEIGHT * seg_share
        hist = np.zeros(len(self.product_ids))
        best_from = np.full(len(self.product_ids), -1)
        best_val = np.zeros(len(self.product_ids))
        total_d = 0.0
        for product_id, opened_on in held.items():
            i = self.index.get(product_id)
            if i is None:
                continue
            d = 0.5 ** (max(0, (today - opened_on).days) / OWN_HALF_LIFE_DAYS)
            total_d += d
            contribution = d * self.after[i]
            hist += contribution
            better = contribution > best_val
            best_val = np.where(better, contribution, best_val)
            best_from = np.where(better, i, best_from)
        if total_d > 0:
            hist /= total_d
        score = self.next_purchase(held=held, segment=segment)
        if score is None:
            score = seg_term + hist
        return score, seg_term, np.stack([hist, best_from.astype(float)]), seg_n

    def rank(
        self,
        *,
        held: dict[int, date],
        segment: str,
        today: date,
        allowed: Iterable[int],
        names: dict[int, str],
        limit: int,
    ) -> list[Scored]:
        score, seg_term, (hist, best_from), seg_n = self.scores(held=held, segment=segment, today=today)
        out: list[Scored] = []
        for product_id in allowed:
            j = self.index.get(product_id)
            if j is None or product_id in held:
                continue
            out.append(Scored(product_id, float(score[j]), ""))
        out.sort(key=lambda s: (-s.score, s.product_id))
        out = out[:limit]
        for s in out:
            j = self.index[s.product_id]
            name = names.get(s.product_id, "")
            if hist[j] > seg_term[j] and best_from[j] >= 0:
                i = int(best_from[j])
                share = self.after[i, j]
                s.reason = f"持有{names.get(self.product_ids[i], '')}的客户中 {share:.0%} 随后开通了{name}"
            elif seg_n:
                seg = self.segments[segment]
                share = seg["holders"][j] / seg["n"]
                s.reason = f"与该客户相似的 {seg_n} 家{segment_label(segment)}中 {share:.0%} 开通了{name}"
                if segment.startswith("individual:"):
                    s.reason = f"与该客户相似的 {seg_n} 位{segment_label(segment)}中 {share:.0%} 开通了{name}"
            else:
                s.reason = f"全行 {self.bank_share[j]:.0%} 的客户开通了{name}"
        return out


def popularity_rank(
    holders: np.ndarray, product_ids: list[int], *, held: Iterable[int], allowed: Iterable[int], limit: int
) -> list[int]:
    """The naive baseline: the most held products the customer does not hold yet."""
    index = {p: i for i, p in enumerate(product_ids)}
    held_set = set(held)
    candidates = [p for p in allowed if p in index and p not in held_set]
    candidates.sort(key=lambda p: (-holders[index[p]], p))
    return candidates[:limit]


# --- eligibility -------------------------------------------------------------------------------------


def _risk(level: str | None) -> int:
    return int(level[1:]) if level and level[1:].isdigit() else 0


def may_buy(
    product: Product, fit: ProductFit | None, *, kind: str, size: str | None, appetite: str | None
) -> bool:
    """The customer may buy it: kind and size per the product's fit, risk level within appetite."""
    kinds = (
        fit.kinds
        if fit and fit.kinds
        else ([product.segment] if product.segment in ("corporate", "individual") else [])
    )
    if kinds and kind not in kinds:
        return False
    if fit and fit.sizes and kind == "corporate" and size not in fit.sizes:
        return False
    limit = _risk(appetite) if appetite else 2
    return _risk(product.risk_level) <= limit


# --- the database side -----------------------------------------------------------------------------------


def load_history(session: Session, *, today: date, until: date | None = None) -> History:
    """Every customer's holdings (opened on or before `until`), one query each for customers and
    holdings."""
    product_ids = list(session.exec(select(Product.id).order_by(col(Product.id))).all())
    rows = session.exec(
        select(  # type: ignore[call-overload]
            Customer.id,
            Customer.kind,
            Customer.industry_code,
            Customer.size,
            Customer.tier,
            IndividualProfile.birth_date,
        )
        .join(IndividualProfile, col(IndividualProfile.customer_id) == Customer.id, isouter=True)
        .order_by(col(Customer.id))
    ).all()
    customer_ids = [r[0] for r in rows]
    segments = [
        segment_of(kind=r[1], industry_code=r[2], size=r[3], tier=r[4], birth=r[5], today=today) for r in rows
    ]
    c_index = {c: i for i, c in enumerate(customer_ids)}
    p_index = {p: i for i, p in enumerate(product_ids)}
    opened = np.zeros((len(customer_ids), len(product_ids)), dtype=np.int32)
    query = select(Holding.customer_id, Holding.product_id, func.min(Holding.opened_on)).group_by(
        col(Holding.customer_id), col(Holding.product_id)
    )
    if until is not None:
        query = query.where(col(Holding.opened_on) <= until)
    for customer_id, product_id, opened_on in session.exec(query).all():
        if isinstance(opened_on, str):
            opened_on = date.fromisoformat(opened_on)
        opened[c_index[customer_id], p_index[product_id]] = opened_on.toordinal()
    return History(customer_ids, [int(p) for p in product_ids if p is not None], opened, segments)


def retrain(session: Session, *, now: datetime | None = None) -> RecommenderModel:
    now = now or utcnow()
    history = load_history(session, today=now.date())
    payload = train(history, today=now.date())
    model = RecommenderModel(
        trained_at=now,
        customers=len(history.customer_ids),
        holdings=int((history.opened > 0).sum()),
        payload=payload,
    )
    session.add(model)
    session.flush()
    old = session.exec(
        select(RecommenderModel.id).order_by(col(RecommenderModel.id).desc()).offset(KEEP_MODELS)
    ).all()
    for model_id in old:
        stale = session.get(RecommenderModel, model_id)
        if stale is not None:
            session.delete(stale)
    session.commit()
    return model


_CACHE: dict[int, Recommender] = {}


def current_model(session: Session) -> Recommender | None:
    row = session.exec(select(RecommenderModel).order_by(col(RecommenderModel.id).desc())).first()
    if row is None or row.id is None:
        return None
    if row.id not in _CACHE:
        _CACHE.clear()
        _CACHE[row.id] = Recommender(row.payload)
    return _CACHE[row.id]


def model_unavailable() -> Problem:
    return Problem(
        503,
        "Service Unavailable",
        "The recommender has not been trained yet.",
        code="recommender_not_trained",
    )


def next_products(
    session: Session,
    *,
    user: User,
    customer: Customer,
    limit: int = 5,
    now: datetime | None = None,
    record: bool = True,
) -> dict[str, Any]:
    """Ranked products for a customer the user may read. The products are those the customer's RM
    may sell (a team lead sees what the RM would be offered)."""
    now = now or utcnow()
    today = now.date()
    model = current_model(session)
    if model is None:
        raise model_unavailable()
    owner = session.get(User, customer.owner_id)
    assert owner is not None
    profile = session.get(IndividualProfile, customer.id) if customer.kind == "individual" else None
    holdings = session.exec(select(Holding).where(Holding.customer_id == customer.id)).all()
    held: dict[int, date] = {}
    for h in holdings:
        opened = h.opened_on if isinstance(h.opened_on, date) else date.fromisoformat(str(h.opened_on))
        if h.status == "active" or h.product_id not in held:
            held[h.product_id] = min(opened, held.get(h.product_id, opened))
    active = {h.product_id for h in holdings if h.status == "active"}
    dismissed = set(
        session.exec(
            select(RecommendationDismissal.product_id).where(
                RecommendationDismissal.customer_id == customer.id, col(RecommendationDismissal.until) > now
            )
        ).all()
    )
    sellable = sellable_products(session, rm=owner)
    fits = {f.product_id: f for f in session.exec(select(ProductFit)).all()}
    appetite = profile.risk_appetite if profile else None
    allowed = [
        p.id
        for p in sellable
        if p.id is not None
        and p.id not in active
        and p.id not in dismissed
        and may_buy(p, fits.get(p.id), kind=customer.kind, size=customer.size, appetite=appetite)
    ]
    by_id = {p.id: p for p in sellable}
    names = {int(p.id): p.name for p in session.exec(select(Product)).all() if p.id is not None}
    segment = segment_of(
        kind=customer.kind,
        industry_code=customer.industry_code,
        size=customer.size,
        tier=customer.tier,
        birth=profile.birth_date if profile else None,
        today=today,
    )
    # Matured products may be opened again: they stay in the history but are candidates.
    history = {p: d for p, d in held.items() if p in active or p not in allowed}
    ranked = model.rank(
        held=history,
        segment=segment,
        today=today,
        allowed=[p for p in allowed if p is not None],
        names=names,
        limit=limit,
    )
    cases = _first_cases(session, [s.product_id for s in ranked])
    items: list[dict[str, Any]] = []
    for s in ranked:
        p = by_id[s.product_id]
        items.append(
            {
                "product_id": p.id,
                "code": p.code,
                "name": p.name,
                "category": p.category,
                "risk_level": p.risk_level,
                "score": round(s.score, 4),
                "reason": s.reason,
                "selling_points": list(p.selling_points)[:3],
                "case": cases.get(s.product_id),
            }
        )
    if record and items:
        _record_shown(
            session,
            customer_id=int(customer.id or 0),
            rm_id=int(owner.id or 0),
            product_ids=[int(i["product_id"]) for i in items],
            now=now,
        )
    return {
        "customer_id": customer.id,
        "segment": segment_label(segment),
        "items": items,
        "dismiss_reasons": [{"code": k, "label": v} for k, v in DISMISS_REASONS.items()],
    }


def _first_cases(session: Session, product_ids: list[int]) -> dict[int, dict[str, str]]:
    if not product_ids:
        return {}
    out: dict[int, dict[str, str]] = {}
    for case in session.exec(
        select(ProductCase).where(col(ProductCase.product_id).in_(product_ids)).order_by(col(ProductCase.id))
    ).all():
        out.setdefault(
            case.product_id,
            {"customer_label": case.customer_label, "story": case.story, "result": case.result},
        )
    return out


def _record_shown(
    session: Session, *, customer_id: int, rm_id: int, product_ids: list[int], now: datetime
) -> None:
    known = set(
        session.exec(
            select(RecommendationShown.product_id).where(
                RecommendationShown.customer_id == customer_id,
                col(RecommendationShown.product_id).in_(product_ids),
            )
        ).all()
    )
    for product_id in product_ids:
        if product_id not in known:
            session.add(
                RecommendationShown(customer_id=customer_id, product_id=product_id, rm_id=rm_id, shown_at=now)
            )
    session.commit()


def dismiss(
    session: Session,
    *,
    user: User,
    customer: Customer,
    product_id: int,
    reason: str,
    note: str | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    now = now or utcnow()
    if reason not in DISMISS_REASONS:
        raise Problem(
            422,
            "Unprocessable Content",
            "Unknown reason.",
            code="validation",
            errors=[{"field": "reason", "message": "unknown"}],
        )
    if session.get(Product, product_id) is None:
        raise not_found("product")
    row = RecommendationDismissal(
        customer_id=int(customer.id or 0),
        product_id=product_id,
        rm_id=int(user.id or 0),
        reason=reason,
        note=note,
        dismissed_at=now,
        until=now + timedelta(days=DISMISS_DAYS),
    )
    session.add(row)
    session.commit()
    return {"id": row.id, "product_id": product_id, "reason": reason, "until": iso(row.until)}


def adoption_report(session: Session, *, now: datetime | None = None) -> dict[str, Any]:
    """For admins: recommendations shown, adopted (the customer opened the product on or after the
    day it was first shown), the adoption rate, and dismissals by reason and by product."""
    now = now or utcnow()
    shown = session.exec(select(func.count()).select_from(RecommendationShown)).one()
    adopted_rows = session.exec(
        select(RecommendationShown.product_id, func.count(func.distinct(RecommendationShown.id)))
        .join(
            Holding,
            and_(
                col(Holding.customer_id) == RecommendationShown.customer_id,
                col(Holding.product_id) == RecommendationShown.product_id,
            ),
        )
        .where(col(Holding.opened_on) >= func.date(RecommendationShown.shown_at))
        .group_by(col(RecommendationShown.product_id))
    ).all()
    adopted = sum(int(n) for _p, n in adopted_rows)
    shown_by_product = dict(
        session.exec(
            select(RecommendationShown.product_id, func.count()).group_by(col(RecommendationShown.product_id))
        ).all()
    )
    by_reason = dict(
        session.exec(
            select(RecommendationDismissal.reason, func.count()).group_by(col(RecommendationDismissal.reason))
        ).all()
    )
    dismissed_by_product = dict(
        session.exec(
            select(RecommendationDismissal.product_id, func.count()).group_by(
                col(RecommendationDismissal.product_id)
            )
        ).all()
    )
    names = {p.id: p.name for p in session.exec(select(Product)).all()}
    adopted_by_product = {p: int(n) for p, n in adopted_rows}
    products: list[dict[str, Any]] = [
        {
            "product_id": pid,
            "name": names.get(pid, ""),
            "shown": int(shown_by_product.get(pid, 0)),
            "adopted": adopted_by_product.get(pid, 0),
            "dismissed": int(dismissed_by_product.get(pid, 0)),
        }
        for pid in sorted(set(shown_by_product) | set(dismissed_by_product))
    ]
    products.sort(key=lambda r: (-r["shown"], r["product_id"]))
    model = session.exec(select(RecommenderModel).order_by(col(RecommenderModel.id).desc())).first()
    return {
        "shown": int(shown),
        "adopted": adopted,
        "adoption_rate": round(adopted / shown, 4) if shown else None,
        "dismissals": {
            "total": sum(int(v) for v in by_reason.values()),
            "by_reason": [
                {"code": code, "label": label, "count": int(by_reason.get(code, 0))}
                for code, label in DISMISS_REASONS.items()
            ],
        },
        "products": products,
        "model": {
            "trained_at": iso(as_utc(model.trained_at)),
            "customers": model.customers,
            "holdings": model.holdings,
        }
        if model
        else None,
    }
