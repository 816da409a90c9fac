"""Request schemas of the personas API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from server.org.models import Persona


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OverrideCreate(Strict):
    persona: Persona
    reason: str = Field(min_length=1, max_length=200)


class ThresholdsUpdate(Strict):
    value: dict[str, Any]
    version: int = Field(ge=0)


class NoteCreate(Strict):
    body: str = Field(min_length=1, max_length=2000)
