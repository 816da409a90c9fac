"""Prospect reads: who sees which prospect, the list and the map.

Access: an RM sees open prospects nobody holds and the ones they hold; a prospect another RM holds
answers exactly like one that does not exist. A team lead sees the same plus the team's holdings
in coverage."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import and_, literal, or_
from sqlalchemy import select as sa_select  # many columns: sqlmodel.select has overloads for few
from sqlmodel import Session, col, select

from server.customers.models import Customer
from server.customers.service import team_member_ids
from server.db import row_id
from server.errors import forbidden, not_found
from server.org.models import Role, User
from server.prospects.models import Prospect, ProspectScore, ProspectStatus
from server.prospects.versions import current_model
from server.reference import industry_name, region_name
from server.timeutil import as_utc, utcnow

EARTH_KM = 6371.0
MAP_LIMIT = 3000


def _staff(user: User) -> None:
    if user.role not in (Role.rm, Role.team_lead):
        raise forbidden("Prospects are for relationship managers and team leads.")


def visible(user: User, now: datetime):
    """The SQL condition for prospects this user may see."""
    return and_(
        col(Prospect.status) == ProspectStatus.open,
        # PIPL: a person is shown only when the bank marked the source lawful for marketing.
        or_(col(Prospect.kind) == "corporate", col(Prospect.lawful_for_marketing).is_(True)),
        or_(
            col(Prospect.claimed_by).is_(None),
            col(Prospect.claimed_by) == user.id,
            col(Prospect.claimed_until) < now,
        ),
    )


def _box(lat: float, lng: float, km: float) -> tuple[float, float, float, float]:
    dlat = km / 111.0
    dlng = km / (111.0 * max(math.cos(math.radians(lat)), 0.01))
    return lat - dlat, lat + dlat, lng - dlng, lng + dlng


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


SUMMARY_COLUMNS = (
    col(Prospect.id),
    col(Prospect.name),
    col(Prospect.industry_code),
    col(Prospect.size),
    col(Prospect.region_code),
    col(Prospect.latitude),
    col(Prospect.longitude),
    col(Prospect.claimed_by),
    col(Prospect.claimed_until),
)


def prospect_summary(p: Any, score: float | None, user: User, km: float | None = None) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "industry_code": p.industry_code,
        "industry": industry_name(p.industry_code),
        "size": p.size,
        "region_code": p.region_code,
        "region": region_name(p.region_code),
        "lat": p.latitude,
        "lng": p.longitude,
        "score": score,
        "claimed_by_me": p.claimed_by == user.id
        and p.claimed_until is not None
        and as_utc(p.claimed_until) >= utcnow(),
        "distance_km": None if km is None else round(km, 2),
    }


def list_prospects(
    session: Session,
    *,
    user: User,
    industry: str | None = None,
    size: str | None = None,
    min_score: float | None = None,
    near: tuple[float, float, float] | None = None,
    mine: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    _staff(user)
    now = utcnow()
    model = current_model(session, user=user)
    # Columns, not entities: the map asks for thousands of rows at once.
    query: Any = sa_select(*SUMMARY_COLUMNS, col(ProspectScore.score).label("score"))
    if model is not None:
        query = query.join(
            ProspectScore,
            and_(col(ProspectScore.prospect_id) == Prospect.id, col(ProspectScore.model_id) == model.id),
            isouter=True,
        )
    else:
        query = sa_select(*SUMMARY_COLUMNS, literal(None).label("score"))
    query = query.where(visible(user, now))
    if mine:
        query = query.where(col(Prospect.claimed_by) == user.id, col(Prospect.claimed_until) >= now)
    if industry:
        query = query.where(col(Prospect.industry_code).startswith(industry))
    if size:
        query = query.where(col(Prospect.size) == size)
    if min_score is not None and model is not None:
        query = query.where(col(ProspectScore.score) >= min_score)
    if near is not None:
        lat, lng, km = near
        lo_lat, hi_lat, lo_lng, hi_lng = _box(lat, lng, km)
        query = query.where(
            col(Prospect.latitude).between(lo_lat, hi_lat), col(Prospect.longitude).between(lo_lng, hi_lng)
        )
    if model is not None:
        query = query.order_by(col(ProspectScore.score).desc().nulls_last(), col(Prospect.id))
    else:
        query = query.order_by(col(Prospect.id))
    if near is None:
        rows = session.execute(query.offset(offset).limit(limit + 1)).all()
        items = [prospect_summary(r, r.score, user) for r in rows[:limit]]
        return {"items": items, "has_more": len(rows) > limit, "model_id": model.id if model else None}
    lat, lng, km = near
    found = []
    for r in session.execute(query.limit(20_000)).all():  # the box first, then the circle
        if r.latitude is None or r.longitude is None:
            continue
        d = distance_km(lat, lng, r.latitude, r.longitude)
        if d <= km:
            found.append(prospect_summary(r, r.score, user, d))
    return {
        "items": found[offset : offset + limit],
        "has_more": len(found) > offset + limit,
        "model_id": model.id if model else None,
    }


def map_points(session: Session, *, user: User, **filters: Any) -> dict[str, Any]:
    """The RM's own customers and the best-scored visible prospects, compact for the map."""
    _staff(user)
    page = list_prospects(session, user=user, limit=MAP_LIMIT, **filters)
    owners = [row_id(user)] if user.role == Role.rm else team_member_ids(session, lead=user)
    customers = session.exec(
        select(Customer.id, Customer.name, Customer.latitude, Customer.longitude)
        .where(col(Customer.owner_id).in_(owners), col(Customer.latitude).is_not(None))
        .limit(MAP_LIMIT)
    ).all()
    return {
        "customers": [{"id": c[0], "name": c[1], "lat": c[2], "lng": c[3]} for c in customers],
        "prospects": [
            {
                "id": p["id"],
                "name": p["name"],
                "lat": p["lat"],
                "lng": p["lng"],
                "score": p["score"],
                "industry_code": p["industry_code"],
                "size": p["size"],
                "mine": p["claimed_by_me"],
            }
            for p in page["items"]
        ],
        "model_id": page["model_id"],
        "tile_url": current_app.config["SETTINGS"].PROSPECT_TILE_URL or None,
    }


def get_visible(session: Session, *, user: User, prospect_id: int) -> Prospect:
    _staff(user)
    prospect = session.exec(
        select(Prospect).where(col(Prospect.id) == prospect_id, visible(user, utcnow()))
    ).first()
    if prospect is None:
        raise not_found("prospect")
    return prospect
