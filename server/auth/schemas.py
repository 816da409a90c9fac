from __future__ import annotations

from pydantic import Field

from server.schemas import Strict


class LoginRequest(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class NamedRef(Strict):
    id: int
    name: str


class UserPublic(Strict):
    id: int
    username: str
    display_name: str
    role: str
    persona: str | None
    branch: NamedRef | None
    team: NamedRef | None
    phone: str | None = None  # masked
    email: str | None = None  # masked


class MeResponse(Strict):
    user: UserPublic
    csrf_token: str
    timezone: str = "Asia/Shanghai"  # the user's zone: "today" and every time shown use it
