"""Response schemas of the sellable products (可售产品) API."""

from __future__ import annotations

from server.schemas import Strict


class ProductFitPublic(Strict):
    """Which customers a product fits (empty lists: any)."""

    kinds: list[str]
    tiers: list[str]
    sizes: list[str]
    industry_prefixes: list[str]


class SellableProduct(Strict):
    id: int
    code: str
    name: str
    category: str
    segment: str
    terms: str
    risk_level: str | None
    selling_points: list[str]
    advantages: list[str]
    target_profile: str | None
    fit: ProductFitPublic | None
    fitting_customers: int


class SellableList(Strict):
    items: list[SellableProduct]


class ProductCasePublic(Strict):
    customer_label: str
    story: str
    result: str


class FittingCustomer(Strict):
    id: int
    name: str
    kind: str
    tier: str
    industry_code: str | None


class SellableDetail(SellableProduct):
    """With the cases (案例) to tell and the RM's customers it fits."""

    cases: list[ProductCasePublic]
    customers: list[FittingCustomer]
