from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from server.auth.schemas import NamedRef, UserPublic
from server.org.models import Persona, Role
from server.validators import EMAIL

PHONE = r"^\+?[0-9][0-9 -]{4,18}[0-9]$"


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=3, max_length=64, pattern=r"^[a-zA-Z0-9_.-]+$")
    display_name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8, max_length=256)
    role: Role
    branch_id: int | None = None
    team_id: int | None = None
    persona: Persona | None = None
    hire_date: date | None = None
    grade: str | None = Field(default=None, max_length=16)
    qualifications: list[str] = Field(default_factory=list, max_length=20)
    phone: str | None = Field(default=None, max_length=20, pattern=PHONE)
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str | None = Field(default=None, min_length=1, max_length=64)
    is_active: bool | None = None
    role: Role | None = None
    team_id: int | None = None
    persona: Persona | None = None
    qualifications: list[str] | None = Field(default=None, max_length=20)
    phone: str | None = Field(default=None, max_length=20, pattern=PHONE)
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL)


class UserListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role | None = None
    q: str | None = Field(default=None, max_length=64, description="username or name contains")
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=50, ge=1, le=200)


class RmMonthQuery(BaseModel):
    """Whose month to read (mirror, performance): one's own, or an RM of the team a lead leads."""

    model_config = ConfigDict(extra="forbid")
    rm_id: int | None = Field(default=None, ge=1, description="a team lead reads an RM of the team")
    month: str | None = Field(default=None, pattern=r"^20\d{2}-(0[1-9]|1[0-2])$")


# --- responses -------------------------------------------------------------------------------------


class UserAdminView(UserPublic):
    """What the admin's user screen shows: the public card plus the active flag and qualifications."""

    is_active: bool
    qualifications: list[str]


class UserPage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[UserAdminView]
    total: int
    page: int
    page_size: int


class TeamPublic(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int
    name: str
    branch: NamedRef


class TeamList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[TeamPublic]
