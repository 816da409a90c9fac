"""Tables of conduct oversight: admin overrides of rule thresholds, runs, per-RM signals and scores,
cases with their audited steps, and departing-RM checks (a row the UI polls while its job runs)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.timeutil import utcnow


class ConductThreshold(SQLModel, table=True):
    """An admin's overrides of one rule's parameters. Defaults live in code (server/conduct/rules/);
    this row holds only what was changed."""

    __tablename__ = "conduct_threshold"

    rule: str = Field(primary_key=True, max_length=32)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    enabled: bool = True
    version: int = 1
    updated_by: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow)


class ConductRun(SQLModel, table=True):
    """One evaluation: the daily batch, a near-real-time refresh of the audit-log rules, or a check."""

    __tablename__ = "conduct_run"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=12)  # daily, realtime, departing
    as_of: date = Field(index=True)
    rm_count: int = 0
    flagged: int = 0
    elapsed_ms: int = 0
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class ConductSignal(SQLModel, table=True):
    """One rule's reading for one RM on one day: the metric, where it sits in the peer group, whether
    it fired, a Chinese explanation and the evidence (links to ledger/audit/visit/... rows)."""

    __tablename__ = "conduct_signal"
    __table_args__ = (
        UniqueConstraint("rm_id", "as_of", "rule", name="uq_conduct_signal_rm_day_rule"),
        Index("ix_conduct_signal_as_of_fired", "as_of", "fired"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="conduct_run.id", index=True)
    rm_id: int = Field(foreign_key="user.id", index=True)
    as_of: date
    rule: str = Field(max_length=32)
    value: float
    peer_median: float
    peer_scale: float
    z: float
    fired: bool = False
    points: float = 0.0  # contribution to the risk score
    explanation: str = Field(default="", max_length=500)
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class ConductScore(SQLModel, table=True):
    """The combined risk score of one RM on one day, with its top reasons."""

    __tablename__ = "conduct_score"
    __table_args__ = (
        UniqueConstraint("rm_id", "as_of", name="uq_conduct_score_rm_day"),
        Index("ix_conduct_score_as_of_score", "as_of", "score"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="conduct_run.id", index=True)
    rm_id: int = Field(foreign_key="user.id", index=True)
    as_of: date
    score: float  # 0..100
    peer_group: str = Field(max_length=48)
    fired: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class CaseStatus:
    open = "open"
    escalated = "escalated"
    confirmed = "confirmed"  # closed: the conduct was real
    false_alarm = "false_alarm"  # closed: nothing wrong


CLOSED_STATUSES = (CaseStatus.confirmed, CaseStatus.false_alarm)


class ConductCase(SQLModel, table=True):
    __tablename__ = "conduct_case"
    __table_args__ = (Index("ix_conduct_case_status", "status", "opened_at"),)

    id: int | None = Field(default=None, primary_key=True)
    rm_id: int = Field(foreign_key="user.id", index=True)
    status: str = Field(default=CaseStatus.open, sa_type=String(12))
    rules: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    score_at_open: float | None = None
    title: str = Field(max_length=128)
    opened_by: int = Field(foreign_key="user.id")
    assignee_id: int | None = Field(default=None, foreign_key="user.id")
    opened_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    version: int = 1


class ConductCaseEvent(SQLModel, table=True):
    __tablename__ = "conduct_case_event"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="conduct_case.id", index=True, ondelete="CASCADE")
    actor_id: int = Field(foreign_key="user.id")
    kind: str = Field(max_length=12)  # open, assign, note, escalate, close
    note: str | None = Field(default=None, max_length=1000)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(default_factory=utcnow)


class DepartingCheck(SQLModel, table=True):
    """One tap's departing-RM check: queued, running, done or failed; the result is read from here."""

    __tablename__ = "conduct_departing_check"

    id: int | None = Field(default=None, primary_key=True)
    rm_id: int = Field(foreign_key="user.id", index=True)
    requested_by: int = Field(foreign_key="user.id")
    status: str = Field(default="queued", max_length=8)
    progress: int = 0
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
