"""Request and response schemas of the conduct API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from server.schemas import Strict


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


# --- responses -------------------------------------------------------------------------------------

CaseStatusName = Literal["open", "escalated", "confirmed", "false_alarm"]
RuleParams = dict[str, float | list[float] | list[str]]


class ScorePoint(Strict):
    day: str
    score: float


class ConductReason(Strict):
    """A rule that adds to the score, with where the RM sits against peers and why, in Chinese."""

    rule: str
    title: str
    fired: bool
    z: float
    explanation: str


class RankedRm(Strict):
    rm_id: int
    name: str
    team_id: int | None
    peer_group: str
    score: float
    trend: float = Field(description="the change against a week before")
    history: list[ScorePoint]
    fired: list[str]
    reasons: list[ConductReason]
    open_cases: int


class RankedRms(Strict):
    as_of: str | None = Field(description="the day of the latest scores; None before the first run")
    items: list[RankedRm]
    total: int


class ConductSignalPublic(Strict):
    rule: str
    title: str
    fmt: str = Field(description="how the value reads: share, ratio or count")
    value: float | None = Field(description="None: too little activity to measure")
    peer_median: float
    z: float
    fired: bool
    points: float
    explanation: str
    evidence_count: int


class EvidenceItem(Strict):
    """One record behind a signal (a ledger entry, an audit entry, a customer, a month...)."""

    type: str
    id: int | None
    at: str | None
    label: str
    day: str | None = None
    amount_cents: int | None = None
    customer_id: int | None = None
    rule: str
    title: str
    customer_name: str | None


class CaseEventDetail(Strict):
    rules: list[str] | None = None
    assignee_id: int | None = None
    disposition: str | None = None


class CaseEvent(Strict):
    id: int
    kind: Literal["open", "assign", "note", "escalate", "close"]
    actor_id: int
    actor_name: str | None
    note: str | None
    detail: CaseEventDetail
    at: str


class ConductCaseSummary(Strict):
    id: int
    rm_id: int
    rm_name: str | None
    status: CaseStatusName
    title: str
    rules: list[str]
    score_at_open: float | None
    opened_by: int
    assignee_id: int | None
    assignee_name: str | None
    opened_at: str
    closed_at: str | None
    version: int


class ConductCaseDetail(ConductCaseSummary):
    events: list[CaseEvent]


class ConductCases(Strict):
    items: list[ConductCaseSummary]


class RmRef(Strict):
    id: int
    name: str
    team_id: int | None


class RmConduct(Strict):
    rm: RmRef
    as_of: str | None
    score: float | None
    peer_group: str | None
    reasons: list[ConductReason]
    history: list[ScorePoint]
    signals: list[ConductSignalPublic]
    timeline: list[EvidenceItem]
    cases: list[ConductCaseSummary]


class CustomerAtRisk(Strict):
    customer_id: int
    name: str
    kind: str
    tier: str
    balance_cents: int
    points: float
    reasons: list[str]


class DepartingResult(Strict):
    as_of: str
    window_days: int
    score: float
    signals: list[ConductReason]
    customers: list[CustomerAtRisk]


class NoResultYet(Strict):
    """An empty object: the check has not finished."""


class DepartingCheckPublic(Strict):
    id: int
    rm_id: int
    status: Literal["queued", "running", "done", "failed"]
    progress: int
    result: DepartingResult | NoResultYet
    error: str | None
    created_at: str
    finished_at: str | None


class RulePrecision(Strict):
    confirmed: int
    false_alarm: int
    closed: int
    precision: float | None


class RuleOverview(Strict):
    rule: str
    title: str
    audit_log: bool
    enabled: bool
    version: int
    defaults: RuleParams
    params: RuleParams
    precision: RulePrecision | None


class RuleOverviews(Strict):
    items: list[RuleOverview]


class RuleSaved(Strict):
    rule: str
    version: int
    enabled: bool
    params: RuleParams
