"""Request schemas of the assistant's API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AskQuery(_Strict):
    q: str = Field(min_length=1, max_length=100)
    without: str | None = Field(
        default=None, max_length=200, description="comma-separated filter keys to drop"
    )


class BriefQuery(_Strict):
    format: Literal["json", "text"] = "json"


class NextProductsQuery(_Strict):
    limit: int = Field(default=5, ge=1, le=10)


class DismissalCreate(_Strict):
    product_id: int = Field(ge=1)
    reason: Literal["held_elsewhere", "no_need", "not_suitable", "timing", "other"]
    note: str | None = Field(default=None, max_length=200)
