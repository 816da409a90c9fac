"""Every table, imported in one place so SQLModel.metadata (and Alembic) sees the whole schema."""

from server.audit.models import AuditEntry
from server.auth.models import IdempotencyRecord, UserSession
from server.customers.models import (
    Contact,
    CorporateProfile,
    Customer,
    CustomerEvent,
    CustomerGrant,
    CustomerLink,
    CustomerTag,
    IndividualProfile,
    OwnershipChange,
    Tag,
)
from server.org.models import Branch, RmProfile, Team, User
from server.performance.models import PerformanceEntry, PerformanceTarget
from server.products.models import Holding, Product

__all__ = [
    "AuditEntry",
    "Branch",
    "Contact",
    "CorporateProfile",
    "Customer",
    "CustomerEvent",
    "CustomerGrant",
    "CustomerLink",
    "CustomerTag",
    "Holding",
    "IdempotencyRecord",
    "IndividualProfile",
    "OwnershipChange",
    "PerformanceEntry",
    "PerformanceTarget",
    "Product",
    "RmProfile",
    "Tag",
    "Team",
    "User",
    "UserSession",
]
