"""Conduct runs: the daily run over every RM and the near-real-time refresh of the audit-log rules
(stored signals and scores), and the alerts to risk officers."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import delete, insert
from sqlmodel import Session, col, select

from server.conduct.data import load
from server.conduct.engine import Evaluation, evaluate, reasons
from server.conduct.models import (
    ConductRun,
    ConductScore,
    ConductSignal,
)
from server.conduct.rule_settings import (
    effective_settings,
    internal_networks,
    load_settings,
    longest_window_days,
)
from server.conduct.rules.registry import AUDIT_LOG_RULES, RULES_BY_NAME
from server.db import row_id, table_of
from server.inbox import service as inbox
from server.org.models import Role, User
from server.timeutil import utcnow

LOCAL = timedelta(hours=8)


def bank_today(now: datetime | None = None) -> date:
    return ((now or utcnow()) + LOCAL).date()


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
    data = load(
        session,
        as_of=as_of,
        window_days=longest_window_days(settings),
        internal_networks=internal_networks(settings),
    )
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
        window_days=longest_window_days(settings),
        internal_networks=internal_networks(settings),
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
    score_params = effective_settings(settings, "_score")
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
    alert_at = float(effective_settings(settings, "_score")["alert_at"])
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
