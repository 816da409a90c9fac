"""Request schemas of the workbench API."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from server.customers.schemas import CustomerDetail
from server.knowledge.schemas import CustomerKnowledge, KnowledgeModel
from server.mirror.schemas import MirrorWeights
from server.schemas import Strict


class Channel(StrEnum):
    visit = "visit"
    call = "call"
    meeting = "meeting"
    wechat = "wechat"


class FactIn(Strict):
    key: str = Field(min_length=1, max_length=32, description="a fact key of the knowledge catalogue")
    value: str | None = Field(default=None, max_length=200, description="what was learned, in brief")


class VisitCreate(Strict):
    channel: Channel
    occurred_at: datetime = Field(description="ISO 8601; without a zone it is UTC")
    location: str | None = Field(default=None, max_length=128)
    attendees: str | None = Field(default=None, max_length=255, description="who was met")
    outcome: str = Field(min_length=1, max_length=500)
    next_step: str | None = Field(default=None, max_length=255)
    next_step_at: datetime | None = None
    facts: list[FactIn] = Field(default_factory=list, max_length=30)

    @field_validator("outcome")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the outcome is empty")
        return value.strip()


class ConfigUpdate(Strict):
    value: dict[str, Any]
    version: int = Field(ge=0, description="the version read; 0 when nothing was configured yet")


class ConfigSaved(Strict):
    name: Literal["knowledge", "mirror"]
    version: int
    effective: KnowledgeModel | MirrorWeights = Field(description="the model in force after the overrides")


class WorkbenchConfig(ConfigSaved):
    overrides: dict[str, Any] = Field(description="as the admin stored them: the shape of a PUT's value")


# Responses: the home page's cards, one model per card type (the PWA renders by `type`).


class Revenue(Strict):
    achieved_cents: int
    target_cents: int | None
    completion: float | None
    shared_credit_cents: int


class TeamRank(Strict):
    rank: int | None
    team_size: int


class SummaryCard(Strict):
    type: Literal["summary"]
    title: str
    revenue: Revenue
    team_rank: TeamRank | None
    knowledge_average: float | None
    pending_evaluations: int


class RouteItem(Strict):
    code: str
    title: str
    route: str


class LearningCard(Strict):
    type: Literal["learning"]
    title: str
    items: list[RouteItem]


class ToolsCard(Strict):
    type: Literal["tools"]
    title: str
    items: list[RouteItem]


class Mentor(Strict):
    """The pairing's mentor (with its id, start and note count) or, failing one, the team lead."""

    id: int
    display_name: str
    persona: str
    mentorship_id: int | None = None
    started_on: str | None = None
    notes: int | None = None


class MentorCard(Strict):
    type: Literal["mentor"]
    title: str
    mentor: Mentor | None


class ClaimableOpportunity(Strict):
    id: int
    title: str
    estimated_amount_cents: int | None
    industry_code: str | None


class OpportunitiesCard(Strict):
    type: Literal["opportunities"]
    title: str
    items: list[ClaimableOpportunity]
    available: bool


class ReminderItem(Strict):
    kind: str
    title: str
    due_at: str | None
    customer_id: int | None
    note_id: int | None


class RemindersCard(Strict):
    type: Literal["reminders"]
    title: str
    items: list[ReminderItem]


class NeglectedCustomer(Strict):
    id: int
    name: str
    tier: str


class NeglectedCard(Strict):
    type: Literal["neglected"]
    title: str
    total: int
    items: list[NeglectedCustomer]


class OversightPrompt(Strict):
    rm_id: int
    display_name: str
    silent_top_customers: int
    completion: float | None
    knowledge_average: float | None
    prompt: str


class OversightCard(Strict):
    type: Literal["oversight"]
    title: str
    items: list[OversightPrompt]


class MemberKnowledge(Strict):
    rm_id: int
    display_name: str
    average: float | None
    customers: int


class TeamKnowledgeCard(Strict):
    type: Literal["team_knowledge"]
    title: str
    items: list[MemberKnowledge]


class PendingEvaluation(Strict):
    rm_id: int
    display_name: str
    is_self: bool


class EvaluationsCard(Strict):
    type: Literal["evaluations"]
    title: str
    items: list[PendingEvaluation]


class PersonaCard(BaseModel):
    """My persona (画像) and what it is based on: its fields are not described here yet (open)."""

    model_config = ConfigDict(extra="allow")
    type: Literal["persona"]
    title: str


class MenteesCard(BaseModel):
    """The newcomers I mentor: item fields are not described here yet (open)."""

    type: Literal["mentees"]
    title: str
    items: list[dict[str, Any]]


HomeCard = Annotated[
    SummaryCard
    | LearningCard
    | ToolsCard
    | MentorCard
    | OpportunitiesCard
    | RemindersCard
    | NeglectedCard
    | OversightCard
    | TeamKnowledgeCard
    | EvaluationsCard
    | PersonaCard
    | MenteesCard,
    Field(discriminator="type"),
]


class HomePage(Strict):
    persona: str
    cards: list[HomeCard]


# Responses: customer 360 (客户数据一张图)


class HoldingPublic(Strict):
    id: int
    product_id: int
    product_name: str
    category: str
    balance_cents: int
    loan_balance_cents: int
    fee_income_cents: int
    opened_on: str | None
    matures_on: str | None
    status: str


class HoldingsTotal(Strict):
    balance_cents: int
    loan_balance_cents: int
    products: int


class TimelineItem(Strict):
    """A visit, a note, a transaction, an event ...: `detail` and `ref` depend on `kind`."""

    at: str | None
    kind: str
    title: str
    detail: dict[str, Any]
    ref: dict[str, Any]


class GraphNode(Strict):
    """A masked node names nobody: the PWA words it from its catalogs."""

    id: str
    label: str
    kind: str
    center: bool | None = None
    influence: int | None = None
    masked: bool | None = None


class GraphEdge(Strict):
    from_: str = Field(alias="from")
    to: str
    kind: str
    label: str | None


class RelationshipGraph(Strict):
    nodes: list[GraphNode]
    edges: list[GraphEdge]


class OpenOpportunity(Strict):
    id: int
    title: str
    status: str
    estimated_amount_cents: int | None
    expected_date: str | None


class Customer360(Strict):
    profile: CustomerDetail
    holdings: list[HoldingPublic]
    holdings_total: HoldingsTotal
    timeline: list[TimelineItem]
    graph: RelationshipGraph
    opportunities: list[OpenOpportunity]
    knowledge: CustomerKnowledge


class VisitPublic(Strict):
    id: int
    channel: Channel
    occurred_at: str | None
    next_step: str | None
    next_step_at: str | None
    reminder_note_id: int | None


class VisitLogged(Strict):
    """The visit, and the knowledge degree before and after the facts learned on it."""

    visit: VisitPublic
    knowledge_before: float
    knowledge: CustomerKnowledge
