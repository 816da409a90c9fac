"""The campaign outcome (作战复盘): once a room is won or closed, what the campaign reached — targets
reached and converted, the amount won, the time targets spent in each stage, and who contributed —
read from the room's own timeline, and exported as CSV for the branch (audited, rate-limited).

Closing the room also settles what it owes others (`settle`): a won target whose customer is that of
a shared opportunity (linked to the room, or shared from it) puts the opportunity's benefit share on
the ledger — the originator's share of the amount won, the rest to the member credited with the win
(as the contributors below credit it) — once per opportunity, however often the room is closed. A
won room is also a case card of the learning module (`server/learning/cases.py` reads won rooms);
the outcome names it."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from server import ratelimit
from server.audit import service as audit
from server.db import row_id
from server.errors import Problem, conflict, too_many_requests
from server.learning import cases
from server.opportunities import benefits
from server.opportunities.models import Opportunity
from server.opportunities.models import OpportunityStatus as OppStatus
from server.org.models import User
from server.redis_client import get_redis
from server.timeutil import as_utc, iso, utcnow
from server.warrooms.access import get_room, require_member
from server.warrooms.models import (
    RoomStatus,
    TargetStage,
    WarRoom,
    WarRoomEvent,
    WarRoomOpportunity,
    WarRoomTarget,
)

EXPORT_LIMIT = 10  # exports per user per hour
STAGE_ZH = {
    "to_contact": "待接触",
    "contacted": "已拜访",
    "negotiating": "方案",
    "approval": "审批",
    "won": "成交",
    "lost": "放弃",
}


def credited_member(target: WarRoomTarget) -> int:
    """Who a won target is credited to: its assignee, else whoever added it."""
    return target.assignee_id or target.added_by


def shared_wins(session: Session, room_id: int) -> list[tuple[WarRoomTarget, Opportunity]]:
    """Won targets of the room that are shared opportunities: an opportunity that went to the pool,
    linked to the room or shared from it, for the same customer (or prospect name)."""
    linked = select(WarRoomOpportunity.opportunity_id).where(WarRoomOpportunity.room_id == room_id)
    opportunities = session.exec(
        select(Opportunity)
        .where(
            col(Opportunity.shared_at).is_not(None),
            col(Opportunity.status) != OppStatus.draft,
            or_(
                col(Opportunity.id).in_(linked),
                and_(
                    col(Opportunity.source) == "war_room",
                    col(Opportunity.source_ref) == f"war_room:{room_id}",
                ),
            ),
        )
        .order_by(col(Opportunity.id))
    ).all()
    if not opportunities:
        return []
    by_customer = {o.customer_id: o for o in reversed(opportunities) if o.customer_id}
    by_name = {o.prospect_name: o for o in reversed(opportunities) if o.prospect_name and not o.customer_id}
    won = session.exec(
        select(WarRoomTarget)
        .where(WarRoomTarget.room_id == room_id, WarRoomTarget.stage == TargetStage.won)
        .order_by(col(WarRoomTarget.id))
    ).all()
    out = []
    for target in won:
        opp = (
            by_customer.get(target.customer_id)
            if target.customer_id
            else by_name.get(target.prospect_name or "")
        )
        if opp is not None:
            out.append((target, opp))
    return out


def settle(session: Session, *, room: WarRoom, actor_id: int, ip: str | None) -> list[dict[str, Any]]:
    """The room is won or closed: each shared opportunity it won gets its benefit share on the ledger,
    once (see the module docstring), each booking audited (`warroom.benefit_credit`). The caller
    holds the room's row and commits."""
    room_id = row_id(room)
    booked: list[dict[str, Any]] = []
    seen: set[int] = set()
    for target, opp in shared_wins(session, room_id):
        if row_id(opp) in seen:
            continue  # two won targets of one opportunity: its benefit is booked once
        seen.add(row_id(opp))
        closer = credited_member(target)
        if closer == opp.originator_id:
            continue  # its originator won it: nothing is shared
        split = benefits.credit_campaign(
            session,
            opp=opp,
            closer_id=closer,
            amount_cents=target.amount_cents,
            room_id=room_id,
            booked_on=utcnow().date(),
        )
        if split is None:
            continue  # on the ledger already
        entry = {
            "room_id": room_id,
            "target_id": target.id,
            "originator_id": opp.originator_id,
            "closer_id": closer,
            "amount_cents": target.amount_cents,
            "originator_cents": split[0],
            "closer_cents": split[1],
        }
        audit.record(
            session,
            actor_id=actor_id,
            action="warroom.benefit_credit",
            object_type="opportunity",
            object_id=opp.id,
            ip=ip,
            detail=entry,
        )
        booked.append({"opportunity_id": opp.id, **entry})
    return booked


