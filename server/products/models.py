"""The bank's products (可售产品) and what customers hold (holdings/business)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Column, String
from sqlmodel import Field, SQLModel


class ProductCategory(StrEnum):
    deposit = "deposit"
    loan = "loan"
    wealth = "wealth"
    fund = "fund"
    insurance = "insurance"
    payroll = "payroll"
    cash_management = "cash_management"
    trade_finance = "trade_finance"
    credit_card = "credit_card"
    fx = "fx"


class Product(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=64)
    category: ProductCategory = Field(sa_type=String(16), index=True)
    segment: str = Field(max_length=16)  # corporate, individual, both
    terms: str = Field(max_length=255)  # 期限/利率/起点金额 in the bank's words
    required_qualification: str | None = Field(default=None, max_length=32)  # e.g. fund_sales
    risk_level: str | None = Field(default=None, max_length=4)  # R1..R5 for wealth products
    selling_points: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    advantages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    target_profile: str | None = Field(default=None, max_length=255)


class Holding(SQLModel, table=True):
    """A customer's business with one product: balance (deposits/AUM), loan balance, fee income."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    product_id: int = Field(foreign_key="product.id", index=True)
    balance_cents: int = Field(default=0, sa_type=BigInteger)
    loan_balance_cents: int = Field(default=0, sa_type=BigInteger)
    fee_income_cents: int = Field(default=0, sa_type=BigInteger)
    opened_on: date
    matures_on: date | None = Field(default=None, index=True)
    status: str = Field(default="active", max_length=12)  # active, matured, closed


class ProductBranch(SQLModel, table=True):
    """Where a product may be sold. A product without rows here is sold at every branch."""

    __tablename__ = "product_branch"

    product_id: int = Field(foreign_key="product.id", primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", primary_key=True)


class ProductFit(SQLModel, table=True):
    """The target customer profile in a form the fit query can use. Empty lists mean any."""

    __tablename__ = "product_fit"

    product_id: int = Field(foreign_key="product.id", primary_key=True)
    kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    tiers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sizes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    industry_prefixes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class ProductCase(SQLModel, table=True):
    """A success case (成功案例), anonymised: no customer name or id, only a description."""

    __tablename__ = "product_case"

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    customer_label: str = Field(max_length=64)  # e.g. 某汽车零部件制造企业(中型)
    story: str = Field(max_length=500)
    result: str = Field(max_length=128)
