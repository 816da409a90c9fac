"""Response schemas of the performance API (业绩, 可驾驭的客户)."""

from __future__ import annotations

from pydantic import Field

from server.schemas import Strict


class CustomerCounts(Strict):
    new: int
    existing: int


class BusinessVolume(Strict):
    new_cents: int
    existing_cents: int


class MonthRevenue(Strict):
    target_cents: int | None
    achieved_cents: int = Field(description="own revenue plus benefit shares from the pool")
    shared_credit_cents: int
    completion: float | None


class AnnualRevenue(Strict):
    target_cents: int | None
    achieved_cents: int
    progress: float | None
    year_elapsed: float = Field(description="时间进度: the share of the year gone by the user's today")


class RevenueRank(Strict):
    rank: int
    team_size: int


class MonthTrend(Strict):
    month: str
    revenue_cents: int
    new_business_cents: int
    existing_business_cents: int


class PerformancePage(Strict):
    month: str
    customers: CustomerCounts
    business: BusinessVolume
    revenue: MonthRevenue
    annual: AnnualRevenue
    team_rank: RevenueRank
    trend: list[MonthTrend]


class MixShare(Strict):
    value: str | None = Field(description="the segment's value; None: not recorded")
    label: str
    customers: int
    share: float
    team_share: float


class MixDimension(Strict):
    dimension: str = Field(description="gender, size, ownership, industry, region or tier")
    items: list[MixShare]


class FlagShare(Strict):
    share: float
    team_share: float


class BestSegment(Strict):
    kind: str
    industry_section: str | None
    tier: str
    label: str
    customers: int
    converted: int
    conversion: float


class CustomerMix(Strict):
    dimensions: list[MixDimension]
    government_share: FlagShare
    central_soe_share: FlagShare
    best_segments: list[BestSegment]
    team_size: int
