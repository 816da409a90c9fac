from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ProspectQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    industry: str | None = Field(default=None, max_length=8, pattern=r"^[A-Z]\d{0,2}$")
    size: Literal["large", "medium", "small", "micro"] | None = None
    min_score: float | None = Field(default=None, ge=0, le=100)
    near: str | None = Field(default=None, max_length=64, description="lat,lng,km")
    mine: bool = False
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=100_000)

    @field_validator("near")
    @classmethod
    def _near(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            lat, lng, km = (float(p) for p in value.split(","))
        except ValueError:
            raise ValueError("near is lat,lng,km") from None
        if not (-90 <= lat <= 90 and -180 <= lng <= 180 and 0 < km <= 200):
            raise ValueError("near is out of range (km up to 200)")
        return value

    def near_tuple(self) -> tuple[float, float, float] | None:
        if not self.near:
            return None
        lat, lng, km = (float(p) for p in self.near.split(","))
        return lat, lng, km

    def filters(self) -> dict:
        return {
            "industry": self.industry,
            "size": self.size,
            "min_score": self.min_score,
            "near": self.near_tuple(),
            "mine": self.mine,
        }


class MapQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    industry: str | None = Field(default=None, max_length=8, pattern=r"^[A-Z]\d{0,2}$")
    size: Literal["large", "medium", "small", "micro"] | None = None
    min_score: float | None = Field(default=None, ge=0, le=100)
    near: str | None = Field(default=None, max_length=64)
    mine: bool = False

    _near = field_validator("near")(ProspectQuery._near.__func__)  # type: ignore[attr-defined]

    def filters(self) -> dict:
        return ProspectQuery(**self.model_dump()).filters()


class Activity(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["visit_planned", "visited", "shared", "war_room", "note"]
    note: str | None = Field(default=None, max_length=500)
    at: datetime | None = None


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seeds_kind: Literal["default", "best_revenue", "customers"] = "default"
    customer_ids: list[int] = Field(default_factory=list, max_length=5000)


class ImportFetch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source_id: int = Field(ge=1)


class ImportUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source_id: int = Field(ge=1)
    filename: str = Field(min_length=1, max_length=128)
    content_base64: str = Field(min_length=4, max_length=1_000_000)


class ImportListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=100_000)


class ImportErrorsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=100_000)
