"""Campaigns (项目营销 · 批发销售): a room that works a whole list, chain or park.

A bulk addition is one transaction: the room's row is locked, the targets not yet in the room are
added, and each is one `target.added` event with its own seq — the seqs of one bulk are contiguous
(taken by one UPDATE of the room's counter) and each target is audited. The client's key makes a
retry replay the first result and add nothing. Customers of other RMs enter as pending requests
(consent.py decides them), with one inbox item per RM per bulk; rate limits count bulks, not rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from server.audit import service as audit
from server.customers import grants
from server.db import row_id
from server.org.models import User
from server.timeutil import utcnow
from server.warrooms.access import active_member_ids, limit_rate, open_room_of_member, unknown_room
from server.warrooms.board import target_public
from server.warrooms.campaign_schemas import BulkTargetsIn
from server.warrooms.eventlog import notify, store_many
from server.warrooms.models import (
    TargetConsent,
    TargetStage,
    WarRoom,
    WarRoomBulk,
    WarRoomTarget,
)
from server.warrooms.sources import Candidate, owners_of, resolve


@dataclass
class BulkTarget:
    """A target as a bulk inserts it (the fields `target_public` reads)."""

    id: int | None
    customer_id: int | None
    prospect_name: str | None
    stage: TargetStage
    amount_cents: int
    added_by: int
    consent: TargetConsent
    source_note: str | None
    assignee_id: int | None
    version: int
    updated_at: datetime


def lock_room(session: Session, room_id: int) -> int:
    """Locks the room's row until commit (as `next_seq` does) without taking a number; returns the
    room's last seq."""
    seq = session.execute(
        update(WarRoom)
        .where(col(WarRoom.id) == room_id)
        .values(last_seq=col(WarRoom.last_seq))
        .returning(col(WarRoom.last_seq))
    ).scalar_one_or_none()
    if seq is None:
        raise unknown_room()
    return int(seq)


def take_seqs(session: Session, room_id: int, count: int) -> int:
    """Takes `count` consecutive numbers; returns the first."""
    last = session.execute(
        update(WarRoom)
        .where(col(WarRoom.id) == room_id)
        .values(last_seq=col(WarRoom.last_seq) + count)
        .returning(col(WarRoom.last_seq))
    ).scalar_one()
    return int(last) - count + 1


def _earlier(session: Session, *, room_id: int, client_key: str) -> WarRoomBulk | None:
    return session.exec(
        select(WarRoomBulk).where(WarRoomBulk.room_id == room_id, WarRoomBulk.client_key == client_key)
    ).first()


def _replay(bulk: WarRoomBulk) -> dict[str, Any]:
    return {**bulk.result, "replayed": True}


def _fresh(session: Session, room_id: int, candidates: list[Candidate]) -> tuple[list[Candidate], int]:
    """The candidates not yet in the room (nor twice in the source); and how many were skipped."""
    rows = session.exec(
        select(WarRoomTarget.customer_id, WarRoomTarget.prospect_name).where(WarRoomTarget.room_id == room_id)
    ).all()
    have_ids = {c for c, _ in rows if c is not None}
    have_names = {n for _, n in rows if n is not None}
    fresh: list[Candidate] = []
    for candidate in candidates:
        if candidate.customer_id is not None:
            if candidate.customer_id in have_ids:
                continue
            have_ids.add(candidate.customer_id)
        elif candidate.prospect_name is not None:
            if candidate.prospect_name in have_names:
                continue
            have_names.add(candidate.prospect_name)
        else:
            continue
        fresh.append(candidate)
    return fresh, len(candidates) - len(fresh)


