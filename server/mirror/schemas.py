from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvaluationCreate(Strict):
    rm_id: int = Field(ge=1)
    scores: dict[str, int] = Field(description="professional, responsive, trustworthy, proactive: 1-5")
    comment: str | None = Field(default=None, max_length=500)


class RatingLinkCreate(Strict):
    customer_id: int = Field(ge=1)


class PublicRating(Strict):
    scores: dict[str, int]
    comment: str | None = Field(default=None, max_length=500)
