"""The mirror's monthly cycle: evaluations in the app (self, colleagues, team lead), customer ratings
through single-use expiring links, and the self-portrait read from the ledger, visits and ratings.

Inputs are gathered for a whole team and one month with a handful of aggregate queries (never one
query per RM or per customer); the scoring itself is the pure model in server/mirror/model.py."""

from __future__ import annotations

import hashlib
import io
import secrets
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import segno
from sqlalchemy import and_, exists, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from server.audit import service as audit
from server.customers import service as customers
from server.customers.models import Customer, CustomerVisit
from server.db import row_id
from server.errors import Problem, conflict, not_found, unprocessable
from server.mirror import model
from server.mirror.models import MirrorEvaluation, MirrorRatingLink
from server.org.models import Role, User
from server.org.teams import leads_team_of, rm_for_viewer, team_rm_ids
from server.performance.ledger import ledger_sums
from server.performance.models import PerformanceEntry, PerformanceTarget
from server.timeutil import as_utc, current_month, iso, month_bounds, month_start, shift_month, utcnow

CRITERIA = ("professional", "responsive", "trustworthy", "proactive")
CRITERIA_LABELS = {
    "professional": "专业能力",
    "responsive": "响应速度",
    "trustworthy": "诚信可靠",
    "proactive": "主动服务",
}
LINK_TTL_DAYS = 7
HARD_OWNERSHIP = ("government", "central_soe")