def _benefits(session: Session, room_id: int) -> list[dict[str, Any]]:
    """What the room booked on the benefit-share ledger, per opportunity."""
    rows: dict[int, dict[str, Any]] = {}
    for entry in benefits.campaign_credits(session, room_id=room_id):
        opp_id = int((entry.source_ref or "").split(":")[1])
        role = (entry.source_ref or "").rsplit("-", 1)[-1]
        row = rows.setdefault(opp_id, {"opportunity_id": opp_id, "booked_on": iso(entry.booked_on)})
        row[role] = {"user_id": entry.rm_id, "amount_cents": entry.amount_cents}
    if not rows:
        return []
    titles = dict(
        session.exec(select(Opportunity.id, Opportunity.title).where(col(Opportunity.id).in_(rows))).all()
    )
    people = {p["user_id"] for row in rows.values() for p in (row.get("originator"), row.get("closer")) if p}
    names = dict(session.exec(select(User.id, User.display_name).where(col(User.id).in_(people))).all())
    for row in rows.values():
        for role in ("originator", "closer"):
            if role in row:
                row[role]["display_name"] = names.get(row[role]["user_id"], "")
    return [{**row, "title": titles.get(opp_id, "")} for opp_id, row in rows.items()]


def _case_card(session: Session, room: WarRoom) -> dict[str, Any] | None:
    """The won room as the learning module's case card, when it makes one (a won customer)."""
    if room.status != RoomStatus.won:
        return None
    case_id = f"war_room-{room.id}"
    try:
        card = cases.get_case(session, case_id=case_id)
    except Problem:
        return None
    return {"id": case_id, "url": f"/learning/cases/{case_id}", "steps": len(card.get("steps", []))}


def outcome(session: Session, *, room_id: int, user: User) -> dict[str, Any]:
    require_member(session, room_id=room_id, user=user)
    room = get_room(session, room_id)
    if room.status == RoomStatus.active:
        raise conflict("The outcome is reported once the room is won or closed.", code="room-open")
    targets = session.exec(select(WarRoomTarget).where(WarRoomTarget.room_id == room_id)).all()
    events = session.exec(
        select(WarRoomEvent)
        .where(
            WarRoomEvent.room_id == room_id,
            col(WarRoomEvent.kind).in_(["target.added", "target.updated", "target.assigned"]),
        )
        .order_by(col(WarRoomEvent.seq))
    ).all()
    closed_at = as_utc(room.updated_at)
    entered: dict[int, tuple[str, datetime]] = {}
    seconds: dict[str, float] = defaultdict(float)
    spans: dict[str, int] = defaultdict(int)
    contributions: dict[int, dict[str, int]] = defaultdict(
        lambda: {"added": 0, "moved": 0, "won": 0, "won_amount_cents": 0}
    )
    for event in events:
        target = event.payload.get("target") or {}
        tid, stage, at = target.get("id"), str(target.get("stage")), as_utc(event.created_at)
        if tid is None:
            continue
        if event.kind == "target.added" and event.author_id:
            contributions[event.author_id]["added"] += 1
        if event.kind == "target.updated" and event.author_id:
            contributions[event.author_id]["moved"] += 1
        previous = entered.get(tid)
        if previous is not None and previous[0] != stage:
            seconds[previous[0]] += (at - previous[1]).total_seconds()
            spans[previous[0]] += 1
        if previous is None or previous[0] != stage:
            entered[tid] = (stage, at)
    for stage, since in entered.values():
        if stage not in (TargetStage.won, TargetStage.lost):
            seconds[stage] += max((closed_at - since).total_seconds(), 0)
            spans[stage] += 1
    won = [t for t in targets if t.stage == TargetStage.won]
    for t in won:
        credited = credited_member(t)
        contributions[credited]["won"] += 1
        contributions[credited]["won_amount_cents"] += t.amount_cents
    names = dict(
        session.exec(select(User.id, User.display_name).where(col(User.id).in_(list(contributions)))).all()
    )
    return {
        "room": {
            "id": room.id,
            "title": room.title,
            "kind": room.kind,
            "status": room.status,
            "closed_at": iso(room.updated_at),
        },
        "targets": len(targets),
        "reached": sum(1 for t in targets if t.stage != TargetStage.to_contact),
        "converted": len(won),
        "amount_cents": sum(t.amount_cents for t in won),
        "goal": {"amount_cents": room.goal_amount_cents, "customers": room.goal_customers},
        "stage_days": [
            {
                "stage": s,
                "targets": spans.get(s, 0),
                "avg_days": round(seconds[s] / spans[s] / 86400, 2) if spans.get(s) else None,
            }
            for s in (
                TargetStage.to_contact,
                TargetStage.contacted,
                TargetStage.negotiating,
                TargetStage.approval,
            )
        ],
        "contributors": sorted(
            (
                {"user": {"id": uid, "display_name": names.get(uid, "")}, **figures}
                for uid, figures in contributions.items()
            ),
            key=lambda c: (-c["won_amount_cents"], -c["won"], -c["moved"], c["user"]["id"]),
        ),
        "benefits": _benefits(session, room_id),
        "case_card": _case_card(session, room),
    }


