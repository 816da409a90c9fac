"""Conversions (an open prospect whose credit code now belongs to a customer) and the team lead's
coverage by region."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from server.customers.models import CorporateProfile
from server.customers.service import team_member_ids
from server.errors import forbidden
from server.org.models import Role, User
from server.prospects.models import Prospect, ProspectActivity, ProspectClaim, ProspectStatus
from server.reference import region_name
from server.timeutil import utcnow

# --- conversions, coverage ----------------------------------------------------------------------


def record_conversions(session: Session, *, now: datetime | None = None) -> int:
    """Open prospects whose credit code now belongs to a customer become `converted` (keeping their
    claims, activities and scores); their open claims end with reason `converted`."""
    now = now or utcnow()
    rows = session.exec(
        select(Prospect.id, CorporateProfile.customer_id)
        .join(CorporateProfile, col(CorporateProfile.credit_code) == Prospect.credit_code)
        .where(col(Prospect.status) == ProspectStatus.open)
    ).all()
    for prospect_id, customer_id in rows:
        session.execute(
            update(Prospect)
            .where(col(Prospect.id) == prospect_id, col(Prospect.status) == ProspectStatus.open)
            .values(
                status=ProspectStatus.converted,
                customer_id=customer_id,
                converted_at=now,
                version=Prospect.version + 1,
            )
        )
        session.execute(
            update(ProspectClaim)
            .where(col(ProspectClaim.prospect_id) == prospect_id, col(ProspectClaim.ended_at).is_(None))
            .values(ended_at=now, end_reason="converted")
        )
    session.commit()
    return len(rows)


def coverage(session: Session, *, user: User) -> dict[str, Any]:
    """By region: prospects the team holds now, has visited, and has converted."""
    if user.role != Role.team_lead:
        raise forbidden("Coverage is for team leads.")
    team = team_member_ids(session, lead=user)
    out: dict[str, dict[str, Any]] = {}

    def bucket(code: str | None) -> dict[str, Any]:
        key = code or "-"
        return out.setdefault(
            key,
            {"region_code": code, "region": region_name(code), "claimed": 0, "visited": 0, "converted": 0},
        )

    if team:
        now = utcnow()
        for code, n in session.exec(
            select(Prospect.region_code, func.count())
            .where(
                col(Prospect.claimed_by).in_(team),
                col(Prospect.claimed_until) >= now,
                col(Prospect.status) == ProspectStatus.open,
            )
            .group_by(Prospect.region_code)
        ).all():
            bucket(code)["claimed"] = n
        for code, n in session.exec(
            select(Prospect.region_code, func.count(func.distinct(ProspectActivity.prospect_id)))
            .join(Prospect, col(Prospect.id) == ProspectActivity.prospect_id)
            .where(col(ProspectActivity.rm_id).in_(team), col(ProspectActivity.kind) == "visited")
            .group_by(Prospect.region_code)
        ).all():
            bucket(code)["visited"] = n
        for code, n in session.exec(
            select(Prospect.region_code, func.count(func.distinct(Prospect.id)))
            .join(ProspectClaim, col(ProspectClaim.prospect_id) == Prospect.id)
            .where(col(ProspectClaim.rm_id).in_(team), col(Prospect.status) == ProspectStatus.converted)
            .group_by(Prospect.region_code)
        ).all():
            bucket(code)["converted"] = n
    items = sorted(out.values(), key=lambda r: -(r["claimed"] + r["visited"] + r["converted"]))
    return {"items": items, "team_size": len(team)}
