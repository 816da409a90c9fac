"""Mirror (我要照镜子): the monthly evaluations of an RM and the single-use customer rating links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.timeutil import utcnow


class MirrorEvaluation(SQLModel, table=True):
    """One evaluation of an RM for a month: by the RM (self), a colleague, the team lead or a customer.
    Scores are 1-5 per criterion (professional, responsive, trustworthy, proactive)."""

    __tablename__ = "mirror_evaluation"
    __table_args__ = (
        UniqueConstraint("rm_id", "month", "evaluator_kind", "evaluator_id", name="uq_mirror_eval_once"),
        Index("ix_mirror_evaluation_rm_month", "rm_id", "month"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rm_id: int = Field(foreign_key="user.id")
    month: str = Field(max_length=7)  # YYYY-MM
    evaluator_kind: str = Field(max_length=12)  # self, colleague, team_lead, customer
    evaluator_id: int = Field(default=0)  # the evaluating user, or the rating link id for customers
    scores: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    average: float
    comment: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class MirrorRatingLink(SQLModel, table=True):
    """A short link / QR code a customer opens without signing in. Only a hash of the token is
    stored; the link works once and expires."""

    __tablename__ = "mirror_rating_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    rm_id: int = Field(foreign_key="user.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    month: str = Field(max_length=7)
    expires_at: datetime
    used_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
