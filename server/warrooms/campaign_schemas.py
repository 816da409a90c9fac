"""Schemas of a campaign (项目营销 · 批发销售): targets added in bulk from a source, moved and
assigned in bulk; the campaign board, the supply chain view and the outcome (作战复盘)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from server.customers.models import CustomerKind, EnterpriseSize, Tier
from server.schemas import PersonRef, Strict
from server.warrooms.models import MemberRole, RoomKind, RoomStatus, TargetConsent, TargetStage

MAX_FILE_BYTES = 2 * 1024 * 1024  # a list of targets as CSV/XLSX, before base64


class ChainDirection(StrEnum):
    upstream = "upstream"  # suppliers, their suppliers ...
    downstream = "downstream"  # buyers, their buyers ...
    both = "both"


class SearchSource(Strict):
    """Every customer the caller's customer search (客户列表) finds with these filters."""

    type: Literal["search"]
    q: str | None = Field(default=None, max_length=64)
    kind: CustomerKind | None = None
    industry: str | None = Field(default=None, max_length=8)
    size: EnterpriseSize | None = None
    tier: Tier | None = None
    region: str | None = Field(default=None, max_length=6)
    tags: str | None = Field(default=None, max_length=200)


class ChainSource(Strict):
    """A core enterprise's supply chain (上下游) from the relationship graph, up to `hops` links away."""

    type: Literal["chain"]
    core_customer_id: int = Field(ge=1)
    direction: ChainDirection = ChainDirection.both
    hops: int = Field(default=1, ge=1, le=3)


class ParkSource(Strict):
    """The firms of one industrial park or address area: registered address containing `address`."""

    type: Literal["park"]
    address: str = Field(min_length=2, max_length=64)
    region: str | None = Field(default=None, max_length=6, description="GB/T 2260 code or prefix")


class EmployeesSource(Strict):
    """A company's staff for a retail campaign (代发工资, cards): individual customers employed there."""

    type: Literal["employees"]
    company_customer_id: int = Field(ge=1)


