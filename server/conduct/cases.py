"""Conduct cases: opening, notes, assignment, escalation and closing with a disposition (every step
audited), and per-rule precision from the dispositions."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from server.audit import service as audit
from server.conduct.access import get_visible_rm, visible_rm_ids
from server.conduct.models import (
    CLOSED_STATUSES,
    CaseStatus,
    ConductCase,
    ConductCaseEvent,
    ConductScore,
)
from server.conduct.rules.registry import RULES_BY_NAME
from server.db import row_id
from server.errors import conflict, forbidden, not_found, stale, unprocessable
from server.org.models import Role, User
from server.timeutil import iso, utcnow


def case_public(
    c: ConductCase, events_: list[ConductCaseEvent] | None = None, names: dict[int, str] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": c.id,
        "rm_id": c.rm_id,
        "rm_name": (names or {}).get(c.rm_id),
        "status": c.status,
        "title": c.title,
        "rules": c.rules,
        "score_at_open": c.score_at_open,
        "opened_by": c.opened_by,
        "assignee_id": c.assignee_id,
        "assignee_name": (names or {}).get(c.assignee_id or 0),
        "opened_at": iso(c.opened_at),
        "closed_at": iso(c.closed_at),
        "version": c.version,
    }
    if events_ is not None:
        out["events"] = [
            {
                "id": e.id,
                "kind": e.kind,
                "actor_id": e.actor_id,
                "actor_name": (names or {}).get(e.actor_id),
                "note": e.note,
                "detail": e.detail,
                "at": iso(e.at),
            }
            for e in events_
        ]
    return out


def _user_names(session: Session, ids: set[int]) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {
        int(i or 0): n
        for i, n in session.exec(select(User.id, User.display_name).where(col(User.id).in_(ids))).all()
    }


def list_cases(session: Session, *, user: User, status: str | None = None) -> list[dict[str, Any]]:
    allowed = visible_rm_ids(session, user=user)
    query = select(ConductCase)
    if allowed is not None:
        query = query.where(col(ConductCase.rm_id).in_(allowed or [-1]))
    if status == "open":
        query = query.where(col(ConductCase.status).not_in(CLOSED_STATUSES))
    elif status == "closed":
        query = query.where(col(ConductCase.status).in_(CLOSED_STATUSES))
    rows = session.exec(query.order_by(col(ConductCase.id).desc()).limit(200)).all()
    names = _user_names(session, {c.rm_id for c in rows} | {c.assignee_id or 0 for c in rows})
    return [case_public(c, names=names) for c in rows]


def _get_case(session: Session, *, user: User, case_id: int) -> ConductCase:
    case = session.get(ConductCase, case_id)
    if case is None:
        raise not_found("case")
    allowed = visible_rm_ids(session, user=user)
    if allowed is not None and case.rm_id not in allowed:
        raise not_found("case")
    return case


def case_detail(session: Session, *, user: User, case_id: int) -> dict[str, Any]:
    case = _get_case(session, user=user, case_id=case_id)
    evs = list(
        session.exec(
            select(ConductCaseEvent)
            .where(ConductCaseEvent.case_id == case_id)
            .order_by(col(ConductCaseEvent.id))
        ).all()
    )
    names = _user_names(session, {case.rm_id, case.assignee_id or 0} | {e.actor_id for e in evs})
    return case_public(case, evs, names)


def _step(
    session: Session,
    *,
    case: ConductCase,
    user: User,
    kind: str,
    note: str | None,
    ip: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        ConductCaseEvent(
            case_id=row_id(case), actor_id=row_id(user), kind=kind, note=note, detail=detail or {}
        )
    )
    audit.record(
        session,
        actor_id=user.id,
        action=f"conduct.case.{kind}",
        object_type="conduct_case",
        object_id=case.id,
        ip=ip,
        detail={"rm_id": case.rm_id, **(detail or {})},
    )


def open_case(
    session: Session,
    *,
    user: User,
    rm_id: int,
    rules: list[str],
    title: str | None,
    note: str | None,
    ip: str | None,
) -> dict[str, Any]:
    get_visible_rm(session, user=user, rm_id=rm_id)
    unknown = [r for r in rules if r not in RULES_BY_NAME]
    if unknown:
        raise unprocessable(
            "Unknown rules.",
            errors=[{"field": "rules", "message": f"unknown: {', '.join(unknown)}", "type": "value"}],
        )
    score = session.exec(
        select(ConductScore).where(ConductScore.rm_id == rm_id).order_by(col(ConductScore.as_of).desc())
    ).first()
    if not rules and score is not None:
        rules = list(score.fired)
    case = ConductCase(
        rm_id=rm_id,
        rules=rules,
        score_at_open=score.score if score else None,
        title=(title or "、".join(RULES_BY_NAME[r].title for r in rules) or "行为监控核查")[:128],
        opened_by=row_id(user),
    )
    session.add(case)
    session.flush()
    _step(session, case=case, user=user, kind="open", note=note, ip=ip, detail={"rules": rules})
    session.commit()
    return case_detail(session, user=user, case_id=row_id(case))


def _check_version(case: ConductCase, version: int | None) -> None:
    if version is not None and version != case.version:
        raise stale("The case changed since you loaded it.", code="stale", current=case.version)


def act_on_case(
    session: Session,
    *,
    user: User,
    case_id: int,
    action: str,
    note: str | None,
    assignee_id: int | None,
    disposition: str | None,
    version: int | None,
    ip: str | None,
) -> dict[str, Any]:
    case = _get_case(session, user=user, case_id=case_id)
    _check_version(case, version)
    closed = case.status in CLOSED_STATUSES
    if action == "note":
        if not note:
            raise unprocessable(
                "A note needs text.", errors=[{"field": "note", "message": "required", "type": "missing"}]
            )
        _step(session, case=case, user=user, kind="note", note=note, ip=ip)
    elif closed:
        raise conflict("The case is closed.", code="case-closed")
    elif action == "assign":
        if user.role != Role.risk_officer:
            raise forbidden("Only a risk officer assigns cases.")
        assignee = session.get(User, assignee_id or 0)
        if (
            assignee is None
            or assignee.role not in (Role.risk_officer, Role.team_lead)
            or not assignee.is_active
        ):
            raise unprocessable(
                "Assign to an active risk officer or team lead.",
                errors=[{"field": "assignee_id", "message": "invalid", "type": "value"}],
            )
        case.assignee_id = assignee.id
        _step(
            session,
            case=case,
            user=user,
            kind="assign",
            note=note,
            ip=ip,
            detail={"assignee_id": assignee.id},
        )
    elif action == "escalate":
        if case.status == CaseStatus.escalated:
            raise conflict("Already escalated.", code="case-escalated")
        case.status = CaseStatus.escalated
        _step(session, case=case, user=user, kind="escalate", note=note, ip=ip)
    elif action == "close":
        if user.role != Role.risk_officer:
            raise forbidden("Only a risk officer closes cases.")
        if disposition not in (CaseStatus.confirmed, CaseStatus.false_alarm):
            raise unprocessable(
                "Choose confirmed or false_alarm.",
                errors=[{"field": "disposition", "message": "confirmed or false_alarm", "type": "value"}],
            )
        case.status = disposition
        case.closed_at = utcnow()
        _step(
            session, case=case, user=user, kind="close", note=note, ip=ip, detail={"disposition": disposition}
        )
    else:
        raise unprocessable(
            "Unknown action.", errors=[{"field": "action", "message": "unknown", "type": "value"}]
        )
    case.version += 1
    session.add(case)
    session.commit()
    return case_detail(session, user=user, case_id=case_id)


def rule_precision(session: Session) -> dict[str, dict[str, Any]]:
    """Per rule: of the closed cases that named it, the share confirmed."""
    out: dict[str, dict[str, Any]] = {}
    for rules, status in session.exec(
        select(ConductCase.rules, ConductCase.status).where(col(ConductCase.status).in_(CLOSED_STATUSES))
    ).all():
        for rule in rules or []:
            entry = out.setdefault(rule, {"confirmed": 0, "false_alarm": 0})
            entry[status] += 1
    for entry in out.values():
        closed = entry["confirmed"] + entry["false_alarm"]
        entry["closed"] = closed
        entry["precision"] = round(entry["confirmed"] / closed, 3) if closed else None
    return out
