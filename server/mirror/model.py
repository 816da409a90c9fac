"""The self-portrait model of the mirror (我要照镜子): challenge power (挑战力, how far the RM stretches)
and combat power (战斗力, what the RM delivers), each 0-100. Pure functions over one RM-month's
inputs, so the formula can be pinned by hand-computed tests. Documented in docs/workbench.md.

Every indicator is mapped to 0-100 ("score"); a power is the weighted mean of its indicators.
An indicator whose input is missing (no history, no visits, no ratings) scores a neutral 50.

Challenge power
- target_stretch: this month's revenue target / average revenue achieved in the 3 previous months;
  0.8x or less -> 0, 1.5x or more -> 100, linear between.
- new_customers: new customers won / new-customer target (default target 3), x100, capped at 100.
- new_products: products sold (new business) this month that the RM did not sell in the 3 previous
  months, 50 points each, capped at 100.
- difficult_segments: share of this month's new-business amount from hard-to-win customers
  (government, central SOE or large enterprises), x200, capped at 100 (half or more -> 100).

Combat power
- revenue: revenue achieved / the team's median revenue achieved this month, x50, capped at 100
  (the median RM scores 50, twice the median 100).
- completion: revenue achieved / revenue target, x100, capped at 100.
- conversion: customers visited this month who did new business this month / customers visited, x100.
- customer_rating, peer_rating: the average 1-5 rating mapped to 0-100 as (avg - 1) / 4 x 100;
  peers are colleagues and the team lead. The RM's self-assessment is shown beside it, not scored.

A driver's contribution is weight x (score - 50) / sum of weights: how far it moves the power from the
neutral 50. The top drivers are the largest contributions, explained in Chinese."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

from sqlmodel import Session

from server.errors import unprocessable
from server.overrides import service as model_overrides

CONFIG_NAME = "mirror"
NEUTRAL = 50.0

DEFAULT_WEIGHTS: dict[str, dict[str, float]] = {
    "challenge_power": {
        "target_stretch": 30,
        "new_customers": 30,
        "new_products": 20,
        "difficult_segments": 20,
    },
    "combat_power": {
        "revenue": 25,
        "completion": 30,
        "conversion": 15,
        "customer_rating": 15,
        "peer_rating": 15,
    },
}

LABELS = {
    "target_stretch": "目标挑战度",
    "new_customers": "新客户拓展",
    "new_products": "新产品突破",
    "difficult_segments": "攻坚难点客群",
    "revenue": "创收规模",
    "completion": "目标完成率",
    "conversion": "拜访转化率",
    "customer_rating": "客户评价",
    "peer_rating": "同事与主管评价",
}

DEFAULT_NEW_CUSTOMER_TARGET = 3


@dataclass
class MirrorInputs:
    revenue_target_cents: int | None = None
    revenue_cents: int = 0
    previous_revenue_cents: list[int] = field(default_factory=list)  # up to 3 previous months
    new_customers: int = 0
    new_customers_target: int | None = None
    new_products: int = 0
    new_business_cents: int = 0
    difficult_new_business_cents: int = 0
    team_median_revenue_cents: float | None = None
    customers_visited: int = 0
    customers_converted: int = 0
    customer_rating: float | None = None  # average 1-5
    customer_ratings: int = 0
    peer_rating: float | None = None
    peer_ratings: int = 0
    self_rating: float | None = None


class Driver(TypedDict):
    """One indicator's share of a power, as shown under the radar."""

    indicator: str
    label: str
    score: float
    contribution: float
    explanation: str


def _clamp(value: float) -> float:
    return max(0.0, min(100.0, value))


def _yuan(cents: float) -> str:
    return f"{cents / 100 / 10000:.1f}万元"


