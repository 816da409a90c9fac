"""War room tables. Chat messages and every board change are rows of `war_room_event`, numbered by a
per-room sequence (`war_room.last_seq`), so a reconnecting client can be sent exactly what it missed."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.timeutil import utcnow


class RoomKind(StrEnum):
    project_marketing = "project_marketing"  # 项目营销: one big deal, many parties
    wholesale = "wholesale"  # 批发销售: one offer to many (payroll, cards for all staff)
    general = "general"


class RoomMode(StrEnum):
    solo = "solo"  # 单兵
    joint = "joint"  # 联合: RMs of one branch
    remote = "remote"  # 远程: experts and RMs from other branches


class RoomStatus(StrEnum):
    active = "active"
    won = "won"
    closed = "closed"


class MemberRole(StrEnum):
    owner = "owner"
    member = "member"
    remote_expert = "remote_expert"
    observer = "observer"  # e.g. the team lead


class MemberStatus(StrEnum):
    invited = "invited"
    active = "active"
    declined = "declined"
    left = "left"
    removed = "removed"


class TargetStage(StrEnum):
    """The campaign funnel: 待接触 → 已拜访 → 方案 → 审批 → 成交 / 放弃."""

    to_contact = "to_contact"
    contacted = "contacted"
    negotiating = "negotiating"
    approval = "approval"
    won = "won"
    lost = "lost"


class TargetConsent(StrEnum):
    """Whether a customer target's owner has let it into the room. A member's request for a
    colleague's customer is `pending` (no grant, no name shown) until that owner approves it."""

    approved = "approved"
    pending = "pending"


class TaskStatus(StrEnum):
    todo = "todo"
    doing = "doing"
    done = "done"


class WarRoom(SQLModel, table=True):
    __tablename__ = "war_room"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=128)
    kind: RoomKind = Field(sa_type=String(24))
    mode: RoomMode = Field(sa_type=String(12))
    status: RoomStatus = Field(default=RoomStatus.active, sa_type=String(12), index=True)
    goal_amount_cents: int | None = Field(default=None, sa_type=BigInteger)
    goal_customers: int | None = None
    deadline: date | None = None
    owner_id: int = Field(foreign_key="user.id", index=True)
    branch_id: int | None = Field(default=None, foreign_key="branch.id")
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)  # for the lead's board
    source_type: str | None = Field(default=None, max_length=16)  # customer, opportunity, intel_alert
    source_id: int | None = None
    source_title: str | None = Field(default=None, max_length=128)
    last_seq: int = Field(default=0)  # the per-room event counter, bumped by one atomic UPDATE
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class WarRoomMember(SQLModel, table=True):
    __tablename__ = "war_room_member"
    __table_args__ = (UniqueConstraint("room_id", "user_id", name="uq_war_room_member"),)

    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="war_room.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True)
    role: MemberRole = Field(sa_type=String(16))
    status: MemberStatus = Field(sa_type=String(12))
    invited_by: int | None = Field(default=None, foreign_key="user.id")
    last_read_seq: int = Field(default=0)
    invited_at: datetime = Field(default_factory=utcnow)
    joined_at: datetime | None = None
    ended_at: datetime | None = None


class WarRoomTarget(SQLModel, table=True):
    """A target customer: one from a member's book, or a prospect known only by name."""

    __tablename__ = "war_room_target"

    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="war_room.id", index=True, ondelete="CASCADE")
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    prospect_name: str | None = Field(default=None, max_length=128)
    stage: TargetStage = Field(default=TargetStage.to_contact, sa_type=String(12))
    amount_cents: int = Field(default=0, sa_type=BigInteger)
    added_by: int = Field(foreign_key="user.id")
    consent: TargetConsent = Field(default=TargetConsent.approved, sa_type=String(10))
    # How a bulk source found it, shown beside the name (e.g. "上游 2 级 · 原材料供应").
    source_note: str | None = Field(default=None, max_length=160)
    bulk_id: int | None = Field(default=None, foreign_key="war_room_bulk.id", index=True)
    assignee_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    version: int = Field(default=1)
    updated_at: datetime = Field(default_factory=utcnow)


class WarRoomBulk(SQLModel, table=True):
    """One bulk addition of targets from a source. The client's key makes a retry replay this
    result instead of adding anything; the targets it added hold seqs first_seq..last_seq."""

    __tablename__ = "war_room_bulk"
    __table_args__ = (UniqueConstraint("room_id", "client_key", name="uq_war_room_bulk_key"),)

    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="war_room.id", index=True, ondelete="CASCADE")
    client_key: str = Field(max_length=64)
    source_type: str = Field(max_length=16)  # search, chain, park, employees, file, prospects
    source_label: str = Field(max_length=160)
    created_by: int = Field(foreign_key="user.id")
    first_seq: int | None = None
    last_seq: int | None = None
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class WarRoomOpportunity(SQLModel, table=True):
    __tablename__ = "war_room_opportunity"

    room_id: int = Field(foreign_key="war_room.id", primary_key=True, ondelete="CASCADE")
    opportunity_id: int = Field(primary_key=True)  # the opportunities feature's id (no foreign key)
    linked_by: int = Field(foreign_key="user.id")
    linked_at: datetime = Field(default_factory=utcnow)


class WarRoomTask(SQLModel, table=True):
    __tablename__ = "war_room_task"

    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="war_room.id", index=True, ondelete="CASCADE")
    item: str = Field(max_length=200)
    assignee_id: int | None = Field(default=None, foreign_key="user.id")
    due_on: date | None = None
    status: TaskStatus = Field(default=TaskStatus.todo, sa_type=String(8))
    created_by: int = Field(foreign_key="user.id")
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class WarRoomEvent(SQLModel, table=True):
    """One chat message or board change, in room order. `client_id` makes re-sends idempotent."""

    __tablename__ = "war_room_event"
    __table_args__ = (
        UniqueConstraint("room_id", "seq", name="uq_war_room_event_seq"),
        UniqueConstraint("room_id", "client_id", name="uq_war_room_event_client"),
        Index("ix_war_room_event_room_kind", "room_id", "kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="war_room.id", ondelete="CASCADE")
    seq: int
    kind: str = Field(max_length=24)  # message, task.created, target.stage, member.joined ...
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    client_id: str | None = Field(default=None, max_length=64)
    author_id: int | None = Field(default=None, foreign_key="user.id")  # None: the system (a job)
    created_at: datetime = Field(default_factory=utcnow)
