"""The bank's organisation: branches (支行) under a head branch, teams, users and RM attributes."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from server.timeutil import utcnow


class Role(StrEnum):
    rm = "rm"
    team_lead = "team_lead"
    risk_officer = "risk_officer"
    admin = "admin"


class Persona(StrEnum):
    newcomer = "newcomer"  # 新进: keen, no experience
    general = "general"  # 一般: experienced, short of customers
    excellent = "excellent"  # 优秀: many customers, short of time
    super = "super"  # 超级: too much business
    veteran = "veteran"  # 老油: needs oversight


class Branch(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=64)
    city: str = Field(max_length=32)
    region_code: str = Field(max_length=6, index=True)  # GB/T 2260 administrative code
    parent_id: int | None = Field(default=None, foreign_key="branch.id")  # head branch has none
    latitude: float
    longitude: float


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    lead_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("user.id", use_alter=True, name="fk_team_lead_id_user"), nullable=True
        ),
    )


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=64)
    password_hash: str = Field(max_length=255)
    role: Role = Field(sa_type=String(16), index=True)
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    is_active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # The staff member's own contact details (admin-maintained, never sent unmasked): conduct
    # monitoring matches them against customers' (shared_contact, shared_email, related_transfer).
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254)


class RmProfile(SQLModel, table=True):
    """Attributes only RMs have; persona is derived by the bank's own rules and stored."""

    __tablename__ = "rm_profile"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    persona: Persona = Field(sa_type=String(16), index=True)
    hire_date: date
    grade: str = Field(max_length=16)  # e.g. 初级/中级/高级/资深
    qualifications: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    home_region: str = Field(max_length=6)