def indicators(i: MirrorInputs) -> dict[str, tuple[float, str]]:
    """indicator -> (score 0-100, the fact behind it in Chinese)."""
    out: dict[str, tuple[float, str]] = {}
    history = [r for r in i.previous_revenue_cents if r is not None]
    average = sum(history) / len(history) if history else 0
    if i.revenue_target_cents and average > 0:
        stretch = i.revenue_target_cents / average
        out["target_stretch"] = (
            _clamp((stretch - 0.8) / 0.7 * 100),
            f"本月目标是近{len(history)}月平均实绩的 {stretch:.2f} 倍",
        )
    else:
        out["target_stretch"] = (NEUTRAL, "缺少目标或历史实绩,按中性计")
    target = i.new_customers_target or DEFAULT_NEW_CUSTOMER_TARGET
    out["new_customers"] = (
        _clamp(100 * i.new_customers / target),
        f"新增客户 {i.new_customers} 户 / 目标 {target} 户",
    )
    out["new_products"] = (_clamp(50 * i.new_products), f"本月新突破产品 {i.new_products} 个")
    if i.new_business_cents > 0:
        share = i.difficult_new_business_cents / i.new_business_cents
        out["difficult_segments"] = (_clamp(200 * share), f"难点客群占新增业务 {share:.0%}")
    else:
        out["difficult_segments"] = (NEUTRAL, "本月无新增业务,按中性计")
    if i.team_median_revenue_cents:
        ratio = i.revenue_cents / i.team_median_revenue_cents
        out["revenue"] = (_clamp(50 * ratio), f"创收 {_yuan(i.revenue_cents)},为团队中位数的 {ratio:.2f} 倍")
    else:
        out["revenue"] = (NEUTRAL, "团队本月尚无创收数据,按中性计")
    if i.revenue_target_cents:
        completion = i.revenue_cents / i.revenue_target_cents
        out["completion"] = (_clamp(100 * completion), f"完成率 {completion:.0%}")
    else:
        out["completion"] = (NEUTRAL, "本月未设目标,按中性计")
    if i.customers_visited:
        rate = i.customers_converted / i.customers_visited
        out["conversion"] = (
            _clamp(100 * rate),
            f"拜访 {i.customers_visited} 户,成交 {i.customers_converted} 户",
        )
    else:
        out["conversion"] = (NEUTRAL, "本月无拜访记录,按中性计")
    for key, avg, count, who in (
        ("customer_rating", i.customer_rating, i.customer_ratings, "客户"),
        ("peer_rating", i.peer_rating, i.peer_ratings, "同事与主管"),
    ):
        if avg is not None and count:
            out[key] = (_clamp((avg - 1) / 4 * 100), f"{count} 位{who}平均 {avg:.1f} 分(满分 5)")
        else:
            out[key] = (NEUTRAL, f"尚无{who}评价,按中性计")
    return out


def score(i: MirrorInputs, weights: dict[str, dict[str, float]] | None = None) -> dict[str, Any]:
    weights = weights or DEFAULT_WEIGHTS
    values = indicators(i)
    out: dict[str, Any] = {"radar": [], "self_rating": i.self_rating}
    for power, w in weights.items():
        total_weight = sum(w.values())
        power_score = sum(w[k] * values[k][0] for k in w) / total_weight if total_weight else 0.0
        drivers: list[Driver] = [
            {
                "indicator": k,
                "label": LABELS[k],
                "score": round(values[k][0], 1),
                "contribution": round(w[k] * (values[k][0] - NEUTRAL) / total_weight, 2)
                if total_weight
                else 0,
                "explanation": values[k][1],
            }
            for k in w
        ]
        drivers.sort(key=lambda d: (-abs(d["contribution"]), d["indicator"]))
        out[power] = {"score": round(power_score, 1), "top_drivers": drivers[:3], "indicators": drivers}
        out["radar"].extend(
            {"indicator": k, "label": LABELS[k], "power": power, "score": round(values[k][0], 1)} for k in w
        )
    return out


def validate_overrides(value: dict[str, Any]) -> dict[str, Any]:
    """Overrides: {"challenge_power": {"target_stretch": 40}, "combat_power": {...}}; 0-100 each, and
    each power keeps some weight."""
    errors = []
    clean: dict[str, dict[str, float]] = {}
    if not isinstance(value, dict):
        raise unprocessable("Send weights per power.")
    for power, weights in value.items():
        if power not in DEFAULT_WEIGHTS or not isinstance(weights, dict):
            errors.append({"field": power, "message": "unknown power"})
            continue
        clean[power] = {}
        for key, w in weights.items():
            if key not in DEFAULT_WEIGHTS[power]:
                errors.append({"field": f"{power}.{key}", "message": "unknown indicator"})
            elif not isinstance(w, int | float) or isinstance(w, bool) or not 0 <= w <= 100:
                errors.append({"field": f"{power}.{key}", "message": "a number from 0 to 100"})
            else:
                clean[power][key] = float(w)
    if not errors:
        for power, weights in merged(clean).items():
            if sum(weights.values()) <= 0:
                errors.append({"field": power, "message": "needs some weight"})
    if errors:
        raise unprocessable("Some weights are invalid.", errors=errors)
    return clean


def merged(overrides: dict[str, Any]) -> dict[str, dict[str, float]]:
    return {
        power: {k: float((overrides.get(power) or {}).get(k, w)) for k, w in ws.items()}
        for power, ws in DEFAULT_WEIGHTS.items()
    }


def load_weights(session: Session) -> dict[str, dict[str, float]]:
    overrides, _version = model_overrides.get_overrides(session, CONFIG_NAME)
    return merged(overrides)
