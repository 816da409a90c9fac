from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MirrorQuery(Strict):
    rm_id: int | None = Field(default=None, ge=1, description="a team lead reads an RM of the team")
    month: str | None = Field(default=None, pattern=r"^20\d{2}-(0[1-9]|1[0-2])$")


class EvaluationCreate(Strict):
    rm_id: int = Field(ge=1)
    scores: dict[str, int] = Field(description="professional, responsive, trustworthy, proactive: 1-5")
    comment: str | None = Field(default=None, max_length=500)


class RatingLinkCreate(Strict):
    customer_id: int = Field(ge=1)


class PublicRating(Strict):
    scores: dict[str, int]
    comment: str | None = Field(default=None, max_length=500)
