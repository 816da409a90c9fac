"""The persona rule model: a few ordered, readable rules over an RM's figures, with thresholds an
admin can tune (stored as overrides of the defaults below, like the knowledge and mirror models).

The first rule that holds decides, in this order:
1. 新进 newcomer — in post fewer than `newcomer_months` months.
2. 老油 veteran — in post at least `veteran_min_years` years, and results that swing (volatility,
   the coefficient of variation of monthly completion, at least `veteran_volatility`), or a conduct
   risk score of at least `veteran_conduct_score`, or a completion below `coasting_completion`.
3. 超级 super — average completion at least `super_completion`, a book at least `super_book_ratio`
   times the bank's median experienced book, and top-tier customers at least `super_top_share`.
4. 优秀 excellent — average completion at least `excellent_completion` and a book at least
   `excellent_book_ratio` times the median.
5. 一般 general — everyone else.
The classifier reads only these figures; never the persona stored on the profile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.errors import unprocessable
from server.org.models import Persona

CONFIG_NAME = "personas"

DEFAULT_THRESHOLDS: dict[str, float] = {
    "newcomer_months": 6,
    "veteran_min_years": 8,
    "veteran_volatility": 0.3,
    "veteran_conduct_score": 60,
    "coasting_completion": 0.8,
    "super_completion": 1.45,
    "super_book_ratio": 1.8,
    "super_top_share": 0.35,
    "excellent_completion": 1.12,
    "excellent_book_ratio": 1.0,
}
# Admin-tunable bounds of each threshold (inclusive).
BOUNDS: dict[str, tuple[float, float]] = {
    "newcomer_months": (1, 24),
    "veteran_min_years": (1, 40),
    "veteran_volatility": (0.05, 5),
    "veteran_conduct_score": (1, 100),
    "coasting_completion": (0, 2),
    "super_completion": (0.5, 5),
    "super_book_ratio": (0, 20),
    "super_top_share": (0, 1),
    "excellent_completion": (0.5, 5),
    "excellent_book_ratio": (0, 20),
}
LABELS = {
    Persona.newcomer: "新进",
    Persona.general: "一般",
    Persona.excellent: "优秀",
    Persona.super: "超级",
    Persona.veteran: "老油",
}


@dataclass(frozen=True)
class Features:
    """One RM's figures as of a day (None where the data is missing)."""

    tenure_months: int
    customers: int
    book_ratio: float | None  # customers / the bank's median book of RMs in post a year or more
    top_share: float | None  # share of the book in the top tiers (vip/high; large/medium firms)
    completion: float | None  # average monthly revenue completion over the recent full months
    last_completion: float | None  # last full month's completion
    volatility: float | None  # coefficient of variation of monthly completion (12 months)
    months_measured: int
    conduct_score: float | None  # latest conduct risk score (0-100), where conduct runs

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def validate_overrides(value: dict[str, Any]) -> dict[str, float]:
    if not isinstance(value, dict):
        raise unprocessable("Send thresholds by name.")
    errors, clean = [], {}
    for key, v in value.items():
        if key not in DEFAULT_THRESHOLDS:
            errors.append({"field": key, "message": "unknown threshold"})
        elif (
            not isinstance(v, int | float) or isinstance(v, bool) or not BOUNDS[key][0] <= v <= BOUNDS[key][1]
        ):
            errors.append({"field": key, "message": f"a number from {BOUNDS[key][0]} to {BOUNDS[key][1]}"})
        else:
            clean[key] = float(v)
    if not errors:
        merged = {**DEFAULT_THRESHOLDS, **clean}
        if merged["super_completion"] < merged["excellent_completion"]:
            errors.append({"field": "super_completion", "message": "not below excellent_completion"})
    if errors:
        raise unprocessable("Some thresholds are invalid.", errors=errors)
    return clean


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _tenure_text(months: int) -> str:
    if months < 12:
        return f"入行 {months} 个月"
    years, rest = divmod(months, 12)
    return f"入行 {years} 年" + (f" {rest} 个月" if rest else "")


def facts(f: Features) -> list[str]:
    """The figures as Chinese phrases, in the order a reader scans them."""
    out = [_tenure_text(f.tenure_months)]
    if f.last_completion is not None:
        out.append(f"上月完成率 {_pct(f.last_completion)}")
    if f.completion is not None:
        out.append(f"近 {f.months_measured} 个月平均完成率 {_pct(f.completion)}")
    if f.volatility is not None:
        out.append(f"完成率波动 {f.volatility:.2f}")
    out.append(
        f"管户 {f.customers} 户"
        + (f"（行内中位数的 {f.book_ratio:.1f} 倍）" if f.book_ratio is not None else "")
    )
    if f.top_share is not None:
        out.append(f"重点客户占比 {_pct(f.top_share)}")
    if f.conduct_score is not None:
        out.append(f"行为风险分 {f.conduct_score:.0f}")
    return out


def classify(f: Features, t: dict[str, float]) -> tuple[Persona, str, list[str]]:
    """(persona, rule, reasons): the first rule that holds, and why, in Chinese."""
    why: list[str]
    if f.tenure_months < t["newcomer_months"]:
        return Persona.newcomer, "tenure", [f"入行不满 {t['newcomer_months']:.0f} 个月", *facts(f)]
    if f.tenure_months >= t["veteran_min_years"] * 12:
        why = []
        if f.volatility is not None and f.volatility >= t["veteran_volatility"]:
            why.append(f"完成率大起大落（波动 {f.volatility:.2f} ≥ {t['veteran_volatility']:.2f}）")
        if f.conduct_score is not None and f.conduct_score >= t["veteran_conduct_score"]:
            why.append(f"行为风险分 {f.conduct_score:.0f} ≥ {t['veteran_conduct_score']:.0f}")
        if f.completion is not None and f.completion < t["coasting_completion"]:
            why.append(f"平均完成率 {_pct(f.completion)} 低于 {_pct(t['coasting_completion'])}")
        if why:
            return Persona.veteran, "veteran", [f"入行 {t['veteran_min_years']:.0f} 年以上", *why, *facts(f)]
    completion = f.completion if f.completion is not None else 0.0
    book = f.book_ratio if f.book_ratio is not None else 0.0
    top = f.top_share if f.top_share is not None else 0.0
    if completion >= t["super_completion"] and book >= t["super_book_ratio"] and top >= t["super_top_share"]:
        why = [
            f"平均完成率 {_pct(completion)} ≥ {_pct(t['super_completion'])}",
            f"管户规模为中位数的 {book:.1f} 倍",
        ]
        return Persona.super, "super", [*why, *facts(f)]
    if completion >= t["excellent_completion"] and book >= t["excellent_book_ratio"]:
        why = [f"平均完成率 {_pct(completion)} ≥ {_pct(t['excellent_completion'])}"]
        return Persona.excellent, "excellent", [*why, *facts(f)]
    return Persona.general, "general", ["未达优秀、超级标准", *facts(f)]
