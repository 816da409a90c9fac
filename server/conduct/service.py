"""Conduct oversight services: the daily run and the near-real-time refresh (stored signals and
scores, alerts), reading scores under the access rules (every view audited), cases, the
departing-RM check, per-rule precision from dispositions, and the admin's threshold overrides."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import delete, insert
from sqlmodel import Session, col, func, select

from server import events
from server.audit import service as audit
from server.conduct.data import BankData, load
from server.conduct.engine import Evaluation, evaluate, reasons
from server.conduct.models import (
    CLOSED_STATUSES,
    CaseStatus,
    ConductCase,
    ConductCaseEvent,
    ConductRun,
    ConductScore,
    ConductSignal,
    ConductThreshold,
    DepartingCheck,
)
from server.conduct.rules import AUDIT_LOG_RULES, RULES, RULES_BY_NAME, SCORE_DEFAULTS
from server.customers.models import Customer
from server.db import row_id, table_of
from server.errors import Problem, forbidden, not_found
from server.inbox import service as inbox
from server.org.models import Role, Team, User
from server.products.models import Holding
from server.timeutil import iso, utcnow

LOCAL = timedelta(hours=8)
DEPARTING_WINDOW_DAYS = 90


def bank_today(now: datetime | None = None) -> date:
    return ((now or utcnow()) + LOCAL).date()


# -- settings ---------------------------------------------------------------------------------------


def load_settings(session: Session) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for row in session.exec(select(ConductThreshold)).all():
        out[row.rule] = {**row.params, **({} if row.enabled else {"enabled": False})}
    return out


def _effective(settings: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    if name == "_score":
        return {**SCORE_DEFAULTS, **settings.get("_score", {})}
    return {
        **RULES_BY_NAME[name].defaults,
        **{k: v for k, v in settings.get(name, {}).items() if k != "enabled"},
    }


def _window(settings: dict[str, dict[str, Any]]) -> int:
    return max(int(_effective(settings, r.name).get("window_days", 0)) for r in RULES) or 180


def _networks(settings: dict[str, dict[str, Any]]) -> list[str]:
    return list(_effective(settings, "reveal_burst")["internal_networks"])


def rules_overview(session: Session) -> list[dict[str, Any]]:
    settings = load_settings(session)
    rows = {row.rule: row for row in session.exec(select(ConductThreshold)).all()}
    precision = rule_precision(session)
    out = []
    for rule in RULES:
        row = rows.get(rule.name)
        out.append(
            {
                "rule": rule.name,
                "title": rule.title,
                "audit_log": rule.audit_log,
                "enabled": row.enabled if row else True,
                "version": row.version if row else 0,
                "defaults": rule.defaults,
                "params": _effective(settings, rule.name),
                "precision": precision.get(rule.name),
            }
        )
    return out


def update_rule(
    session: Session,
    *,
    user: User,
    rule: str,
    params: dict[str, Any],
    enabled: bool | None,
    version: int | None,
    ip: str | None,
) -> dict[str, Any]:
    if rule != "_score" and rule not in RULES_BY_NAME:
        raise not_found("rule")
    defaults = SCORE_DEFAULTS if rule == "_score" else RULES_BY_NAME[rule].defaults
    errors = []
    for key, value in params.items():
        if key not in defaults:
            errors.append({"field": f"params.{key}", "message": "unknown parameter", "type": "unknown"})
        elif (
            isinstance(defaults[key], list) != isinstance(value, list)
            or (not isinstance(value, list) and not isinstance(value, int | float))
            or isinstance(value, bool)
            or (isinstance(value, int | float) and value < 0)
        ):
            errors.append(
                {
                    "field": f"params.{key}",
                    "message": "must be a non-negative number (or a list like the default)",
                    "type": "value",
                }
            )
    if errors:
        raise Problem(
            422, "Unprocessable Content", "Some parameters are invalid.", code="validation", errors=errors
        )
    row = session.get(ConductThreshold, rule)
    if row is not None and version is not None and version != row.version:
        raise Problem(
            412,
            "Precondition Failed",
            "The rule changed since you loaded it.",
            code="stale",
            current=row.version,
        )
    if row is None:
        row = ConductThreshold(rule=rule, params={}, updated_by=user.id)
    else:
        row.version += 1
    row.params = {**row.params, **params}
    if enabled is not None:
        row.enabled = enabled
    row.updated_by = user.id
    row.updated_at = utcnow()
    session.add(row)
    audit.record(
        session,
        actor_id=user.id,
        action="conduct.rule.update",
        object_type="conduct_rule",
        object_id=rule,
        ip=ip,
        detail={"params": params, "enabled": enabled},
    )
    session.commit()
    return {"rule": rule, "version": row.version, "enabled": row.enabled, "params": row.params}


# -- runs -------------------------------------------------------------------------------------------


def _evidence_for(ev: Evaluation, res, r: int) -> list[dict[str, Any]]:
    return res.rule.evidence(ev.data, res.params, r)


def _signal_rows(ev: Evaluation, run_id: int, as_of: date, positions: np.ndarray) -> list[dict[str, Any]]:
    rows = []
    for res in ev.results:
        medians, scales, zs = np.nan_to_num(res.median), np.nan_to_num(res.scale), np.nan_to_num(res.z)
        for r in positions:
            r = int(r)
            value = res.reading.value[r]
            interesting = bool(res.fired[r] or res.points[r] > 0)
            rows.append(
                {
                    "run_id": run_id,
                    "rm_id": int(ev.data.rm_ids[r]),
                    "as_of": as_of,
                    "rule": res.rule.name,
                    "value": float(value) if np.isfinite(value) else -1.0,
                    "peer_median": float(medians[r]),
                    "peer_scale": float(scales[r]),
                    "z": float(zs[r]),
                    "fired": bool(res.fired[r]),
                    "points": float(res.points[r]),
                    "explanation": res.rule.explain(res.reading, r, float(medians[r]), res.params)[:500]
                    if np.isfinite(value)
                    else "活动量不足，未评估。",
                    "evidence": _evidence_for(ev, res, r) if interesting else [],
                }
            )
    return rows


def _score_rows(ev: Evaluation, run_id: int, as_of: date, positions: np.ndarray) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {
            "run_id": run_id,
            "rm_id": int(ev.data.rm_ids[r]),
            "as_of": as_of,
            "score": round(float(ev.score[r]), 1),
            "peer_group": str(ev.groups[r]),
            "fired": [res.rule.name for res in ev.results if res.fired[r]],
            "reasons": reasons(ev, int(r)),
            "updated_at": now,
        }
        for r in positions
    ]


def run_daily(session: Session, *, as_of: date | None = None) -> ConductRun:
    """Every rule over every RM, stored for the day (a re-run replaces the day), then alerts."""
    started = time.perf_counter()
    as_of = as_of or bank_today()
    settings = load_settings(session)
    run = ConductRun(kind="daily", as_of=as_of)
    session.add(run)
    session.flush()
    data = load(session, as_of=as_of, window_days=_window(settings), internal_networks=_networks(settings))
    ev = evaluate(data, settings)
    everyone = np.arange(data.n)
    session.execute(delete(table_of(ConductSignal)).where(table_of(ConductSignal).c.as_of == as_of))
    session.execute(delete(table_of(ConductScore)).where(table_of(ConductScore).c.as_of == as_of))
    signal_rows = _signal_rows(ev, row_id(run), as_of, everyone)
    if signal_rows:
        session.execute(insert(table_of(ConductSignal)), signal_rows)
        session.execute(insert(table_of(ConductScore)), _score_rows(ev, row_id(run), as_of, everyone))
    run.rm_count = data.n
    run.flagged = int(sum(1 for r in everyone if any(res.fired[r] for res in ev.results)))
    _alert(session, ev, as_of, everyone, settings)
    run.finished_at = utcnow()
    run.elapsed_ms = int((time.perf_counter() - started) * 1000)
    session.add(run)
    session.commit()
    return run


def refresh_audit_rules(session: Session, *, rm_id: int, as_of: date | None = None) -> ConductScore | None:
    """Near-real-time: re-evaluate the audit-log rules (reveals, list browsing) for the bank, and
    store one RM's signals and score for today; the other rules keep their latest daily readings."""
    as_of = as_of or bank_today()
    settings = load_settings(session)
    data = load(
        session,
        as_of=as_of,
        window_days=_window(settings),
        internal_networks=_networks(settings),
        audit_only=True,
    )
    r = data.index_of(rm_id)
    if r is None:
        return None
    ev = evaluate(data, settings, only=AUDIT_LOG_RULES)
    run = ConductRun(kind="realtime", as_of=as_of, rm_count=1)
    session.add(run)
    session.flush()
    fresh = _signal_rows(ev, row_id(run), as_of, np.array([r]))
    fresh_names = {row["rule"] for row in fresh}
    latest = session.exec(
        select(ConductSignal)
        .where(ConductSignal.rm_id == rm_id, col(ConductSignal.as_of) <= as_of)
        .order_by(col(ConductSignal.as_of).desc())
    ).all()
    kept: dict[str, dict[str, Any]] = {}
    for sig in latest:
        if sig.rule not in fresh_names and sig.rule not in kept:
            kept[sig.rule] = {
                k: getattr(sig, k)
                for k in (
                    "rule",
                    "value",
                    "peer_median",
                    "peer_scale",
                    "z",
                    "fired",
                    "points",
                    "explanation",
                    "evidence",
                )
            } | {"run_id": row_id(run), "rm_id": rm_id, "as_of": as_of}
    rows = fresh + list(kept.values())
    sig_t = table_of(ConductSignal)
    session.execute(delete(sig_t).where(sig_t.c.as_of == as_of, sig_t.c.rm_id == rm_id))
    session.execute(insert(sig_t), rows)
    score_params = _effective(settings, "_score")
    total = sum(row["points"] for row in rows)
    score = round(100 * (1 - float(np.exp(-total / float(score_params["scale"])))), 1)
    ranked = sorted(
        (row for row in rows if row["points"] > 0), key=lambda row: (not row["fired"], -row["points"])
    )[:3]
    existing = session.exec(
        select(ConductScore).where(ConductScore.rm_id == rm_id, ConductScore.as_of == as_of)
    ).first()
    previous = session.exec(
        select(ConductScore).where(ConductScore.rm_id == rm_id).order_by(col(ConductScore.as_of).desc())
    ).first()
    row = existing or ConductScore(
        run_id=row_id(run),
        rm_id=rm_id,
        as_of=as_of,
        score=0,
        peer_group=previous.peer_group if previous else str(ev.groups[r]),
    )
    row.run_id = row_id(run)
    row.score = score
    row.fired = [x["rule"] for x in rows if x["fired"]]
    row.reasons = [
        {
            "rule": x["rule"],
            "title": RULES_BY_NAME[x["rule"]].title,
            "fired": x["fired"],
            "z": round(x["z"], 2),
            "explanation": x["explanation"],
        }
        for x in ranked
    ]
    row.updated_at = utcnow()
    session.add(row)
    run.flagged = 1 if row.fired else 0
    run.finished_at = utcnow()
    if score >= float(score_params["alert_at"]):
        _notify_risk(session, rm_id=rm_id, name=data.names[r], score=score, as_of=as_of, top=row.reasons)
    session.commit()
    return row


