"""Request and response schemas of the opportunity pool API."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from server.opportunities.models import OpportunitySource, OpportunityStatus, Visibility
from server.reference import INDUSTRIES, REGIONS
from server.schemas import PersonRef, Strict


class OpportunityCreate(Strict):
    """Share from anywhere in one call: a customer page (customer_id), a war room or an alert
    (source + source_ref), or a new prospect (prospect_name + region/industry)."""

    title: str = Field(min_length=1, max_length=128)
    customer_id: int | None = None
    prospect_name: str | None = Field(default=None, min_length=1, max_length=128)
    customer_kind: str = Field(default="corporate", pattern="^(corporate|individual)$")
    region_code: str | None = Field(default=None, max_length=6)
    industry_code: str | None = Field(default=None, max_length=8)
    size: str | None = Field(default=None, pattern="^(large|medium|small|micro)$")
    tier: str | None = Field(default=None, pattern="^(vip|high|mid|mass)$")
    product_id: int | None = None
    estimated_amount_cents: int | None = Field(default=None, ge=0, le=10**15)
    expected_date: date | None = None
    source: OpportunitySource = OpportunitySource.rm_referral
    source_ref: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=500)
    visibility: Visibility = Visibility.branch
    share: bool = True  # False keeps it as a draft

    @field_validator("region_code")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and value not in REGIONS:
            raise ValueError("unknown region code")
        return value

    @field_validator("industry_code")
    @classmethod
    def _industry(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in INDUSTRIES:
            raise ValueError("unknown industry code")
        return value.upper() if value else value

    @model_validator(mode="after")
    def _who(self):
        if (self.customer_id is None) == (self.prospect_name is None):
            raise ValueError("give either customer_id or prospect_name")
        return self


class ShareRequest(Strict):
    visibility: Visibility | None = None


class ActivityCreate(Strict):
    kind: str = Field(pattern="^(call|visit|meeting|proposal|note)$")
    note: str | None = Field(default=None, max_length=500)


class Outcome(StrEnum):
    won = "won"
    lost = "lost"


class CloseRequest(Strict):
    outcome: Outcome
    amount_cents: int | None = Field(default=None, ge=0, le=10**15)
    revenue_cents: int | None = Field(default=None, ge=0, le=10**15)
    reason: str | None = Field(default=None, max_length=255)

    @model_validator(mode="after")
    def _won_needs_numbers(self):
        if self.outcome == Outcome.won and (self.amount_cents is None or self.revenue_cents is None):
            raise ValueError("a won opportunity needs amount_cents and revenue_cents")
        return self


class ReassignRequest(Strict):
    """A team lead hands an opportunity to an RM. The admin's claim rules hold for the new holder:
    the product's qualification always (it is a licence, not a preference); the open-claims cap
    unless the lead states why this RM should carry more (`cap_override_reason`, audited)."""

    rm_id: int
    reason: str = Field(min_length=2, max_length=255)
    cap_override_reason: str | None = Field(default=None, min_length=2, max_length=255)


class TransferRequest(Strict):
    """Move an opportunity to another pool (team, branch or the whole bank)."""

    visibility: Visibility
    branch_id: int | None = None
    team_id: int | None = None
    reason: str = Field(min_length=2, max_length=255)


class BenefitAdjust(Strict):
    originator_share_bp: int = Field(ge=0, le=10000)
    reason: str = Field(min_length=2, max_length=255)


class PolicyUpdate(Strict):
    require_qualification: bool | None = None
    max_open_claims: int | None = Field(default=None, ge=1, le=1000)
    priority_window_minutes: int | None = Field(default=None, ge=0, le=7 * 24 * 60)
    recycle_days: dict[str, int] | None = None
    originator_share_bp: dict[str, int] | None = None

    @field_validator("recycle_days")
    @classmethod
    def _days(cls, value: dict[str, int] | None):
        if value is None:
            return value
        for tier, days in value.items():
            if tier not in ("vip", "high", "mid", "mass"):
                raise ValueError(f"unknown tier {tier}")
            if not 2 <= days <= 365:
                raise ValueError("days must be 2-365")
        return value

    @field_validator("originator_share_bp")
    @classmethod
    def _split(cls, value: dict[str, int] | None):
        if value is None:
            return value
        sources = {s.value for s in OpportunitySource}
        for source, bp in value.items():
            if source not in sources:
                raise ValueError(f"unknown source {source}")
            if not 0 <= bp <= 10000:
                raise ValueError("basis points must be 0-10000")
        return value


class FeedQuery(Strict):
    region: str | None = Field(default=None, max_length=6)
    industry: str | None = Field(default=None, max_length=8)
    product_id: int | None = None
    source: OpportunitySource | None = None
    q: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=50, ge=1, le=200)


class MineQuery(Strict):
    # team: a team lead's view of every opportunity of the team (to reassign, transfer, adjust)
    role: str = Field(default="owner", pattern="^(owner|originator|team)$")
    status: str | None = Field(default=None, max_length=12)
    limit: int = Field(default=100, ge=1, le=500)


class StatementQuery(Strict):
    rm_id: int | None = None
    month: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}$")


class ImportRequest(Strict):
    filename: str = Field(min_length=1, max_length=128, pattern=r"(?i).+\.(csv|xlsx)$")
    content_base64: str = Field(min_length=4, max_length=900_000)
    dry_run: bool = False


# Responses


class OpportunityCustomer(Strict):
    id: int | None
    label: str | None = Field(description="masked for anyone but the owner, as the pool shows it")
    kind: str
    is_prospect: bool


class OpportunityProduct(Strict):
    id: int
    name: str
    required_qualification: str | None


class BenefitSplit(Strict):
    originator_bp: int
    closer_bp: int


class OpportunityCard(Strict):
    id: int
    title: str
    customer: OpportunityCustomer
    region_code: str | None
    region_name: str | None
    industry_code: str | None
    industry_name: str | None
    size: str | None
    tier: str
    product: OpportunityProduct | None
    estimated_amount_cents: int | None
    expected_date: date | None
    source: OpportunitySource
    visibility: Visibility
    quality_score: int
    status: OpportunityStatus
    originator: PersonRef
    owner: PersonRef | None
    shared_at: str | None
    claimed_at: str | None
    last_activity_at: str | None
    priority_until: str | None
    recycle_due_at: str | None
    recycle_warned: bool
    split: BenefitSplit | None
    won_amount_cents: int | None
    revenue_cents: int | None
    version: int


class FeedCard(OpportunityCard):
    """A card of the pool as one RM sees it: how well it fits the RM's book, and why."""

    fit_score: float
    reasons: list[str]
    reason: str | None
    can_claim_now: bool


