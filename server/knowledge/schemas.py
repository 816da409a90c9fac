"""Response schemas of the knowledge degree (知彼度) API."""

from __future__ import annotations

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
