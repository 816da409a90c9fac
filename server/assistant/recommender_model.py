"""The next-best-product model (pure, vectorised, no database): training from a holdings history,
scoring one customer, and the reason in Chinese. server/assistant/recommender.py loads the history,
stores the trained payload and applies the filters.

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
中型企业中 62% 开通了…") or the product held ("持有…的客户中 45% 随后开通了…")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

HALF_LIFE_DAYS = 730.0  # the market's taste: pairs opened two years ago count half
OWN_HALF_LIFE_DAYS = 365.0  # the customer's own history: last year's purchase counts half
SEGMENT_WEIGHT = 1.0
MIN_SEGMENT = 5  # fewer similar customers than this: quote the bank-wide share instead

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