def export_csv(session: Session, *, room_id: int, user: User, ip: str | None) -> tuple[str, str]:
    """The outcome as a CSV for the branch (UTF-8 with BOM, so Excel reads the Chinese); audited."""
    allowed, retry_after = ratelimit.hit(
        get_redis(), f"warroom-export:{user.id}", limit=EXPORT_LIMIT, window_seconds=3600
    )
    if not allowed:
        raise too_many_requests("Too many exports; try later.", retry_after=retry_after)
    report = outcome(session, room_id=room_id, user=user)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["作战室", report["room"]["title"]])
    writer.writerow(["目标客户", report["targets"]])
    writer.writerow(["已触达", report["reached"]])
    writer.writerow(["已成交", report["converted"]])
    writer.writerow(["成交金额（元）", f"{report['amount_cents'] / 100:.2f}"])
    writer.writerow([])
    writer.writerow(["阶段", "目标数", "平均停留（天）"])
    for row in report["stage_days"]:
        writer.writerow(
            [STAGE_ZH[row["stage"]], row["targets"], "" if row["avg_days"] is None else row["avg_days"]]
        )
    writer.writerow([])
    writer.writerow(["成员", "新增目标", "推进", "成交", "成交金额（元）"])
    for c in report["contributors"]:
        writer.writerow(
            [
                c["user"]["display_name"],
                c["added"],
                c["moved"],
                c["won"],
                f"{c['won_amount_cents'] / 100:.2f}",
            ]
        )
    if report["benefits"]:
        writer.writerow([])
        writer.writerow(["共享商机", "提供人", "提供人效益（元）", "成交人", "成交人效益（元）"])
        for b in report["benefits"]:
            giver, closer = b.get("originator") or {}, b.get("closer") or {}
            writer.writerow(
                [
                    b["title"],
                    giver.get("display_name", ""),
                    f"{giver.get('amount_cents', 0) / 100:.2f}",
                    closer.get("display_name", ""),
                    f"{closer.get('amount_cents', 0) / 100:.2f}",
                ]
            )
    audit.record(
        session,
        actor_id=user.id,
        action="warroom.outcome_export",
        object_type="war_room",
        object_id=room_id,
        ip=ip,
        detail={"targets": report["targets"], "converted": report["converted"]},
    )
    session.commit()
    return out.getvalue(), f"war-room-{room_id}-outcome.csv"
