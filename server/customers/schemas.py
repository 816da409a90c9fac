"""Request and response schemas of the customer API (validated by pydantic, documented in OpenAPI)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from server.customers.models import CustomerKind, EnterpriseSize, Ownership, Tier
from server.reference import INDUSTRIES, REGIONS
from server.schemas import PersonRef, Strict
from server.validators import EMAIL, is_valid_credit_code, is_valid_id_number, is_valid_mobile


class CustomerSort(StrEnum):
    name = "name"
    name_desc = "-name"
    updated_at = "updated_at"
    updated_at_desc = "-updated_at"
    tier = "tier"


class CustomerListQuery(Strict):
    q: str | None = Field(default=None, max_length=64)
    kind: CustomerKind | None = None
    industry: str | None = Field(
        default=None, max_length=8, description="GB/T 4754 code or prefix, e.g. C or C36"
    )
    size: EnterpriseSize | None = None
    tier: Tier | None = None
    region: str | None = Field(default=None, max_length=6, description="GB/T 2260 code or prefix")
    tags: str | None = Field(
        default=None, max_length=200, description="comma-separated tag names, all must match"
    )
    owner_id: int | None = Field(
        default=None, ge=1, description="a team lead narrows to one RM of the team (others: no rows)"
    )
    sort: CustomerSort = CustomerSort.name
    page: int = Field(default=1, ge=1, le=100000)
    page_size: int = Field(default=20, ge=1, le=100)


class CustomerSummary(Strict):
    id: int
    kind: CustomerKind
    name: str
    industry_code: str | None
    industry_name: str | None
    size: EnterpriseSize | None
    ownership: Ownership | None
    region_code: str | None
    region_name: str | None
    tier: Tier
    gender: str | None
    phone_masked: str | None
    tags: list[str]
    owner: PersonRef
    updated_at: str
    version: int


class CustomerPage(Strict):
    items: list[CustomerSummary]
    total: int
    page: int
    page_size: int


class CorporateIn(Strict):
    credit_code: str = Field(min_length=18, max_length=18)
    short_name: str | None = Field(default=None, max_length=32)
    registered_capital_cents: int | None = Field(default=None, ge=0)
    revenue_cents: int | None = Field(default=None, ge=0)
    employees: int | None = Field(default=None, ge=0)
    founded_on: date | None = None
    business_scope: str | None = Field(default=None, max_length=500)
    main_products: str | None = Field(default=None, max_length=255)
    address: str | None = Field(default=None, max_length=255)

    @field_validator("credit_code")
    @classmethod
    def _credit_code(cls, value: str) -> str:
        value = value.upper()
        if not is_valid_credit_code(value):
            raise ValueError("not a valid unified social credit code (check digit)")
        return value


class IndividualIn(Strict):
    id_number: str = Field(min_length=18, max_length=18)
    occupation: str | None = Field(default=None, max_length=64)
    employer: str | None = Field(default=None, max_length=128)
    income_band: str | None = Field(default=None, max_length=16)
    risk_appetite: str | None = Field(default=None, pattern=r"^C[1-5]$")
    interests: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, value: str) -> str:
        value = value.upper()
        if not is_valid_id_number(value):
            raise ValueError("not a valid resident ID number (check digit or birth date)")
        return value


class _CustomerFields(Strict):
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL)
    region_code: str | None = Field(default=None, max_length=6)
    industry_code: str | None = Field(default=None, max_length=8)
    size: EnterpriseSize | None = None
    ownership: Ownership | None = None
    tier: Tier | None = None
    gender: str | None = Field(default=None, pattern=r"^[MF]$")
    tags: list[str] | None = Field(default=None, max_length=30)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_mobile(value):
            raise ValueError("not a valid mainland mobile number")
        return value

    @field_validator("region_code")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and value not in REGIONS:
            raise ValueError("unknown region code")
        return value

    @field_validator("industry_code")
    @classmethod
    def _industry(cls, value: str | None) -> str | None:
        if value is not None and value not in INDUSTRIES:
            raise ValueError("unknown GB/T 4754 industry code")
        return value


class CustomerCreate(_CustomerFields):
    kind: CustomerKind
    name: str = Field(min_length=2, max_length=128)
    corporate: CorporateIn | None = None
    individual: IndividualIn | None = None

    @model_validator(mode="after")
    def _profile_matches_kind(self) -> CustomerCreate:
        if self.kind == CustomerKind.corporate and (self.corporate is None or self.individual is not None):
            raise ValueError("a corporate customer needs `corporate` (and no `individual`)")
        if self.kind == CustomerKind.individual and (self.individual is None or self.corporate is not None):
            raise ValueError("an individual customer needs `individual` (and no `corporate`)")
        return self


class CorporateUpdate(Strict):
    short_name: str | None = Field(default=None, max_length=32)
    registered_capital_cents: int | None = Field(default=None, ge=0)
    revenue_cents: int | None = Field(default=None, ge=0)
    employees: int | None = Field(default=None, ge=0)
    founded_on: date | None = None
    business_scope: str | None = Field(default=None, max_length=500)
    main_products: str | None = Field(default=None, max_length=255)
    address: str | None = Field(default=None, max_length=255)


class IndividualUpdate(Strict):
    occupation: str | None = Field(default=None, max_length=64)
    employer: str | None = Field(default=None, max_length=128)
    income_band: str | None = Field(default=None, max_length=16)
    risk_appetite: str | None = Field(default=None, pattern=r"^C[1-5]$")
    interests: list[str] | None = Field(default=None, max_length=20)


class CustomerUpdate(_CustomerFields):
    name: str | None = Field(default=None, min_length=2, max_length=128)
    version: int | None = Field(default=None, ge=1, description="or send If-Match")
    corporate: CorporateUpdate | None = None
    individual: IndividualUpdate | None = None


class RevealRequest(Strict):
    field: str = Field(pattern=r"^(phone|id_number)$")
    reason: str = Field(min_length=2, max_length=200)


# Responses


class CodeName(Strict):
    code: str
    name: str


class CustomerReference(Strict):
    industries: list[CodeName]
    regions: list[CodeName]


class CorporatePublic(Strict):
    credit_code: str
    short_name: str | None
    registered_capital_cents: int | None
    revenue_cents: int | None
    employees: int | None
    founded_on: date | None
    business_scope: str | None
    main_products: str | None
    address: str | None


class IndividualPublic(Strict):
    id_number_masked: str | None
    birthday: str | None = Field(description="MM-DD: the day, never the year")
    age: int | None
    occupation: str | None
    employer: str | None
    income_band: str | None
    risk_appetite: str | None
    interests: list[str]


class ContactPublic(Strict):
    id: int
    name: str
    title: str
    role: str
    influence: int
    preferences: str | None
    phone_masked: str | None


class CustomerEventPublic(Strict):
    id: int
    occurred_on: date
    kind: str
    title: str
    detail: str | None


class CustomerLinkPublic(Strict):
    kind: str
    label: str | None
    to_customer_id: int | None
    to_name: str | None


class OwnershipPeriod(Strict):
    rm_id: int
    started_at: str | None
    ended_at: str | None
    reason: str


class CustomerDetail(CustomerSummary):
    """Customer 360: a corporate customer has `corporate` and `contacts`, an individual
    `individual`."""

    corporate: CorporatePublic | None = None
    contacts: list[ContactPublic] | None = None
    individual: IndividualPublic | None = None
    events: list[CustomerEventPublic]
    links: list[CustomerLinkPublic]
    ownership_history: list[OwnershipPeriod]


class RevealResult(Strict):
    field: str
    value: str | None
