"""Request schemas of the war room API and socket events (validated by pydantic)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from server.warrooms.models import MemberRole, RoomKind, RoomMode, RoomStatus, TargetStage, TaskStatus

MAX_TEXT_BYTES = 4096


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RoomScope(StrEnum):
    mine = "mine"
    invitations = "invitations"
    team = "team"


class RoomListQuery(Strict):
    scope: RoomScope = RoomScope.mine


class EventsQuery(Strict):
    after_seq: int = Field(default=0, ge=0)
    limit: int = Field(default=200, ge=1, le=500)


class RoomCreate(Strict):
    title: str = Field(min_length=2, max_length=128)
    kind: RoomKind = RoomKind.general
    mode: RoomMode = RoomMode.joint
    goal_amount_cents: int | None = Field(default=None, ge=0)
    goal_customers: int | None = Field(default=None, ge=0, le=100000)
    deadline: date | None = None
    invite_user_ids: list[int] = Field(default_factory=list, max_length=50)
    customer_ids: list[int] = Field(default_factory=list, max_length=200)


class QuickSource(StrEnum):
    customer = "customer"
    opportunity = "opportunity"
    intel_alert = "intel_alert"


class QuickCreate(Strict):
    source_type: QuickSource
    source_id: int = Field(ge=1)
    title: str | None = Field(default=None, min_length=2, max_length=128, description="else the source's")
    customer_id: int | None = Field(default=None, ge=1, description="else the source's customer")
    product_id: int | None = Field(default=None, ge=1, description="finds product experts to suggest")
    kind: RoomKind = RoomKind.project_marketing
    invite_suggested: bool = False


class RoomUpdate(Strict):
    title: str | None = Field(default=None, min_length=2, max_length=128)
    status: RoomStatus | None = None
    goal_amount_cents: int | None = Field(default=None, ge=0)
    goal_customers: int | None = Field(default=None, ge=0, le=100000)
    deadline: date | None = None
    version: int | None = Field(default=None, ge=1, description="or send If-Match")


class InviteIn(Strict):
    user_ids: list[int] = Field(min_length=1, max_length=50)
    role: MemberRole = MemberRole.member

    @field_validator("role")
    @classmethod
    def _not_owner(cls, value: MemberRole) -> MemberRole:
        if value == MemberRole.owner:
            raise ValueError("a room has one owner; invite as member, remote_expert or observer")
        return value


class TargetIn(Strict):
    customer_id: int | None = Field(default=None, ge=1)
    prospect_name: str | None = Field(default=None, min_length=2, max_length=128)
    amount_cents: int = Field(default=0, ge=0)
    client_id: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _one_of(self) -> TargetIn:
        if (self.customer_id is None) == (self.prospect_name is None):
            raise ValueError("give either `customer_id` or `prospect_name`")
        return self


class TargetUpdate(Strict):
    target_id: int | None = Field(default=None, ge=1)  # set by the route; sent by socket clients
    stage: TargetStage | None = None
    amount_cents: int | None = Field(default=None, ge=0)
    version: int | None = Field(default=None, ge=1)
    client_id: str | None = Field(default=None, min_length=1, max_length=64)


class TargetRemove(Strict):
    target_id: int = Field(ge=1)
    version: int | None = Field(default=None, ge=1, description="stale versions get 412")
    client_id: str | None = Field(default=None, min_length=1, max_length=64)


class OpportunityLink(Strict):
    opportunity_id: int = Field(ge=1)


class TaskIn(Strict):
    item: str = Field(min_length=1, max_length=200)
    assignee_id: int | None = Field(default=None, ge=1)
    due_on: date | None = None
    status: TaskStatus = TaskStatus.todo
    client_id: str | None = Field(default=None, min_length=1, max_length=64)


class TaskUpdate(Strict):
    task_id: int | None = Field(default=None, ge=1)  # set by the route; sent by socket clients
    item: str | None = Field(default=None, min_length=1, max_length=200)
    assignee_id: int | None = Field(default=None, ge=1)
    due_on: date | None = None
    status: TaskStatus | None = None
    version: int | None = Field(default=None, ge=1, description="stale versions get 412")
    client_id: str | None = Field(default=None, min_length=1, max_length=64)


class CardType(StrEnum):
    customer = "customer"
    product = "product"
    opportunity = "opportunity"


class Card(Strict):
    type: CardType
    id: int = Field(ge=1)


class MessageIn(Strict):
    text: str = Field(min_length=1)
    client_id: str | None = Field(default=None, min_length=1, max_length=64)
    mentions: list[int] = Field(default_factory=list, max_length=20)
    cards: list[Card] = Field(default_factory=list, max_length=5)


class ReadMark(Strict):
    seq: int = Field(ge=0)


class PeopleQuery(Strict):
    q: str = Field(min_length=1, max_length=32)
