"""Request and response schemas of the mirror API (照镜子)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from server.schemas import Strict


class EvaluationCreate(Strict):
    rm_id: int = Field(ge=1)
    scores: dict[str, int] = Field(description="professional, responsive, trustworthy, proactive: 1-5")
    comment: str | None = Field(default=None, max_length=500)


class RatingLinkCreate(Strict):
    customer_id: int = Field(ge=1)


class PublicRating(Strict):
    scores: dict[str, int]
    comment: str | None = Field(default=None, max_length=500)


class MirrorWeights(Strict):
    """Each power's indicator weights (0-100), the admin's overrides over the defaults."""

    challenge_power: dict[str, float]
    combat_power: dict[str, float]


class MirrorRm(Strict):
    id: int
    display_name: str


class Driver(Strict):
    """One indicator of a power: its score (0-100), how much it moves the power from neutral, and why."""

    indicator: str
    label: str
    score: float
    contribution: float
    explanation: str


class Power(Strict):
    score: float
    top_drivers: list[Driver]
    indicators: list[Driver]


class RadarPoint(Strict):
    indicator: str
    label: str
    power: Literal["challenge_power", "combat_power"]
    score: float


class TeamPercentile(Strict):
    challenge_power: float
    combat_power: float
    team_size: int


class PowerTrend(Strict):
    month: str
    challenge_power: float
    combat_power: float


class EvaluationSummary(Strict):
    count: int
    average: float | None
    criteria: dict[str, float] = Field(description="average per criterion; empty without evaluations")


class EvaluationsByKind(Strict):
    self: EvaluationSummary
    colleague: EvaluationSummary
    team_lead: EvaluationSummary
    customer: EvaluationSummary


class Portrait(Strict):
    rm: MirrorRm
    month: str
    challenge_power: Power
    combat_power: Power
    radar: list[RadarPoint]
    percentile: TeamPercentile
    trend: list[PowerTrend]
    evaluations: EvaluationsByKind
    self_vs_others: float | None = Field(description="self rating minus the others' average")
    weights: MirrorWeights


class PendingEvaluation(Strict):
    rm_id: int
    display_name: str
    is_self: bool


class PendingEvaluations(Strict):
    month: str
    items: list[PendingEvaluation]


EvaluatorKind = Literal["self", "colleague", "team_lead", "customer"]


class EvaluationSaved(Strict):
    id: int
    month: str
    evaluator_kind: EvaluatorKind
    average: float


class RatingLink(Strict):
    id: int
    url: str
    token: str
    expires_at: str
    qr_svg: str = Field(description="the link as a QR code (SVG)")


class RatingCriterion(Strict):
    key: str
    label: str


class RatingForm(Strict):
    """All a customer holding the link may see."""

    rm_display_name: str
    month: str
    criteria: list[RatingCriterion]
    expires_at: str


class RatingThanks(Strict):
    thanks: bool
