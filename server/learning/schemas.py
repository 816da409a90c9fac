"""Request and response schemas of the learning API (经验资产, 产品学习)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from server.schemas import Strict


class CaseQuery(Strict):
    customer_id: int | None = Field(default=None, ge=1)
    prospect_id: int | None = Field(default=None, ge=1)
    limit: int = Field(default=10, ge=1, le=30)


class AnswerIn(Strict):
    question_key: str = Field(min_length=3, max_length=32)
    choice: int = Field(ge=0, le=9)


class ConsentIn(Strict):
    share_name: bool


# --- responses -------------------------------------------------------------------------------------


class CaseCustomer(Strict):
    """Who the case's customer was, anonymised: what kind of customer, never who."""

    label: str = Field(description="e.g. 杭州某汽车制造业中型民营企业")
    kind: str
    industry_code: str | None
    size: str | None
    tier: str | None
    ownership: str | None
    region_name: str | None


class CaseProduct(Strict):
    id: int
    name: str
    category: str


class CaseStep(Strict):
    order: int
    kind: str = Field(description="e.g. visit.visit, opportunity.claimed, stage.won, product.opened")
    days: float = Field(description="days since the step before")


class CaseHelper(Strict):
    role: str
    persona: str | None
    name: str | None = Field(description="only when that colleague consented to be named")


class CaseCard(Strict):
    id: str
    source: Literal["opportunity", "war_room", "visits"]
    outcome: Literal["won", "lost"]
    customer: CaseCustomer
    products: list[CaseProduct]
    steps: list[CaseStep]
    total_days: float
    helpers: list[CaseHelper]
    amount_cents: int | None
    closed_on: str


class RankedCaseCard(CaseCard):
    similarity: float = Field(description="0..1, to the closest customer or prospect of the RM's")
    alike_count: int
    reasons: list[str]


class CaseCards(Strict):
    about: str | None = Field(description="the customer or prospect the cases resemble; None: the whole book")
    items: list[RankedCaseCard]
    pool: int = Field(description="how many cases resembled at all")


class PlaybookCompletion(Strict):
    mine: float | None
    best: float | None


class PlaybookFigure(Strict):
    key: str
    mine: float | None
    best: float | None
    team: float | None
    lower_is_better: bool


class ProductSequence(Strict):
    model_config = ConfigDict(extra="forbid", serialize_by_alias=True)

    from_: str = Field(alias="from")
    to: str
    count: int


class PlaybookSequences(Strict):
    best: list[ProductSequence]
    mine: list[ProductSequence]


class Playbook(Strict):
    team_size: int
    best_count: int
    i_am_best: bool
    completion: PlaybookCompletion
    figures: list[PlaybookFigure]
    sequences: PlaybookSequences
    window_days: int


class QuizQuestion(Strict):
    key: str
    product_id: int
    kind: Literal["selling_point", "advantage", "segment", "qualification", "risk"]
    prompt: str
    options: list[str]
    product_name: str


class QuizSession(Strict):
    items: list[QuizQuestion]
    due_count: int
    next_due_at: str | None


class QuizGraded(Strict):
    correct: bool
    answer: int = Field(description="the index of the right option")
    due: str
    readiness: int = Field(description="the product's readiness after this answer, 0-100")


class ProductReadiness(Strict):
    product_id: int
    name: str
    category: str
    questions: int
    answered: int
    readiness: int
    recall: float


class Readiness(Strict):
    overall: int
    overall_exact: float
    products: list[ProductReadiness]


class LearningSummary(Strict):
    readiness: int
    products: list[ProductReadiness] = Field(description="the three products the RM is least ready on")
    due_count: int
    next_due_at: str | None
    share_name: bool


class CaseConsentPublic(Strict):
    share_name: bool
