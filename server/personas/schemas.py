"""Request and response schemas of the personas API."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from server.org.models import Persona
from server.schemas import Strict


class OverrideCreate(Strict):
    persona: Persona
    reason: str = Field(min_length=1, max_length=200)


class ThresholdsUpdate(Strict):
    value: dict[str, Any]
    version: int = Field(ge=0)


class NoteCreate(Strict):
    body: str = Field(min_length=1, max_length=2000)


# --- responses -------------------------------------------------------------------------------------


class PersonaFeatures(Strict):
    """The figures the rules read (None where the data is missing)."""

    tenure_months: int
    customers: int
    book_ratio: float | None
    top_share: float | None
    completion: float | None
    last_completion: float | None
    volatility: float | None
    months_measured: int
    conduct_score: float | None


class PersonaClassificationPublic(Strict):
    month: str
    persona: Persona
    label: str
    rule: str
    reasons: list[str]
    explanation: str
    features: PersonaFeatures
    classified_at: str


class PersonaOverridePublic(Strict):
    id: int
    persona: Persona
    reason: str
    by: str | None = Field(description="the team lead's display name")
    created_at: str
    cleared_at: str | None


class ClassifiedChange(Strict):
    model_config = ConfigDict(extra="forbid", serialize_by_alias=True)

    kind: Literal["classified"]
    month: str
    persona: Persona
    from_: Persona | None = Field(alias="from", description="the persona of the month before")
    at: str
    reasons: list[str]


class OverrideChange(Strict):
    kind: Literal["override"]
    month: str
    persona: Persona
    reason: str
    by: str | None
    at: str


class OverrideClearedChange(Strict):
    kind: Literal["override_cleared"]
    month: str
    persona: Persona
    at: str


PersonaChange = Annotated[
    ClassifiedChange | OverrideChange | OverrideClearedChange, Field(discriminator="kind")
]


class MentoringPerson(Strict):
    id: int
    display_name: str
    persona: Persona | None


class MentoringPair(MentoringPerson):
    """The other side of an active pair, with the pair's start and its notes so far."""

    mentorship_id: int
    started_on: str
    notes: int


class Mentoring(Strict):
    mentor: MentoringPair | None
    mentees: list[MentoringPair]


class TeamPersona(Strict):
    rm_id: int
    display_name: str
    persona: Persona | None = Field(
        description="the effective persona: the override, else the classification"
    )
    classification: PersonaClassificationPublic | None
    override: PersonaOverridePublic | None


class RmPersona(TeamPersona):
    history: list[PersonaChange] = Field(description="changes of the classified persona, and overrides")
    mentoring: Mentoring


class TeamPersonas(Strict):
    items: list[TeamPersona]


class CohortMentor(Strict):
    mentorship_id: int
    display_name: str
    active: bool
    checkins: int
    notes: int
    recent_notes: int = Field(description="notes in the last 30 days")
    last_note_at: str | None


class CohortNewcomer(Strict):
    rm_id: int
    display_name: str
    hire_date: str
    cohort: str = Field(description="hire quarter, e.g. 2026Q1")
    months_in_post: int
    months_to_first_sale: int | None
    months_to_target: int | None
    readiness: float | None = Field(description="0-100 from the product quizzes; None before any answer")
    mentor: CohortMentor | None


class EarlierCohort(Strict):
    cohort: str
    rms: int
    median_months_to_first_sale: float | None
    median_months_to_target: float | None
    reached_target: int


class CohortView(Strict):
    as_of: str
    newcomers: list[CohortNewcomer]
    cohorts: list[EarlierCohort]


class ThresholdValues(Strict):
    newcomer_months: float
    veteran_min_years: float
    veteran_volatility: float
    veteran_conduct_score: float
    coasting_completion: float
    super_completion: float
    super_book_ratio: float
    super_top_share: float
    excellent_completion: float
    excellent_book_ratio: float


class PersonaThresholds(Strict):
    version: int
    defaults: ThresholdValues
    overrides: dict[str, float] = Field(description="the admin's thresholds by name (a subset)")
    effective: ThresholdValues


class MentoringNotePublic(Strict):
    id: int
    author_id: int
    author: str
    body: str
    created_at: str


class MentoringNotes(Strict):
    mentorship_id: int
    mentor: MentoringPerson
    mentee: MentoringPerson
    started_on: str
    ended_on: str | None
    can_write: bool
    items: list[MentoringNotePublic]


class MentoringNoteSaved(Strict):
    id: int
    author_id: int
    body: str
    created_at: str
