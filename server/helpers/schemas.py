"""Request and response schemas of the helper-task API (助手)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from server.helpers.models import HelperTaskKind, HelperTaskStatus
from server.org.models import Persona
from server.schemas import PersonRef, Strict

MAX_CREDIT_CENTS = 10_000_000  # 10 万元: a task's credit is a token of the work, not a deal's share


class TaskCreate(Strict):
    helper_id: int = Field(ge=1)
    customer_id: int = Field(ge=1)
    kind: HelperTaskKind
    title: str = Field(min_length=1, max_length=128)
    note: str | None = Field(default=None, max_length=500)
    due_on: date
    credit_cents: int = Field(default=0, ge=0, le=MAX_CREDIT_CENTS)


class TaskUpdate(Strict):
    version: int | None = Field(default=None, ge=1)
    progress: int | None = Field(default=None, ge=0, le=100)
    progress_note: str | None = Field(default=None, max_length=255)
    status: HelperTaskStatus | None = None


# --- responses -------------------------------------------------------------------------------------


class HelperCandidate(Strict):
    id: int
    display_name: str
    persona: Persona
    hire_date: str
    current: bool = Field(description="helping on a live task now")


class HelperCandidates(Strict):
    items: list[HelperCandidate]


class HelperTaskPublic(Strict):
    id: int
    owner: PersonRef
    helper: PersonRef
    customer_id: int | None = Field(description="the helper sees the customer only while the task is live")
    customer_name: str | None
    kind: HelperTaskKind
    title: str
    note: str | None
    due_on: str
    status: HelperTaskStatus
    progress: int
    progress_note: str | None
    credit_cents: int
    version: int
    created_at: str
    updated_at: str
    ended_at: str | None


class HelperTasks(Strict):
    is_super: bool
    mine: list[HelperTaskPublic] = Field(description="tasks the signed-in super RM handed out")
    for_me: list[HelperTaskPublic] = Field(description="tasks the signed-in user helps with")