def add_targets(
    session: Session, *, room_id: int, user: User, data: BulkTargetsIn, ip: str | None
) -> dict[str, Any]:
    """Adds every target a source brings (see the module docstring); `dry_run` counts without storing."""
    room = open_room_of_member(session, room_id=room_id, user=user, write=True)
    earlier = _earlier(session, room_id=room_id, client_key=data.client_key)
    if earlier is not None:
        session.rollback()
        return _replay(earlier)
    if not data.dry_run:
        limit_rate(user, bucket="targets")  # one bulk is one addition, whatever its size
    found = resolve(session, user=user, source=data.source)
    base_seq = lock_room(session, room_id)
    earlier = _earlier(session, room_id=room_id, client_key=data.client_key)
    if earlier is not None:  # the same bulk committed while this one resolved its source
        session.rollback()
        return _replay(earlier)
    fresh, skipped = _fresh(session, room_id, found.candidates)
    customers = owners_of(session, [c.customer_id for c in fresh if c.customer_id is not None])
    me = row_id(user)
    pending_by_owner: dict[int, int] = defaultdict(int)
    for candidate in fresh:
        customer = customers.get(candidate.customer_id) if candidate.customer_id else None
        if customer is not None and customer.owner_id != me:
            pending_by_owner[customer.owner_id] += 1
    counts = {
        "found": len(found.candidates),
        "added": sum(1 for c in fresh if c.customer_id is not None) - sum(pending_by_owner.values()),
        "requested": sum(pending_by_owner.values()),
        "prospects": sum(1 for c in fresh if c.customer_id is None),
        "skipped": skipped,
        "owners_asked": len(pending_by_owner),
    }
    if data.dry_run:
        session.rollback()
        return {"source": found.label, **counts, **found.extra, "dry_run": True}

    bulk = WarRoomBulk(
        room_id=room_id,
        client_key=data.client_key,
        source_type=data.source.type,
        source_label=found.label[:160],
        created_by=me,
    )
    session.add(bulk)
    try:
        session.flush()
    except IntegrityError:  # a concurrent duplicate won the key
        session.rollback()
        earlier = _earlier(session, room_id=room_id, client_key=data.client_key)
        if earlier is None:
            raise
        return _replay(earlier)
    bulk_id = row_id(bulk)
    first_seq = take_seqs(session, room_id, len(fresh)) if fresh else base_seq + 1
    # Thousands of rows: written with Core INSERTs (ORM objects would cost seconds), read back as
    # `BulkTarget`s for the events.
    now = utcnow()
    targets: list[BulkTarget] = []
    for candidate in fresh:
        customer = customers.get(candidate.customer_id) if candidate.customer_id else None
        targets.append(
            BulkTarget(
                id=None,
                customer_id=candidate.customer_id if customer is not None else None,
                prospect_name=None if customer is not None else candidate.prospect_name,
                stage=TargetStage.to_contact,
                amount_cents=candidate.amount_cents,
                added_by=me,
                consent=TargetConsent.pending
                if customer is not None and customer.owner_id != me
                else TargetConsent.approved,
                source_note=(candidate.note or "")[:160] or None,
                assignee_id=None,
                version=1,
                updated_at=now,
            )
        )
    if targets:
        ids = (
            session.connection()
            .execute(
                insert(WarRoomTarget).returning(col(WarRoomTarget.id), sort_by_parameter_order=True),
                [
                    {k: v for k, v in vars(t).items() if k != "id"} | {"room_id": room_id, "bulk_id": bulk_id}
                    for t in targets
                ],
            )
            .scalars()
            .all()
        )
        for target, new_id in zip(targets, ids, strict=True):
            target.id = new_id

    approved = [
        (row_id(customers[t.customer_id]), customers[t.customer_id].owner_id)
        for t in targets
        if t.customer_id is not None and t.consent == TargetConsent.approved
    ]
    grants.grant_many(
        session,
        customers=approved,
        user_ids=active_member_ids(session, room_id),
        source_type=grants.SOURCE_WAR_ROOM,
        source_id=room_id,
        actor_id=me,
        ip=ip,
    )
    items: list[tuple[str, dict[str, Any]]] = []
    entries: list[dict[str, Any]] = []
    for offset, target in enumerate(targets):
        customer = customers.get(target.customer_id) if target.customer_id else None
        items.append(("target.added", {"target": target_public(target, customer), "bulk_id": bulk_id}))
        pending = customer is not None and target.consent == TargetConsent.pending
        entries.append(
            {
                "actor_id": me,
                "action": "warroom.target_request" if pending else "warroom.target_add",
                "object_type": "customer" if customer is not None else "prospect",
                "object_id": target.customer_id if customer is not None else target.id,
                "ip": ip,
                "detail": {
                    "room_id": room_id,
                    "target_id": target.id,
                    "seq": first_seq + offset,
                    "bulk_id": bulk_id,
                    **({"owner_id": customer.owner_id} if pending and customer else {}),
                },
            }
        )
    store_many(session, room_id=room_id, first_seq=first_seq, items=items, author=user)
    audit.record_many(session, entries)

    for owner_id, count in pending_by_owner.items():
        notify(
            session,
            user_id=owner_id,
            room=room,
            title="目标客户待你审批",
            body=f"{user.display_name} 申请把你的 {count} 位客户列为「{room.title}」的目标客户（{found.label}）",
            key=f"bulk-request:{bulk_id}",
            query=f"?requests={bulk_id}",
        )
    last_seq = first_seq + len(targets) - 1 if targets else None
    bulk.first_seq = first_seq if targets else None
    bulk.last_seq = last_seq
    bulk.result = {
        "bulk_id": bulk_id,
        "source": found.label,
        **counts,
        **found.extra,
        "first_seq": bulk.first_seq,
        "last_seq": last_seq,
    }
    session.add(bulk)
    audit.record(
        session,
        actor_id=me,
        action="warroom.bulk_targets",
        object_type="war_room",
        object_id=room_id,
        ip=ip,
        detail={k: v for k, v in bulk.result.items() if k != "source"} | {"source_type": bulk.source_type},
    )
    session.commit()
    return {**bulk.result, "replayed": False}
