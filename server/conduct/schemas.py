"""Request schemas of the conduct API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RankedQuery(Strict):
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0)


class CaseListQuery(Strict):
    status: Literal["open", "closed", "all"] = "all"


class CaseCreate(Strict):
    rm_id: int = Field(ge=1)
    rules: list[str] = Field(default_factory=list, max_length=13)
    title: str | None = Field(default=None, max_length=128)
    note: str | None = Field(default=None, max_length=1000)


class CaseAction(Strict):
    action: Literal["note", "assign", "escalate", "close"]
    note: str | None = Field(default=None, max_length=1000)
    assignee_id: int | None = Field(default=None, ge=1)
    disposition: Literal["confirmed", "false_alarm"] | None = None
    version: int | None = Field(default=None, ge=1)


class RuleUpdate(Strict):
    params: dict[str, Any] = Field(default_factory=dict)
    enabled: bool | None = None
    version: int | None = Field(default=None, ge=0)