class FeedPage(Strict):
    items: list[FeedCard]
    last_seq: int
    open_claims: int
    max_open_claims: int
    has_priority: bool


class OpportunityList(Strict):
    items: list[OpportunityCard]


class OpportunityTransition(Strict):
    from_: str | None = Field(alias="from")
    to: str
    actor_id: int | None
    reason: str | None
    at: str | None


class OpportunityActivityPublic(Strict):
    id: int
    kind: str
    note: str | None
    actor_id: int
    at: str | None


class OpportunityDetail(OpportunityCard):
    """The history (transitions, activities) only for its originator, holder, a lead or an admin."""

    note: str | None
    can_manage: bool
    transitions: list[OpportunityTransition] | None = None
    activities: list[OpportunityActivityPublic] | None = None


class StatementItem(Strict):
    id: int
    opportunity_id: int | None
    title: str
    role: str  # originator, closer, adjustment:<id>
    war_room_id: int | None = None  # booked when this war room's campaign won the customer
    amount_cents: int
    booked_on: str | None


class BenefitStatement(Strict):
    rm_id: int
    month: str | None
    total_cents: int
    items: list[StatementItem]


class PolicyPublic(Strict):
    require_qualification: bool
    max_open_claims: int
    priority_window_minutes: int
    recycle_days: dict[str, int]
    originator_share_bp: dict[str, int]
    updated_at: str | None


class Assignee(Strict):
    id: int
    display_name: str
    current: bool
    qualified: bool
    open_claims: int
    max_open_claims: int
    at_cap: bool


class AssigneeList(Strict):
    opportunity_id: int
    required_qualification: str | None
    items: list[Assignee]


class BenefitAdjustmentPublic(Strict):
    id: int
    opportunity_id: int
    from_originator_cents: int
    to_originator_cents: int
    reason: str
    at: str | None


class ImportRowError(Strict):
    row: int
    field: str | None
    code: str
    message: str


class ImportReport(Strict):
    """A file seen before answers `already_imported` with the first import's id; a dry run checks
    every row and creates nothing."""

    already_imported: bool
    rows: int
    valid: int | None = None
    created: int
    errors: list[ImportRowError]
    dry_run: bool | None = None
    import_id: int | None = None
    imported_at: str | None = None
    opportunity_ids: list[int] | None = None