def _alert(session: Session, ev: Evaluation, as_of: date, positions: np.ndarray, settings) -> None:
    alert_at = float(_effective(settings, "_score")["alert_at"])
    for r in positions:
        if ev.score[r] >= alert_at:
            _notify_risk(
                session,
                rm_id=int(ev.data.rm_ids[r]),
                name=ev.data.names[r],
                score=round(float(ev.score[r]), 1),
                as_of=as_of,
                top=reasons(ev, int(r)),
            )


def _notify_risk(
    session: Session, *, rm_id: int, name: str, score: float, as_of: date, top: list[dict[str, Any]]
) -> None:
    """One inbox notification per risk officer, RM and day (pushed on by the inbox's own event)."""
    officers = session.exec(
        select(User.id).where(User.role == Role.risk_officer.value, col(User.is_active).is_(True))
    ).all()
    titles = "、".join(x["title"] for x in top[:2])
    for officer_id in officers:
        inbox.notify(
            session,
            user_id=int(officer_id or 0),
            kind="conduct",
            title=f"行为监控预警：{name} 风险分 {score:.0f}",
            body=f"主要信号：{titles}" if titles else "",
            url=f"/conduct/rms/{rm_id}",
            source_key=f"conduct:{rm_id}:{as_of.isoformat()}",
            urgency="high",
        )


