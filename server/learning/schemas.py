"""Request schemas of the learning API (经验资产, 产品学习)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseQuery(Strict):
    customer_id: int | None = Field(default=None, ge=1)
    prospect_id: int | None = Field(default=None, ge=1)
    limit: int = Field(default=10, ge=1, le=30)


class AnswerIn(Strict):
    question_key: str = Field(min_length=3, max_length=32)
    choice: int = Field(ge=0, le=9)


class ConsentIn(Strict):
    share_name: bool
