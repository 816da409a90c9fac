"""Response schemas of the knowledge degree (知彼度) API."""

from __future__ import annotations

from pydantic import Field

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