def _as_datetime(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# --- inputs -----------------------------------------------------------------------------------------


def _ledger(session: Session, rm_ids: list[int], month: str) -> dict[int, dict[str, int]]:
    return ledger_sums(session, rm_ids, *month_bounds(month))


def _products(session: Session, rm_ids: list[int], start: date, end: date) -> dict[int, set[int]]:
    rows = session.exec(
        select(PerformanceEntry.rm_id, PerformanceEntry.product_id)
        .distinct()
        .where(
            col(PerformanceEntry.rm_id).in_(rm_ids),
            PerformanceEntry.kind == "new_business",
            col(PerformanceEntry.product_id).is_not(None),
            PerformanceEntry.booked_on >= start,
            PerformanceEntry.booked_on < end,
        )
    ).all()
    out: dict[int, set[int]] = defaultdict(set)
    for rm_id, product_id in rows:
        if product_id is not None:  # already excluded by the query; this tells the type checker
            out[rm_id].add(product_id)
    return out


def _revenue(sums: dict[str, int]) -> int:
    """Revenue credited to the RM: own revenue plus benefit shares from shared opportunities."""
    return sums.get("revenue", 0) + sums.get("shared_credit", 0)


def gather_inputs(session: Session, *, rm_ids: list[int], month: str) -> dict[int, model.MirrorInputs]:
    if not rm_ids:
        return {}
    start, end = month_bounds(month)
    ledger = _ledger(session, rm_ids, month)
    previous = [_ledger(session, rm_ids, shift_month(month, -n)) for n in (1, 2, 3)]
    sold_now = _products(session, rm_ids, start, end)
    sold_before = _products(session, rm_ids, month_start(shift_month(month, -3)), start)
    difficult = dict(
        session.exec(
            select(PerformanceEntry.rm_id, func.sum(PerformanceEntry.amount_cents))
            .join(Customer, col(Customer.id) == PerformanceEntry.customer_id)
            .where(
                col(PerformanceEntry.rm_id).in_(rm_ids),
                PerformanceEntry.kind == "new_business",
                PerformanceEntry.booked_on >= start,
                PerformanceEntry.booked_on < end,
                (col(Customer.ownership).in_(HARD_OWNERSHIP)) | (Customer.size == "large"),
            )
            .group_by(col(PerformanceEntry.rm_id))
        ).all()
    )
    targets = {
        t.rm_id: t
        for t in session.exec(
            select(PerformanceTarget).where(
                col(PerformanceTarget.rm_id).in_(rm_ids), PerformanceTarget.month == month
            )
        ).all()
    }
    begin_at, end_at = _as_datetime(start), _as_datetime(end)
    visited = dict(
        session.exec(
            select(CustomerVisit.rm_id, func.count(func.distinct(CustomerVisit.customer_id)))
            .where(
                col(CustomerVisit.rm_id).in_(rm_ids),
                CustomerVisit.occurred_at >= begin_at,
                CustomerVisit.occurred_at < end_at,
            )
            .group_by(col(CustomerVisit.rm_id))
        ).all()
    )
    converted = dict(
        session.exec(
            select(CustomerVisit.rm_id, func.count(func.distinct(CustomerVisit.customer_id)))
            .where(
                col(CustomerVisit.rm_id).in_(rm_ids),
                CustomerVisit.occurred_at >= begin_at,
                CustomerVisit.occurred_at < end_at,
                exists().where(
                    and_(
                        col(PerformanceEntry.customer_id) == CustomerVisit.customer_id,
                        col(PerformanceEntry.kind) == "new_business",
                        col(PerformanceEntry.booked_on) >= start,
                        col(PerformanceEntry.booked_on) < end,
                    )
                ),
            )
            .group_by(col(CustomerVisit.rm_id))
        ).all()
    )
    ratings: dict[int, dict[str, tuple[float, int]]] = defaultdict(dict)
    for rm_id, kind, average, count in session.exec(
        select(
            MirrorEvaluation.rm_id,
            MirrorEvaluation.evaluator_kind,
            func.avg(MirrorEvaluation.average),
            func.count(),
        )
        .where(col(MirrorEvaluation.rm_id).in_(rm_ids), MirrorEvaluation.month == month)
        .group_by(col(MirrorEvaluation.rm_id), col(MirrorEvaluation.evaluator_kind))
    ).all():
        ratings[rm_id][kind] = (float(average), int(count))
    revenues = [_revenue(ledger.get(r, {})) for r in rm_ids]
    median = statistics.median(revenues) if revenues else 0
    out: dict[int, model.MirrorInputs] = {}
    for rm_id in rm_ids:
        mine = ledger.get(rm_id, {})
        target = targets.get(rm_id)
        peers = [ratings[rm_id][k] for k in ("colleague", "team_lead") if k in ratings[rm_id]]
        peer_count = sum(c for _a, c in peers)
        customer = ratings[rm_id].get("customer")
        own = ratings[rm_id].get("self")
        history = [
            _revenue(p[rm_id])
            for p in previous
            if rm_id in p and ("revenue" in p[rm_id] or "shared_credit" in p[rm_id])
        ]
        out[rm_id] = model.MirrorInputs(
            revenue_target_cents=target.revenue_target_cents if target else None,
            revenue_cents=_revenue(mine),
            previous_revenue_cents=history,
            new_customers=mine.get("new_customer:count", 0),
            new_customers_target=target.new_customers_target if target else None,
            new_products=len(sold_now.get(rm_id, set()) - sold_before.get(rm_id, set())),
            new_business_cents=mine.get("new_business", 0),
            difficult_new_business_cents=int(difficult.get(rm_id) or 0),
            team_median_revenue_cents=float(median) if median else None,
            customers_visited=int(visited.get(rm_id, 0)),
            customers_converted=int(converted.get(rm_id, 0)),
            customer_rating=customer[0] if customer else None,
            customer_ratings=customer[1] if customer else 0,
            peer_rating=sum(a * c for a, c in peers) / peer_count if peer_count else None,
            peer_ratings=peer_count,
            self_rating=own[0] if own else None,
        )
    return out


def team_scores(
    session: Session, *, rm_ids: list[int], month: str, weights: dict[str, dict[str, float]]
) -> dict[int, dict[str, Any]]:
    return {
        rm_id: model.score(inputs, weights)
        for rm_id, inputs in gather_inputs(session, rm_ids=rm_ids, month=month).items()
    }


def percentile(value: float, population: list[float]) -> float:
    """Share of the team scoring below (ties count half), 0-100."""
    if not population:
        return 0.0
    below = sum(1 for v in population if v < value)
    ties = sum(1 for v in population if v == value)
    return round(100 * (below + 0.5 * ties) / len(population), 1)


def portrait(
    session: Session, *, viewer: User, rm_id: int | None, month: str | None, months: int = 6
) -> dict[str, Any]:
    rm = rm_for_viewer(session, viewer=viewer, rm_id=rm_id)
    month = month or current_month()
    weights = model.load_weights(session)
    team = team_rm_ids(session, rm=rm)
    rm_key = row_id(rm)
    scores = team_scores(session, rm_ids=team, month=month, weights=weights)
    mine = scores[rm_key]
    trend = []
    for n in range(months - 1, 0, -1):
        past = shift_month(month, -n)
        s = team_scores(session, rm_ids=[rm_key], month=past, weights=weights)[rm_key]
        trend.append(
            {
                "month": past,
                "challenge_power": s["challenge_power"]["score"],
                "combat_power": s["combat_power"]["score"],
            }
        )
    trend.append(
        {
            "month": month,
            "challenge_power": mine["challenge_power"]["score"],
            "combat_power": mine["combat_power"]["score"],
        }
    )
    evaluations = evaluation_summary(session, rm_id=rm_key, month=month)
    others = [e for k, e in evaluations.items() if k != "self" and e["count"]]
    others_avg = (
        sum(e["average"] * e["count"] for e in others) / sum(e["count"] for e in others) if others else None
    )
    return {
        "rm": {"id": rm.id, "display_name": rm.display_name},
        "month": month,
        "challenge_power": mine["challenge_power"],
        "combat_power": mine["combat_power"],
        "radar": mine["radar"],
        "percentile": {
            "challenge_power": percentile(
                mine["challenge_power"]["score"], [s["challenge_power"]["score"] for s in scores.values()]
            ),
            "combat_power": percentile(
                mine["combat_power"]["score"], [s["combat_power"]["score"] for s in scores.values()]
            ),
            "team_size": len(team),
        },
        "trend": trend,
        "evaluations": evaluations,
        "self_vs_others": (
            round(evaluations["self"]["average"] - others_avg, 2)
            if evaluations["self"]["count"] and others_avg is not None
            else None
        ),
        "weights": weights,
    }


# --- in-app evaluations ------------------------------------------------------------------------------


def evaluation_summary(session: Session, *, rm_id: int, month: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {
        k: {"count": 0, "average": None, "criteria": {}}
        for k in ("self", "colleague", "team_lead", "customer")
    }
    rows = session.exec(
        select(MirrorEvaluation).where(MirrorEvaluation.rm_id == rm_id, MirrorEvaluation.month == month)
    ).all()
    for kind in out:
        mine = [r for r in rows if r.evaluator_kind == kind]
        if not mine:
            continue
        out[kind] = {
            "count": len(mine),
            "average": round(sum(r.average for r in mine) / len(mine), 2),
            "criteria": {c: round(sum(r.scores.get(c, 0) for r in mine) / len(mine), 2) for c in CRITERIA},
        }
    return out


def _check_scores(scores: dict[str, int]) -> float:
    if set(scores) != set(CRITERIA) or any(
        not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 5 for v in scores.values()
    ):
        raise unprocessable(
            "Rate each criterion 1 to 5.",
            errors=[{"field": "scores", "message": f"needs {', '.join(CRITERIA)}: 1-5"}],
        )
    return sum(scores.values()) / len(scores)


def submit_evaluation(
    session: Session, *, user: User, rm_id: int, scores: dict[str, int], comment: str | None
) -> MirrorEvaluation:
    """This month's evaluation of an RM by oneself, a teammate or the team lead (once each)."""
    average = _check_scores(scores)
    rm = session.get(User, rm_id)
    if rm is None or rm.role != Role.rm:
        raise not_found("relationship manager")
    if rm.id == user.id:
        kind = "self"
    elif user.role == Role.team_lead and leads_team_of(session, lead=user, rm=rm):
        kind = "team_lead"
    elif user.role == Role.rm and rm.team_id is not None and rm.team_id == user.team_id:
        kind = "colleague"
    else:
        raise not_found("relationship manager")
    evaluation = MirrorEvaluation(
        rm_id=rm_id,
        month=current_month(),
        evaluator_kind=kind,
        evaluator_id=row_id(user),
        scores=scores,
        average=average,
        comment=comment,
    )
    session.add(evaluation)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise conflict("You already evaluated this RM this month.", code="already-evaluated") from None
    return evaluation


def pending_evaluations(session: Session, *, user: User) -> list[dict[str, Any]]:
    """Whom the user has still to evaluate this month: oneself and teammates (or the led team)."""
    month = current_month()
    if user.role == Role.team_lead:
        rm_ids = customers.team_member_ids(session, lead=user)
    elif user.role == Role.rm:
        rm_ids = team_rm_ids(session, rm=user)
    else:
        return []
    done = set(
        session.exec(
            select(MirrorEvaluation.rm_id).where(
                MirrorEvaluation.month == month,
                MirrorEvaluation.evaluator_id == user.id,
                MirrorEvaluation.evaluator_kind != "customer",
            )
        ).all()
    )
    users = (
        session.exec(select(User).where(col(User.id).in_(rm_ids)).order_by(col(User.id))).all()
        if rm_ids
        else []
    )
    return [
        {"rm_id": u.id, "display_name": u.display_name, "is_self": u.id == user.id}
        for u in users
        if u.id not in done
    ]


# --- customer rating links ---------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_rating_link(
    session: Session, *, user: User, customer_id: int, public_url: str, ip: str | None
) -> dict[str, Any]:
    customer = customers.get_customer_for(session, user=user, customer_id=customer_id, write=True)
    token = secrets.token_urlsafe(16)  # 128 random bits; only its hash is stored
    now = utcnow()
    link = MirrorRatingLink(
        token_hash=_digest(token),
        rm_id=row_id(user),
        customer_id=row_id(customer),
        month=current_month(),
        expires_at=now + timedelta(days=LINK_TTL_DAYS),
        created_at=now,
    )
    session.add(link)
    audit.record(
        session,
        actor_id=user.id,
        action="mirror.rating_link",
        object_type="customer",
        object_id=customer.id,
        ip=ip,
    )
    session.commit()
    url = f"{public_url.rstrip('/')}/r/{token}"
    svg = io.BytesIO()
    segno.make(url, error="m").save(svg, kind="svg", scale=4, xmldecl=False)
    return {
        "id": link.id,
        "url": url,
        "token": token,
        "expires_at": iso(link.expires_at),
        "qr_svg": svg.getvalue().decode(),
    }


def _live_link(session: Session, token: str) -> MirrorRatingLink:
    if not token or len(token) > 64:
        raise not_found("rating link")
    link = session.exec(select(MirrorRatingLink).where(MirrorRatingLink.token_hash == _digest(token))).first()
    if link is None:
        raise not_found("rating link")
    if link.used_at is not None or as_utc(link.expires_at) <= utcnow():
        raise Problem(410, "Gone", "This rating link was already used or has expired.", code="link-gone")
    return link


def public_rating_form(session: Session, *, token: str) -> dict[str, Any]:
    """What a customer holding the link may see: the RM's display name and the criteria. Nothing
    else is reachable with the token."""
    link = _live_link(session, token)
    rm = session.get(User, link.rm_id)
    return {
        "rm_display_name": rm.display_name if rm else "",
        "month": link.month,
        "criteria": [{"key": c, "label": CRITERIA_LABELS[c]} for c in CRITERIA],
        "expires_at": iso(link.expires_at),
    }


def submit_public_rating(
    session: Session, *, token: str, scores: dict[str, int], comment: str | None
) -> None:
    average = _check_scores(scores)
    link = _live_link(session, token)
    # One conditional UPDATE consumes the link: of two concurrent submissions exactly one wins.
    claimed = session.exec(
        update(MirrorRatingLink)
        .where(
            col(MirrorRatingLink.id) == link.id,
            col(MirrorRatingLink.used_at).is_(None),
            col(MirrorRatingLink.expires_at) > utcnow(),
        )
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:
        session.rollback()
        raise Problem(410, "Gone", "This rating link was already used or has expired.", code="link-gone")
    session.add(
        MirrorEvaluation(
            rm_id=link.rm_id,
            month=link.month,
            evaluator_kind="customer",
            evaluator_id=row_id(link),
            scores=scores,
            average=average,
            comment=comment,
        )
    )
    session.commit()
