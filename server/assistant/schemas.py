"""Request and response schemas of the assistant's API."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.customers.models import CustomerKind, EnterpriseSize, Ownership, Tier
from server.customers.schemas import CustomerSummary
from server.knowledge.schemas import VisitQuestion
from server.products.models import ProductCategory
from server.schemas import Strict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AskQuery(_Strict):
    q: str = Field(min_length=1, max_length=100)
    without: str | None = Field(
        default=None, max_length=200, description="comma-separated filter keys to drop"
    )


class BriefQuery(_Strict):
    format: Literal["json", "text"] = "json"


class NextProductsQuery(_Strict):
    limit: int = Field(default=5, ge=1, le=10)


DismissReason = Literal["held_elsewhere", "no_need", "not_suitable", "timing", "other"]


class DismissalCreate(_Strict):
    product_id: int = Field(ge=1)
    reason: DismissReason
    note: str | None = Field(default=None, max_length=200)


# Responses: next best products (下一个产品)


class ProductCaseCard(Strict):
    """An anonymised case of the product, for the talking points."""

    customer_label: str
    story: str
    result: str


class NextProduct(Strict):
    product_id: int
    code: str
    name: str
    category: ProductCategory
    risk_level: str | None
    score: float
    reason: str = Field(description="why, in the bank's words (history or similar customers)")
    selling_points: list[str]
    case: ProductCaseCard | None


class DismissReasonLabel(Strict):
    code: DismissReason
    label: str


class NextProducts(Strict):
    customer_id: int
    segment: str
    items: list[NextProduct]
    dismiss_reasons: list[DismissReasonLabel]


class Dismissal(Strict):
    id: int
    product_id: int
    reason: DismissReason
    until: str = Field(description="the product is not proposed again before this")


# Responses: the pre-visit brief (拜访简报)


class BriefCorporate(Strict):
    short_name: str | None
    employees: int | None
    founded_on: date | None
    main_products: str | None
    revenue_cents: int | None


class BriefContact(Strict):
    name: str
    title: str
    role: str
    influence: int
    preferences: str | None
    phone_masked: str | None


class BriefIndividual(Strict):
    """All null when the customer has no individual profile yet."""

    age: int | None
    occupation: str | None
    income_band: str | None
    risk_appetite: str | None
    interests: list[str] | None
    id_number_masked: str | None


class BriefWho(Strict):
    """The customer as the 360 shows it, trimmed to what a visit needs: a corporate customer has
    `corporate` and `contacts` (the four most influential), an individual `individual`."""

    id: int
    kind: CustomerKind
    name: str
    tier: Tier
    industry_name: str | None
    region_name: str | None
    size: EnterpriseSize | None
    ownership: Ownership | None
    tags: list[str]
    phone_masked: str | None
    corporate: BriefCorporate | None = None
    contacts: list[BriefContact] | None = None
    individual: BriefIndividual | None = None


class BriefChange(Strict):
    kind: Literal["event", "alert", "transaction", "maturity", "opportunity"]
    at: str = Field(description="a date (events, transactions, maturities) or a UTC time")
    title: str
    detail: str | None = Field(default=None, description="alerts: why it matched")


class BriefKnowledge(Strict):
    total: float
    questions: list[VisitQuestion]


class TalkingPoint(Strict):
    product: str
    selling_points: list[str]
    case: ProductCaseCard | None


class WhoKnows(Strict):
    """A colleague who knows the customer (`user_id` null: a referring customer, not a colleague)."""

    user_id: int | None
    display_name: str
    relation: Literal["owner", "previous_owner", "referral", "referrer", "war_room", "originator"]
    detail: str | None


class BriefRisk(Strict):
    kind: Literal["alert", "tag", "loan_maturity", "stale_opportunity"]
    title: str
    detail: str | None = None


class CustomerBrief(Strict):
    """`?format=text` answers the shareable text instead (`text/plain`: no phone, no ID number)."""

    customer_id: int
    generated_at: str
    who: BriefWho
    last_contact_at: str | None
    since: str
    changes: list[BriefChange]
    knowledge: BriefKnowledge
    next_products: list[NextProduct]
    next_products_available: bool = Field(description="false until the recommender is trained")
    talking_points: list[TalkingPoint]
    who_knows: list[WhoKnows]
    risks: list[BriefRisk]


# Responses: ask (问展业)


class AskDateSpan(Strict):
    from_: str = Field(alias="from")
    to: str


class AskFilter(Strict):
    """A filter understood in the question (a chip): `value` is a code or name, a product id, a
    number of days, a flag or a date span, by `key`."""

    key: str
    value: bool | int | str | AskDateSpan
    label: str


class AskCustomers(Strict):
    kind: Literal["customers", "customer"]
    total: int
    items: list[CustomerSummary]


class AskRank(Strict):
    rank: int
    team_size: int


class AskFigure(Strict):
    kind: Literal["figure"]
    metric: str
    label: str
    value: int | float | AskRank | None = Field(
        description="null when the figure is not the user's to see; unit `rank`: place in the team"
    )
    unit: Literal["", "ratio", "rank", "cents", "count", "score"]


class AskOpportunity(Strict):
    id: int
    title: str
    status: str
    estimated_amount_cents: int | None
    created_at: str


class AskOpportunities(Strict):
    kind: Literal["opportunities"]
    total: int
    items: list[AskOpportunity]


class AskAlert(Strict):
    id: int
    title: str
    customer_id: int
    customer_name: str
    reason: str | None
    created_at: str


class AskAlerts(Strict):
    kind: Literal["alerts"]
    total: int
    items: list[AskAlert]


class AskReminder(Strict):
    id: int
    kind: str
    title: str
    due_at: str
    customer_id: int | None


class AskReminders(Strict):
    kind: Literal["reminders"]
    total: int
    items: list[AskReminder]


class AskProduct(Strict):
    id: int
    name: str
    category: ProductCategory
    risk_level: str | None
    selling_points: list[str]


class AskProducts(Strict):
    kind: Literal["products"]
    total: int
    items: list[AskProduct]


AskResult = Annotated[
    AskCustomers | AskFigure | AskOpportunities | AskAlerts | AskReminders | AskProducts,
    Field(discriminator="kind"),
]


class AskAnswer(Strict):
    q: str
    intent: Literal["customers", "customer", "figure", "opportunities", "alerts", "reminders", "products"]
    filters: list[AskFilter]
    name: str | None = Field(description="intent customer: the name asked about")
    metric: str | None = Field(description="intent figure: which figure")
    result: AskResult
    took_ms: float


# Responses: today (今日)


class TodayItem(Strict):
    """One thing to do today; `ref` points at its source (reminder, note, visit, holding, alert or
    opportunity) and depends on `kind`."""

    kind: str
    priority: float
    title: str
    at: str | None
    customer_id: int | None
    ref: dict[str, Any]
    detail: str | None = Field(default=None, description="alerts and stale opportunities: why")
    overdue: bool | None = Field(default=None, description="next steps")
    amount_cents: int | None = Field(default=None, description="maturities")


class RouteStart(Strict):
    name: str
    latitude: float | None
    longitude: float | None


class RouteStop(Strict):
    order: int
    customer_id: int
    name: str
    latitude: float | None
    longitude: float | None
    leg_km: float
    reasons: list[str]


class UnlocatedCustomer(Strict):
    customer_id: int
    name: str


class VisitRoute(Strict):
    start: RouteStart | None
    stops: list[RouteStop]
    total_km: float
    unlocated: list[UnlocatedCustomer]


class TodayPage(Strict):
    date: str
    timezone: str
    generated_at: str | None
    items: list[TodayItem]
    counts: dict[str, int]
    visits: VisitRoute


# Responses: the admins' adoption report of next best products


class DismissalReasonCount(Strict):
    code: str
    label: str
    count: int


class DismissalCounts(Strict):
    total: int
    by_reason: list[DismissalReasonCount]


class ProductAdoption(Strict):
    product_id: int
    name: str
    shown: int
    adopted: int
    dismissed: int


class RecommenderModelInfo(Strict):
    trained_at: str
    customers: int
    holdings: int


class AdoptionReport(Strict):
    shown: int
    adopted: int = Field(description="shown, then opened by the customer on or after that day")
    adoption_rate: float | None
    dismissals: DismissalCounts
    products: list[ProductAdoption]
    model: RecommenderModelInfo | None = Field(description="the model in use; None before the first training")


class RetrainQueued(Strict):
    request_id: str
