"""Product learning (产品学习): one spaced-repetition card per RM and quiz question, every answer, and
whether an RM lets case cards name them where they helped (经验资产)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.timeutil import utcnow


class QuizCard(SQLModel, table=True):
    """The FSRS state of one question for one RM (`fsrs.Card.to_dict()`), with its due time as a
    column so "what is due" is one indexed query."""

    __tablename__ = "quiz_card"
    __table_args__ = (
        UniqueConstraint("user_id", "question_key", name="uq_quiz_card_user_question"),
        Index("ix_quiz_card_user_due", "user_id", "due"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    product_id: int = Field(foreign_key="product.id", index=True)
    question_key: str = Field(max_length=32)  # e.g. "12:sp:0" (product 12, selling point 0)
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    due: datetime
    reps: int = 0
    lapses: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class QuizReview(SQLModel, table=True):
    """One answer: what was asked, whether it was right and the rating the scheduler got."""

    __tablename__ = "quiz_review"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    product_id: int = Field(foreign_key="product.id")
    question_key: str = Field(max_length=32)
    correct: bool
    rating: int  # fsrs.Rating: 1 Again, 3 Good
    reviewed_at: datetime = Field(default_factory=utcnow)


class CaseConsent(SQLModel, table=True):
    """An RM's consent to be named on case cards where they helped; without it a card shows the
    helper's role and persona only."""

    __tablename__ = "case_consent"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    share_name: bool = False
    updated_at: datetime = Field(default_factory=utcnow)
