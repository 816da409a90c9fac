"""地利 — funding need (资金需求) from a won tender, a signed contract or a large transaction.

The customer spends on the contract evenly over its term and is paid back one cash cycle later, so
the money it has spent but not yet collected grows at the daily spend until the first collections
arrive. The advance payment covers the start; the rest is the gap a working-capital loan fills:

    V  contract value                 a  advance-payment ratio (named in the item, else by industry)
    c  cost ratio (cost / value)      T  term in days (named in the item, else 12 months = 360 days)
    D  the customer's cash cycle in days (by industry)

    daily spend          s    = V × c / T
    peak outstanding     P    = s × min(D, T)          (spent, not yet collected)
    funding need         N    = max(0, P − V × a)
    need starts on day   t0   = ceil(V × a / s)         (the advance is used up)
    apply for credit by  t0 − 30 days                   (time to approve a facility)

The defaults by GB/T 4754 section are the bank's rules of thumb, kept in one table below so a credit
officer can read and change them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal


@dataclass(frozen=True)
class SectionNorms:
    advance_ratio: Decimal
    cost_ratio: Decimal
    cash_cycle_days: int
    product: str  # what the RM offers for the gap


NORMS: dict[str, SectionNorms] = {
    "E": SectionNorms(Decimal("0.10"), Decimal("0.85"), 120, "流动资金贷款 + 履约保函"),
    "C": SectionNorms(Decimal("0.30"), Decimal("0.80"), 90, "流动资金贷款 + 订单融资"),
    "F": SectionNorms(Decimal("0.20"), Decimal("0.90"), 45, "贸易融资"),
    "G": SectionNorms(Decimal("0.10"), Decimal("0.85"), 60, "流动资金贷款"),
}
DEFAULT_NORMS = SectionNorms(Decimal("0.20"), Decimal("0.80"), 75, "流动资金贷款")
DEFAULT_TERM_MONTHS = 12
CREDIT_LEAD_DAYS = 30


def yuan(cents: int | Decimal) -> str:
    """Cents as the amount a banker writes: 1.2亿元, 2200万元, 8500元."""
    value = Decimal(cents) / 100
    if abs(value) >= 10**8:
        return f"{(value / 10**8).quantize(Decimal('0.01')).normalize():f}亿元"
    if abs(value) >= 10**4:
        return f"{(value / 10**4).quantize(Decimal('0.01')).normalize():f}万元"
    return f"{value.quantize(Decimal('1')):f}元"


def estimate(
    *,
    contract_cents: int,
    start: date,
    industry_code: str | None,
    advance_ratio: Decimal | None = None,
    term_months: int | None = None,
) -> dict:
    """The funding need with its working (`steps`, in Chinese), JSON-ready."""
    norms = NORMS.get((industry_code or "")[:1], DEFAULT_NORMS)
    a = advance_ratio if advance_ratio is not None else norms.advance_ratio
    a_source = "公告载明" if advance_ratio is not None else "行业惯例"
    months = term_months or DEFAULT_TERM_MONTHS
    t_source = "公告载明" if term_months else "默认"
    term_days = months * 30
    value = Decimal(contract_cents)
    c = norms.cost_ratio
    d = norms.cash_cycle_days
    advance = value * a
    daily = value * c / term_days
    peak = daily * min(d, term_days)
    need = max(Decimal(0), peak - advance)
    need_cents = int(need.to_integral_value(rounding=ROUND_CEILING))
    if need_cents > 0:
        start_day = math.ceil(advance / daily) if daily else 0
        need_from = start + timedelta(days=start_day)
        apply_by = max(start, need_from - timedelta(days=CREDIT_LEAD_DAYS))
    else:
        start_day, need_from, apply_by = None, None, None
    steps = [
        f"合同金额 V = {yuan(value)}",
        f"预付款 = V × {a * 100:.0f}%（{a_source}） = {yuan(advance)}",
        f"履约成本 = V × 成本率 {c * 100:.0f}% = {yuan(value * c)}，工期 {months} 个月（{t_source}），"
        f"日均支出 = {yuan(daily)}",
        f"现金周期 {d} 天（行业惯例） → 垫资峰值 = 日均支出 × {min(d, term_days)} 天 = {yuan(peak)}",
        f"资金缺口 = 垫资峰值 − 预付款 = {yuan(peak)} − {yuan(advance)} = {yuan(need)}"
        + ("（预付款足以覆盖，无缺口）" if need_cents == 0 else ""),
    ]
    if need_from is not None:
        steps.append(
            f"预付款约在第 {start_day} 天用完 → 预计 {need_from.isoformat()} 起需要资金，"
            f"建议 {apply_by.isoformat()} 前完成授信"  # type: ignore[union-attr]
        )
    return {
        "contract_cents": contract_cents,
        "advance_ratio": float(a),
        "advance_cents": int(advance),
        "cost_ratio": float(c),
        "term_months": months,
        "cash_cycle_days": d,
        "peak_cents": int(peak),
        "need_cents": need_cents,
        "need_from": need_from.isoformat() if need_from else None,
        "apply_by": apply_by.isoformat() if apply_by else None,
        "product": norms.product,
        "steps": steps,
    }
