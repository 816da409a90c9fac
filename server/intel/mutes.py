"""Intel mutes: an RM silences a category or one of their customers; matching skips muted alerts."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from server.customers.models import Customer
from server.customers.service import get_customer_for
from server.errors import forbidden, not_found
from server.intel.models import CATEGORY_LABELS, Category, IntelMute
from server.intel.pipeline import dialect_insert
from server.org.models import Role, User
from server.timeutil import iso, utcnow

# --- mutes ------------------------------------------------------------------------------------


def list_mutes(session: Session, *, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(IntelMute).where(IntelMute.rm_id == user.id).order_by(col(IntelMute.id))).all()
    out = []
    for m in rows:
        label = CATEGORY_LABELS.get(Category(m.value)) if m.kind == "category" else None
        if m.kind == "customer":
            customer = session.get(Customer, int(m.value))
            label = customer.name if customer is not None else m.value
        out.append(
            {"id": m.id, "kind": m.kind, "value": m.value, "label": label, "created_at": iso(m.created_at)}
        )
    return out


def add_mute(session: Session, *, user: User, kind: str, value: str) -> dict[str, Any]:
    if user.role != Role.rm:
        raise forbidden("Only relationship managers mute intel.")
    if kind == "customer":
        get_customer_for(session, user=user, customer_id=int(value), write=True)
    session.execute(
        dialect_insert(session, IntelMute)
        .values(rm_id=user.id, kind=kind, value=value, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["rm_id", "kind", "value"])
    )
    session.commit()
    mute = session.exec(
        select(IntelMute).where(IntelMute.rm_id == user.id, IntelMute.kind == kind, IntelMute.value == value)
    ).one()
    return {"id": mute.id, "kind": mute.kind, "value": mute.value}


def remove_mute(session: Session, *, user: User, mute_id: int) -> None:
    mute = session.get(IntelMute, mute_id)
    if mute is None or mute.rm_id != user.id:
        raise not_found("mute")
    session.delete(mute)
    session.commit()
