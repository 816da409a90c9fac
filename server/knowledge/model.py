"""The knowledge degree's model (知彼度): how well the RM knows a customer, 0-100.

Model (documented in docs/workbench.md):
- Each fact k the RM knows has a weight w_k inside its dimension d and a freshness
  f_k = 0.5 ** (age_days / half_life_d): a fact as old as the dimension's half-life counts half.
- Dimension score S_d = 100 * sum(w_k * f_k for known k in d) / sum(w_k for all k in d).
- Total = sum(W_d * S_d) / sum(W_d) over the dimensions of the customer's kind.
- The value of learning (or re-verifying) fact k is the points it would add:
  100 * W_d / sum(W) * w_k / sum(w in d) * (1 - f_k). Missing and stale facts ranked by that value are
  the "questions for your next visit".

The weights in force are the catalogue's (server/knowledge/catalogue.py) with an admin's overrides.
`score_facts` scores one customer in Python: the reference the set-based SQL
(server/knowledge/scores.py) must agree with, and the source of the gaps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from server.errors import unprocessable
from server.knowledge.catalogue import CATALOGUE, FACT_KEYS, DimensionDef
from server.overrides import service as model_overrides
from server.timeutil import as_utc

CONFIG_NAME = "knowledge"


# --- the effective model (defaults + admin overrides) ---------------------------------------------


@dataclass
class Fact:
    key: str
    label: str
    weight: float
    question: str
    derived: bool


@dataclass
class Dimension:
    kind: str
    code: str
    label: str
    weight: float
    half_life_days: float
    facts: list[Fact] = field(default_factory=list)

    @property
    def fact_weight_sum(self) -> float:
        return sum(f.weight for f in self.facts)


@dataclass
class Model:
    dimensions: list[Dimension]

    def for_kind(self, kind: str) -> list[Dimension]:
        return [d for d in self.dimensions if d.kind == kind]

    def effective_weight_sum(self, kind: str) -> float:
        return sum(d.weight for d in self.for_kind(kind) if d.fact_weight_sum > 0)

    def describe(self) -> dict[str, Any]:
        return {
            kind: [
                {
                    "code": d.code,
                    "label": d.label,
                    "weight": d.weight,
                    "half_life_days": d.half_life_days,
                    "facts": [
                        {
                            "key": f.key,
                            "label": f.label,
                            "weight": f.weight,
                            "question": f.question,
                            "from_profile": f.derived,
                        }
                        for f in d.facts
                    ],
                }
                for d in self.for_kind(kind)
            ]
            for kind in CATALOGUE
        }


def _dimension_key(kind: str, code: str) -> str:
    return f"{kind}.{code}"


def validate_overrides(value: dict[str, Any]) -> dict[str, Any]:
    """Overrides: {"dimensions": {"corporate.basic": {"weight": 20, "half_life_days": 730}},
    "facts": {"industry": 3}}. Unknown names, negative weights or a kind left with no weight are 422."""
    errors: list[dict[str, Any]] = []
    clean: dict[str, Any] = {"dimensions": {}, "facts": {}}
    known_dims = {_dimension_key(k, d.code) for k, dims in CATALOGUE.items() for d in dims}
    if not isinstance(value, dict) or set(value) - {"dimensions", "facts"}:
        raise unprocessable("Send `dimensions` and/or `facts`.")
    for name, spec in (value.get("dimensions") or {}).items():
        if name not in known_dims or not isinstance(spec, dict) or set(spec) - {"weight", "half_life_days"}:
            errors.append({"field": f"dimensions.{name}", "message": "unknown dimension or setting"})
            continue
        entry: dict[str, float] = {}
        if "weight" in spec:
            w = spec["weight"]
            if not isinstance(w, int | float) or isinstance(w, bool) or not 0 <= w <= 100:
                errors.append({"field": f"dimensions.{name}.weight", "message": "a number from 0 to 100"})
            else:
                entry["weight"] = float(w)
        if "half_life_days" in spec:
            h = spec["half_life_days"]
            if not isinstance(h, int | float) or isinstance(h, bool) or not 7 <= h <= 3650:
                errors.append(
                    {"field": f"dimensions.{name}.half_life_days", "message": "a number of days, 7 to 3650"}
                )
            else:
                entry["half_life_days"] = float(h)
        clean["dimensions"][name] = entry
    for key, w in (value.get("facts") or {}).items():
        if key not in FACT_KEYS:
            errors.append({"field": f"facts.{key}", "message": "unknown fact"})
        elif not isinstance(w, int | float) or isinstance(w, bool) or not 0 <= w <= 100:
            errors.append({"field": f"facts.{key}", "message": "a number from 0 to 100"})
        else:
            clean["facts"][key] = float(w)
    if not errors:
        model = model_from_overrides(clean)
        for kind in CATALOGUE:
            if model.effective_weight_sum(kind) <= 0:
                errors.append({"field": "dimensions", "message": f"{kind} customers need some weight"})
    if errors:
        raise unprocessable("Some settings are invalid.", errors=errors)
    return clean


def model_from_overrides(overrides: dict[str, Any]) -> Model:
    dim_over = overrides.get("dimensions") or {}
    fact_over = overrides.get("facts") or {}
    dims: list[Dimension] = []
    for kind, defs in CATALOGUE.items():
        for d in defs:
            o = dim_over.get(_dimension_key(kind, d.code), {})
            dims.append(_dimension(kind, d, o, fact_over))
    return Model(dims)


def _dimension(kind: str, d: DimensionDef, o: dict[str, float], fact_over: dict[str, float]) -> Dimension:
    return Dimension(
        kind=kind,
        code=d.code,
        label=d.label,
        weight=float(o.get("weight", d.weight)),
        half_life_days=float(o.get("half_life_days", d.half_life_days)),
        facts=[
            Fact(f.key, f.label, float(fact_over.get(f.key, f.weight)), f.question, f.derived)
            for f in d.facts
        ],
    )


def load_model(session: Session) -> Model:
    overrides, _version = model_overrides.get_overrides(session, CONFIG_NAME)
    return model_from_overrides(overrides)


# --- pure scoring (one customer; the reference the SQL must agree with) ----------------------------


def freshness(age_days: float, half_life_days: float) -> float:
    return 0.5 ** (max(age_days, 0.0) / half_life_days)


@dataclass
class Gap:
    key: str
    label: str
    dimension: str
    status: str  # missing, stale
    value: float  # points the total would gain
    question: str
    learned_at: datetime | None = None


@dataclass
class Result:
    total: float
    dims: dict[str, float]
    gaps: list[Gap]


def score_facts(kind: str, learned: dict[str, datetime], model: Model, now: datetime) -> Result:
    dims = model.for_kind(kind)
    weight_sum = model.effective_weight_sum(kind)
    total = 0.0
    scores: dict[str, float] = {}
    gaps: list[Gap] = []
    for d in dims:
        denominator = d.fact_weight_sum
        if denominator <= 0:
            scores[d.code] = 0.0
            continue
        got = 0.0
        for f in d.facts:
            at = learned.get(f.key)
            fresh = freshness((now - as_utc(at)).total_seconds() / 86400, d.half_life_days) if at else 0.0
            got += f.weight * fresh
            gain = 100 * d.weight / weight_sum * f.weight / denominator * (1 - fresh)
            if f.weight > 0 and (at is None or fresh < 0.5):
                question = f.question
                if at is not None:
                    days = int((now - as_utc(at)).total_seconds() // 86400)
                    question = f"再核实:{f.question}(上次了解于 {days} 天前)"
                gaps.append(
                    Gap(f.key, f.label, d.code, "missing" if at is None else "stale", gain, question, at)
                )
        scores[d.code] = 100 * got / denominator
        total += d.weight * scores[d.code]
    gaps.sort(key=lambda g: (-g.value, g.key))
    return Result(total / weight_sum if weight_sum else 0.0, scores, gaps)