class FileSource(Strict):
    """A CSV or XLSX list: columns 客户名称 (name), 统一社会信用代码 (credit_code), 客户编号
    (customer_id), 预计金额 (amount, yuan); one of the first three per row."""

    type: Literal["file"]
    filename: str = Field(min_length=5, max_length=128, pattern=r"(?i)\.(csv|xlsx)$")
    content_base64: str = Field(min_length=4, max_length=(MAX_FILE_BYTES * 4) // 3 + 8)


TargetSource = Annotated[
    SearchSource | ChainSource | ParkSource | EmployeesSource | FileSource, Field(discriminator="type")
]


class BulkTargetsIn(Strict):
    client_key: str = Field(min_length=8, max_length=64, description="one per bulk; a retry replays")
    source: TargetSource
    dry_run: bool = Field(default=False, description="count what would be added; store nothing")


class ChainQuery(Strict):
    direction: ChainDirection | None = None
    hops: int | None = Field(default=None, ge=1, le=3, description="else those of the room's chain bulk")


class MoveIn(Strict):
    client_key: str = Field(min_length=8, max_length=64, description="one per move; a retry replays")
    target_ids: list[int] = Field(min_length=1, max_length=1000)
    stage: TargetStage


class AssignStrategy(StrEnum):
    balanced = "balanced"  # the member with the fewest open targets first
    knows = "knows"  # the customer's RM or the member who visited it, else balanced


class AssignIn(Strict):
    client_key: str = Field(min_length=8, max_length=64, description="one per assignment; a retry replays")
    target_ids: list[int] = Field(default_factory=list, max_length=5000, description="empty: all unassigned")
    strategy: AssignStrategy = AssignStrategy.balanced
    member_ids: list[int] = Field(default_factory=list, max_length=1000, description="empty: every member")


# Responses


class BulkResult(Strict):
    """What a bulk brought (`dry_run`: what it would bring). Source-specific figures come with their
    source: the chain's core, direction and hops; the employees' company and head counts; a file's rows.
    A retry with the same `client_key` answers the first result with `replayed` true."""

    source: str = Field(description="the source, in words (the filter, the core enterprise, the file)")
    found: int
    added: int
    requested: int = Field(description="colleagues' customers, each waiting for its RM's approval")
    prospects: int
    skipped: int = Field(description="already in the room, or twice in the source")
    owners_asked: int
    core_customer_id: int | None = None
    direction: ChainDirection | None = None
    hops: int | None = None
    company: str | None = None
    employees_declared: int | None = None
    not_yet_customers_estimate: int | None = None
    rows: int | None = None
    dry_run: bool | None = Field(default=None, description="only on a dry run (nothing stored)")
    bulk_id: int | None = Field(default=None, description="not on a dry run")
    first_seq: int | None = None
    last_seq: int | None = None
    replayed: bool | None = Field(default=None, description="not on a dry run")


class StageCount(Strict):
    stage: TargetStage
    count: int
    amount_cents: int


class MemberProgress(Strict):
    user: PersonRef
    role: MemberRole
    targets: int
    reached: int
    won: int
    won_amount_cents: int


class CampaignGoal(Strict):
    amount_cents: int | None
    customers: int | None
    won_amount_cents: int
    won_customers: int


class CampaignBoard(Strict):
    """作战看板: targets by stage, each member's load and results, the goal against the won."""

    room_id: int
    kind: RoomKind
    stages: list[StageCount]
    total: int
    pending: int = Field(description="requests waiting for their RM's approval")
    unassigned: int
    members: list[MemberProgress]
    goal: CampaignGoal
    last_seq: int


class MoveResult(Strict):
    moved: int
    unchanged: int
    pending: int = Field(description="requests without consent yet: left where they are")
    missing: int = Field(description="ids not in the room")
    stage: TargetStage
    first_seq: int | None
    last_seq: int | None
    replayed: bool


class AssignResult(Strict):
    assigned: int
    by_knowing: int = Field(description="given to the member who knows the customer")
    load: dict[str, int] = Field(description="open targets per member id after the assignment")
    first_seq: int | None
    last_seq: int | None
    replayed: bool


class ChainFirm(Strict):
    """A firm of the chain: as the board shows it when it is a target (a pending request without its
    name), else named only to a caller who may see the core."""

    target_id: int | None
    name: str | None
    stage: TargetStage | None
    consent: TargetConsent | None
    assignee_id: int | None
    amount_cents: int
    prospect: bool
    owner: str | None = Field(description="its RM's name")


class ChainFirmNode(ChainFirm):
    side: Literal["upstream", "downstream"]
    hop: int
    via: int | Literal["core"] = Field(description="the customer it links to (the core at hop 1)")
    link: str | None = Field(description="the relationship's label, e.g. 原材料供应")


class ChainView(Strict):
    core: ChainFirm
    direction: ChainDirection
    hops: int
    nodes: list[ChainFirmNode]
    hidden: int = Field(description="firms of the chain the caller may not see")


class OutcomeRoom(Strict):
    id: int
    title: str
    kind: RoomKind
    status: RoomStatus
    closed_at: str


class OutcomeGoal(Strict):
    amount_cents: int | None
    customers: int | None


class StageDays(Strict):
    stage: TargetStage
    targets: int
    avg_days: float | None


class Contributor(Strict):
    user: PersonRef
    added: int
    moved: int
    won: int
    won_amount_cents: int


class BenefitShare(Strict):
    user_id: int
    display_name: str
    amount_cents: int


class OutcomeBenefit(Strict):
    """A shared opportunity the campaign won, as booked on the benefit-share ledger at the close."""

    opportunity_id: int
    title: str
    booked_on: str
    originator: BenefitShare | None = None  # absent when the room's split gave it nothing
    closer: BenefitShare | None = None


class OutcomeCaseCard(Strict):
    id: str
    url: str
    steps: int


class CampaignOutcome(Strict):
    """作战复盘 of a won or closed room, from its own timeline (`/outcome.csv`: the same as CSV)."""

    room: OutcomeRoom
    targets: int
    reached: int
    converted: int
    amount_cents: int
    goal: OutcomeGoal
    stage_days: list[StageDays]
    contributors: list[Contributor]
    benefits: list[OutcomeBenefit]
    case_card: OutcomeCaseCard | None  # the won room as the learning module's case card