# -- access -----------------------------------------------------------------------------------------


def _require_viewer(user: User) -> None:
    if user.role not in (Role.risk_officer, Role.team_lead):
        raise forbidden("Conduct data is for risk officers and team leads.")


def visible_rm_ids(session: Session, *, user: User) -> list[int] | None:
    """None: every RM (a risk officer); a team lead: the RMs of the teams they lead."""
    _require_viewer(user)
    if user.role == Role.risk_officer:
        return None
    team_ids = set(session.exec(select(Team.id).where(Team.lead_id == user.id)).all())
    if user.team_id:
        team_ids.add(user.team_id)
    if not team_ids:
        return []
    return [
        int(i)
        for i in session.exec(
            select(User.id).where(col(User.team_id).in_(team_ids), User.role == Role.rm.value)
        ).all()
        if i
    ]


def _get_rm(session: Session, *, user: User, rm_id: int) -> User:
    allowed = visible_rm_ids(session, user=user)
    rm = session.get(User, rm_id)
    if rm is None or rm.role != Role.rm or (allowed is not None and rm_id not in allowed):
        raise not_found("rm")
    return rm


# -- reading ----------------------------------------------------------------------------------------


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
    rm = _get_rm(session, user=user, rm_id=rm_id)
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


# -- cases ------------------------------------------------------------------------------------------


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
    _get_rm(session, user=user, rm_id=rm_id)
    unknown = [r for r in rules if r not in RULES_BY_NAME]
    if unknown:
        raise Problem(
            422,
            "Unprocessable Content",
            "Unknown rules.",
            code="validation",
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
        raise Problem(
            412,
            "Precondition Failed",
            "The case changed since you loaded it.",
            code="stale",
            current=case.version,
        )


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
            raise Problem(
                422,
                "Unprocessable Content",
                "A note needs text.",
                code="validation",
                errors=[{"field": "note", "message": "required", "type": "missing"}],
            )
        _step(session, case=case, user=user, kind="note", note=note, ip=ip)
    elif closed:
        raise Problem(409, "Conflict", "The case is closed.", code="case-closed")
    elif action == "assign":
        if user.role != Role.risk_officer:
            raise forbidden("Only a risk officer assigns cases.")
        assignee = session.get(User, assignee_id or 0)
        if (
            assignee is None
            or assignee.role not in (Role.risk_officer, Role.team_lead)
            or not assignee.is_active
        ):
            raise Problem(
                422,
                "Unprocessable Content",
                "Assign to an active risk officer or team lead.",
                code="validation",
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
            raise Problem(409, "Conflict", "Already escalated.", code="case-escalated")
        case.status = CaseStatus.escalated
        _step(session, case=case, user=user, kind="escalate", note=note, ip=ip)
    elif action == "close":
        if user.role != Role.risk_officer:
            raise forbidden("Only a risk officer closes cases.")
        if disposition not in (CaseStatus.confirmed, CaseStatus.false_alarm):
            raise Problem(
                422,
                "Unprocessable Content",
                "Choose confirmed or false_alarm.",
                code="validation",
                errors=[{"field": "disposition", "message": "confirmed or false_alarm", "type": "value"}],
            )
        case.status = disposition
        case.closed_at = utcnow()
        _step(
            session, case=case, user=user, kind="close", note=note, ip=ip, detail={"disposition": disposition}
        )
    else:
        raise Problem(
            422,
            "Unprocessable Content",
            "Unknown action.",
            code="validation",
            errors=[{"field": "action", "message": "unknown", "type": "value"}],
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


# -- departing-RM check -----------------------------------------------------------------------------


def request_departing_check(session: Session, *, user: User, rm_id: int, ip: str | None) -> DepartingCheck:
    _get_rm(session, user=user, rm_id=rm_id)
    check = DepartingCheck(rm_id=rm_id, requested_by=row_id(user))
    session.add(check)
    session.flush()
    audit.record(
        session,
        actor_id=user.id,
        action="conduct.departing_check",
        object_type="user",
        object_id=rm_id,
        ip=ip,
        detail={"check_id": check.id},
    )
    events.publish(session, "conduct.departing_check", {"check_id": check.id})
    session.commit()
    return check


def get_check(session: Session, *, user: User, check_id: int) -> dict[str, Any]:
    check = session.get(DepartingCheck, check_id)
    if check is None:
        raise not_found("check")
    _get_rm(session, user=user, rm_id=check.rm_id)
    return {
        "id": check.id,
        "rm_id": check.rm_id,
        "status": check.status,
        "progress": check.progress,
        "result": check.result,
        "error": check.error,
        "created_at": iso(check.created_at),
        "finished_at": iso(check.finished_at),
    }


def run_departing_check(session: Session, *, check_id: int) -> DepartingCheck | None:
    """Every rule over the last 90 days for one RM, and the customers at risk of leaving with them."""
    check = session.get(DepartingCheck, check_id)
    if check is None or check.status == "done":
        return check
    check.status, check.progress = "running", 10
    session.add(check)
    session.commit()
    as_of = bank_today()
    settings = load_settings(session)
    narrowed = {
        rule.name: {
            **settings.get(rule.name, {}),
            **({"window_days": DEPARTING_WINDOW_DAYS} if "window_days" in rule.defaults else {}),
        }
        for rule in RULES
    }
    narrowed["_score"] = settings.get("_score", {})
    data = load(
        session, as_of=as_of, window_days=DEPARTING_WINDOW_DAYS, internal_networks=_networks(settings)
    )
    check.progress = 50
    session.add(check)
    session.commit()
    r = data.index_of(check.rm_id)
    if r is None:
        check.status, check.error, check.finished_at = "failed", "not an active RM", utcnow()
        session.add(check)
        session.commit()
        return check
    ev = evaluate(data, narrowed)
    signals: list[dict[str, Any]] = []
    evidence_customers: dict[int, list[str]] = {}
    for res in ev.results:
        value = res.reading.value[r]
        evidence = res.rule.evidence(data, res.params, r) if (res.fired[r] or res.points[r] > 0) else []
        for e in evidence:
            if e.get("customer_id"):
                evidence_customers.setdefault(int(e["customer_id"]), []).append(res.rule.title)
        signals.append(
            {
                "rule": res.rule.name,
                "title": res.rule.title,
                "fired": bool(res.fired[r]),
                "z": round(float(np.nan_to_num(res.z[r])), 2),
                "explanation": res.rule.explain(
                    res.reading, r, float(np.nan_to_num(res.median[r])), res.params
                )
                if np.isfinite(value)
                else "活动量不足，未评估。",
            }
        )
    signals.sort(key=lambda s: (not s["fired"], -float(s["z"])))
    check.result = {
        "as_of": as_of.isoformat(),
        "window_days": DEPARTING_WINDOW_DAYS,
        "score": round(float(ev.score[r]), 1),
        "signals": signals,
        "customers": customers_at_risk(
            session, data=data, r=r, evidence_customers=evidence_customers, as_of=as_of
        ),
    }
    check.status, check.progress, check.finished_at = "done", 100, utcnow()
    session.add(check)
    session.commit()
    return check


def customers_at_risk(
    session: Session,
    *,
    data: BankData,
    r: int,
    evidence_customers: dict[int, list[str]],
    as_of: date,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """The RM's customers most likely to follow them out: their details looked at lately (reveals),
    named in the evidence of the RM's signals, money maturing soon, high value tier."""
    rm_id = int(data.rm_ids[r])
    rv = data.reveals
    s = rv.slice_of(r, data.n)
    recent = rv.ts[s] >= data.now_ts - DEPARTING_WINDOW_DAYS * 86400
    reveal_counts: dict[int, int] = {}
    for c in rv.customer[s][recent]:
        if c > 0:
            reveal_counts[int(c)] = reveal_counts.get(int(c), 0) + 1
    customers = [
        (int(c or 0), n, t, k)
        for c, n, t, k in session.exec(
            select(Customer.id, Customer.name, Customer.tier, Customer.kind).where(Customer.owner_id == rm_id)
        ).all()
    ]
    horizon = as_of + timedelta(days=DEPARTING_WINDOW_DAYS)
    holdings = session.exec(
        select(Holding.customer_id, func.sum(Holding.balance_cents), func.sum(Holding.loan_balance_cents))
        .join(Customer, col(Customer.id) == Holding.customer_id)
        .where(Customer.owner_id == rm_id, Holding.status == "active")
        .group_by(col(Holding.customer_id))
    ).all()
    maturing = dict(
        session.exec(
            select(Holding.customer_id, func.sum(Holding.balance_cents))
            .join(Customer, col(Customer.id) == Holding.customer_id)
            .where(
                Customer.owner_id == rm_id,
                Holding.status == "active",
                col(Holding.matures_on) >= as_of,
                col(Holding.matures_on) <= horizon,
            )
            .group_by(col(Holding.customer_id))
        ).all()
    )
    balances = {int(c): int(b or 0) for c, b, _ in holdings}
    out: list[dict[str, Any]] = []
    for cid, name, tier, kind in customers:
        why: list[str] = []
        points = 0.0
        if reveal_counts.get(cid):
            why.append(f"近90天被查看敏感信息{reveal_counts[cid]}次")
            points += 2 + min(reveal_counts[cid], 5)
        if cid in evidence_customers:
            why.append("出现在预警证据中：" + "、".join(sorted(set(evidence_customers[cid]))))
            points += 3
        if maturing.get(cid):
            why.append(f"90天内到期资金{int(maturing[cid]) / 100 / 10000:,.1f}万元")
            points += 2
        if tier in ("vip", "high"):
            points += 1 if why else 0
            if why:
                why.append("高价值客户")
        if points > 0:
            out.append(
                {
                    "customer_id": cid,
                    "name": name,
                    "kind": kind,
                    "tier": tier,
                    "balance_cents": balances.get(cid, 0),
                    "points": points,
                    "reasons": why,
                }
            )
    out.sort(key=lambda c: (-float(c["points"]), -int(c["balance_cents"])))
    return out[:limit]
