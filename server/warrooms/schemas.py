"""Request and response schemas of the war room API and socket events (validated by pydantic): the
room, its members, targets, tasks and chat. A campaign's bulk targets, board, chain and outcome are in
campaign_schemas.py; the call's experts and shared stage in call_schemas.py."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from server.schemas import PersonRef, Strict
from server.warrooms.models import (
    MemberRole,
    MemberStatus,
    RoomKind,
    RoomMode,
    RoomStatus,
    TargetConsent,
    TargetStage,
    TaskStatus,
)

MAX_TEXT_BYTES = 4096


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


# Responses


class RoomSource(Strict):
    type: str
    id: int | None
    title: str | None


class RoomProgress(Strict):
    won_amount_cents: int
    won_customers: int
    targets: int
    tasks_done: int
    tasks: int
    percent: int | None


class RoomBase(Strict):
    id: int
    title: str
    kind: RoomKind
    mode: RoomMode
    status: RoomStatus
    goal_amount_cents: int | None
    goal_customers: int | None
    deadline: str | None
    owner_id: int
    source: RoomSource | None
    last_seq: int
    version: int
    progress: RoomProgress
    updated_at: str | None


class RoomCard(RoomBase):
    """A room in my list (or my invitations)."""

    my_role: MemberRole
    unread: int


class BoardRoom(RoomBase):
    """A room on the team lead's live board, with its count of active members."""

    members: int


class RoomList(Strict):
    items: list[RoomCard | BoardRoom]


class BoardList(Strict):
    items: list[BoardRoom]


class RoomMemberPublic(Strict):
    user: PersonRef
    role: MemberRole
    status: MemberStatus
    branch_id: int | None


class TargetPublic(Strict):
    """A pending request names no customer (only to its RM and the requester)."""

    id: int
    customer_id: int | None
    name: str | None
    prospect: bool
    consent: TargetConsent
    owner_id: int | None
    stage: TargetStage
    amount_cents: int
    source_note: str | None
    assignee_id: int | None
    added_by: int
    version: int
    updated_at: str | None


class TaskPublic(Strict):
    id: int
    item: str
    assignee: PersonRef | None
    due_on: str | None
    status: TaskStatus
    version: int
    updated_at: str | None


class LinkedOpportunity(Strict):
    id: int
    title: str | None
    status: str | None


class RoomDetail(RoomBase):
    """An invitee sees the outline (members) before accepting; members see the board too."""

    my_role: MemberRole | None
    my_status: MemberStatus | None
    unread: int
    members: list[RoomMemberPublic]
    targets: list[TargetPublic] | None = None
    tasks: list[TaskPublic] | None = None
    opportunity_ids: list[int] | None = None
    opportunities: list[LinkedOpportunity] | None = None


class SuggestedMember(Strict):
    id: int
    display_name: str
    reason: str
    qualification: str | None = None
    role: MemberRole


class QuickRoom(RoomDetail):
    suggested_members: list[SuggestedMember]


class Colleague(Strict):
    id: int
    display_name: str
    role: str
    branch_id: int | None


class ColleagueList(Strict):
    items: list[Colleague]


class RoomEvent(Strict):
    """One event of the room's log; `payload` depends on `kind` (a message, a target moved ...)."""

    room_id: int
    seq: int
    kind: str
    payload: dict[str, Any]
    client_id: str | None
    author: PersonRef | None
    created_at: str | None


class EventPage(Strict):
    items: list[RoomEvent]
    last_seq: int


class Invited(Strict):
    invited: list[int]


class Declined(Strict):
    declined: bool


class MemberRemoved(Strict):
    removed: int


class RoomLeft(Strict):
    left: int


class TargetRemoved(Strict):
    removed: int


class TargetDeclined(Strict):
    declined: int


class OpportunityLinked(Strict):
    opportunity_id: int


class ReadMarked(Strict):
    last_read_seq: int
