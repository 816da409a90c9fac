"""Personas from data: each RM's monthly classification (with its features and Chinese reasons), a
team lead's override of it, mentor pairings of newcomers and the notes a pair shares."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.timeutil import utcnow


class PersonaClassification(SQLModel, table=True):
    """What the rule model made of one RM in one month: the persona, the rule that decided it, the
    figures it read and the reasons in Chinese (入行 4 个月；本月完成率 62%)."""

    __tablename__ = "persona_classification"
    __table_args__ = (UniqueConstraint("rm_id", "month", name="uq_persona_classification_rm_month"),)

    id: int | None = Field(default=None, primary_key=True)
    rm_id: int = Field(foreign_key="user.id", index=True)
    month: str = Field(max_length=7)  # YYYY-MM the classification is for
    persona: str = Field(sa_type=String(16))
    rule: str = Field(max_length=32)  # which rule decided (e.g. "tenure", "volatility")
    features: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    thresholds_version: int = 0  # the admin's threshold version the run used
    classified_at: datetime = Field(default_factory=utcnow)


class PersonaOverride(SQLModel, table=True):
    """A team lead's override of the classified persona, with the reason; it holds until cleared."""

    __tablename__ = "persona_override"
    __table_args__ = (Index("ix_persona_override_rm_active", "rm_id", "cleared_at"),)

    id: int | None = Field(default=None, primary_key=True)
    rm_id: int = Field(foreign_key="user.id")
    persona: str = Field(sa_type=String(16))
    reason: str = Field(max_length=200)
    by_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    cleared_at: datetime | None = None
    cleared_by: int | None = Field(default=None, foreign_key="user.id")


class Mentorship(SQLModel, table=True):
    """A newcomer (新进) paired with an excellent or super RM of the same team (导师)."""

    __table_args__ = (Index("ix_mentorship_mentor_active", "mentor_id", "ended_on"),)

    id: int | None = Field(default=None, primary_key=True)
    mentee_id: int = Field(foreign_key="user.id", index=True)
    mentor_id: int = Field(foreign_key="user.id")
    team_id: int = Field(foreign_key="team.id")
    started_on: date
    ended_on: date | None = None
    end_reason: str | None = Field(default=None, max_length=32)  # six_months, mentor_changed, team_changed


class MentoringNote(SQLModel, table=True):
    """A note the mentor and mentee share (and their team lead reads)."""

    __tablename__ = "mentoring_note"

    id: int | None = Field(default=None, primary_key=True)
    mentorship_id: int = Field(foreign_key="mentorship.id", index=True)
    author_id: int = Field(foreign_key="user.id")
    body: str = Field(max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)
