"""The overrides table: one row per scoring model, holding only what an admin changed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from server.timeutil import utcnow


class ModelOverrides(SQLModel, table=True):
    """An admin's overrides of a scoring model's defaults (name: knowledge, mirror). The defaults live
    in code; this row holds only what was changed, so new defaults reach every bank."""

    __tablename__ = "workbench_config"

    name: str = Field(primary_key=True, max_length=32)
    value: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = Field(default=1)
    updated_by: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow)
