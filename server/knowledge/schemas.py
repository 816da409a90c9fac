"""Response schemas of the knowledge degree (知彼度) API."""

from __future__ import annotations

from pydantic import Field

from server.customers.models import Tier
from server.schemas import Strict


class KnowledgeDimension(Strict):
    code: str
    label: str
    weight: float
    score: float


class KnownFact(Strict):
    key: str
    label: str
    dimension: str
    value: str | None
    learned_at: str | None
    source: str


class VisitQuestion(Strict):
    """What to ask on the next visit, ordered by how much the answer would raise the degree."""

    key: str
    label: str
    dimension: str
    status: str
    gain: float
    question: str


class CustomerKnowledge(Strict):
    total: float
    computed_at: str | None
    live_total: float
    dimensions: list[KnowledgeDimension]
    facts: list[KnownFact]
    next_visit_questions: list[VisitQuestion]


class ModelFact(Strict):
    key: str
    label: str
    weight: float
    question: str = Field(description="what to ask on the next visit")
    from_profile: bool = Field(description="read from the customer's profile rather than asked")


class ModelDimension(Strict):
    code: str
    label: str
    weight: float
    half_life_days: float = Field(description="a fact this old counts half")
    facts: list[ModelFact]


class KnowledgeModel(Strict):
    """The knowledge-degree model in force, per kind of customer."""

    corporate: list[ModelDimension]
    individual: list[ModelDimension]


class DegreeBucket(Strict):
    from_: int = Field(alias="from")
    to: int
    customers: int


class LeastKnownCustomer(Strict):
    id: int
    name: str
    tier: Tier
    total: float


class RmAverage(Strict):
    rm_id: int
    display_name: str
    customers: int
    average: float


class KnowledgeSummary(Strict):
    """Over the RM's customers (a team lead: the team's, with `by_rm`)."""

    customers: int
    average: float
    distribution: list[DegreeBucket]
    lowest: list[LeastKnownCustomer] = Field(description="the ten least known, most valuable first")
    by_rm: list[RmAverage] | None = Field(default=None, description="team leads only")
