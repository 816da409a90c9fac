"""Reading conduct scores under the access rules, every view audited: the ranked list and one RM's
detail (signals, evidence timeline, history, cases)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from server.audit import service as audit
from server.conduct.access import get_visible_rm, visible_rm_ids
from server.conduct.cases import case_public
from server.conduct.models import (
    CLOSED_STATUSES,
    ConductCase,
    ConductScore,
    ConductSignal,
)
from server.conduct.rules.registry import RULES, RULES_BY_NAME
from server.conduct.runs import bank_today
from server.customers.models import Customer
from server.org.models import User
from server.timeutil import iso


def _latest_day(session: Session) -> date | None:
    return session.exec(select(func.max(ConductScore.as_of))).one()


def ranked(
    session: Session, *, user: User, limit: int = 50, offset: int = 0, ip: str | None = None
) -> dict[str, Any]:
    allowed = visible_rm_ids(session, user=user)
    day = _latest_day(session)
    items: list[dict[str, Any]] = []
    total = 0
    if day is not None and allowed != []:
        query = (
            select(ConductScore, User)
            .join(User, col(User.id) == ConductScore.rm_id)
            .where(ConductScore.as_of == day)
        )
        if allowed is not None:
            query = query.where(col(ConductScore.rm_id).in_(allowed))
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
        rows = session.exec(
            query.order_by(col(ConductScore.score).desc(), col(ConductScore.rm_id))
            .offset(offset)
            .limit(limit)
        ).all()
        rm_ids = [s.rm_id for s, _ in rows]
        history = _history(session, rm_ids=rm_ids, since=day - timedelta(days=30))
        open_cases = (
            dict(
                session.exec(
                    select(ConductCase.rm_id, func.count())
                    .where(
                        col(ConductCase.rm_id).in_(rm_ids), col(ConductCase.status).not_in(CLOSED_STATUSES)
                    )
                    .group_by(col(ConductCase.rm_id))
                ).all()
            )
            if rm_ids
            else {}
        )
        for s, u in rows:
            series = history.get(s.rm_id, [])
            week_ago = next(
                (v for d, v in reversed(series) if d <= day - timedelta(days=7)),
                series[0][1] if series else s.score,
            )
            items.append(
                {
                    "rm_id": s.rm_id,
                    "name": u.display_name,
                    "team_id": u.team_id,
                    "peer_group": s.peer_group,
                    "score": s.score,
                    "trend": round(s.score - week_ago, 1),
                    "history": [{"day": d.isoformat(), "score": v} for d, v in series],
                    "fired": s.fired,
                    "reasons": s.reasons,
                    "open_cases": int(open_cases.get(s.rm_id, 0)),
                }
            )
    audit.record(
        session,
        actor_id=user.id,
        action="conduct.view_list",
        object_type="conduct",
        ip=ip,
        detail={"as_of": iso(day), "count": len(items), "offset": offset},
    )
    session.commit()
    return {"as_of": iso(day), "items": items, "total": total}


def _history(session: Session, *, rm_ids: list[int], since: date) -> dict[int, list[tuple[date, float]]]:
    out: dict[int, list[tuple[date, float]]] = {}
    if not rm_ids:
        return out
    for rm_id, day, score in session.exec(
        select(col(ConductScore.rm_id), col(ConductScore.as_of), col(ConductScore.score))
        .where(col(ConductScore.rm_id).in_(rm_ids), ConductScore.as_of >= since)
        .order_by(col(ConductScore.as_of))
    ).all():
        out.setdefault(rm_id, []).append((day, score))
    return out


def _customer_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {
        int(i or 0): n
        for i, n in session.exec(select(Customer.id, Customer.name).where(col(Customer.id).in_(ids))).all()
    }


def rm_detail(session: Session, *, user: User, rm_id: int, ip: str | None = None) -> dict[str, Any]:
    rm = get_visible_rm(session, user=user, rm_id=rm_id)
    score = session.exec(
        select(ConductScore).where(ConductScore.rm_id == rm_id).order_by(col(ConductScore.as_of).desc())
    ).first()
    signals: list[ConductSignal] = []
    if score is not None:
        signals = list(
            session.exec(
                select(ConductSignal).where(ConductSignal.rm_id == rm_id, ConductSignal.as_of == score.as_of)
            ).all()
        )
    order = {rule.name: i for i, rule in enumerate(RULES)}
    signals.sort(key=lambda s: (not s.fired, -s.points, order.get(s.rule, 99)))
    ids = {int(e["customer_id"]) for s in signals for e in s.evidence if e.get("customer_id")}
    names = _customer_names(session, ids)
    timeline = []
    for s in signals:
        if not (s.fired or s.points > 0):
            continue
        for e in s.evidence:
            timeline.append(
                {
                    **e,
                    "rule": s.rule,
                    "title": RULES_BY_NAME[s.rule].title if s.rule in RULES_BY_NAME else s.rule,
                    "customer_name": names.get(e.get("customer_id") or 0),
                }
            )
    timeline.sort(key=lambda e: e.get("at") or "", reverse=True)
    since = (score.as_of if score else bank_today()) - timedelta(days=90)
    history = _history(session, rm_ids=[rm_id], since=since).get(rm_id, [])
    cases = session.exec(
        select(ConductCase).where(ConductCase.rm_id == rm_id).order_by(col(ConductCase.id).desc())
    ).all()
    audit.record(
        session,
        actor_id=user.id,
        action="conduct.view_rm",
        object_type="user",
        object_id=rm_id,
        ip=ip,
        detail={"as_of": iso(score.as_of) if score else None},
    )
    session.commit()
    return {
        "rm": {"id": rm_id, "name": rm.display_name, "team_id": rm.team_id},
        "as_of": iso(score.as_of) if score else None,
        "score": score.score if score else None,
        "peer_group": score.peer_group if score else None,
        "reasons": score.reasons if score else [],
        "history": [{"day": d.isoformat(), "score": v} for d, v in history],
        "signals": [
            {
                "rule": s.rule,
                "title": RULES_BY_NAME[s.rule].title if s.rule in RULES_BY_NAME else s.rule,
                "fmt": RULES_BY_NAME[s.rule].fmt if s.rule in RULES_BY_NAME else "count",
                "value": s.value if s.value >= 0 else None,
                "peer_median": s.peer_median,
                "z": round(s.z, 2),
                "fired": s.fired,
                "points": round(s.points, 2),
                "explanation": s.explanation,
                "evidence_count": len(s.evidence),
            }
            for s in signals
        ],
        "timeline": timeline[:200],
        "cases": [case_public(c) for c in cases],
    }
