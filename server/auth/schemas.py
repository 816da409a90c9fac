from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class NamedRef(BaseModel):
    id: int
    name: str


class UserPublic(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    persona: str | None
    branch: NamedRef | None
    team: NamedRef | None
    phone: str | None = None  # masked
    email: str | None = None  # masked


class MeResponse(BaseModel):
    user: UserPublic
    csrf_token: str
    timezone: str = "Asia/Shanghai"  # the user's zone: "today" and every time shown use it
