"""Chat: members' messages (with cards and mentions) and the bank's system messages."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from server.customers.service import get_customer_for
from server.errors import Problem, not_found, unprocessable
from server.opportunities import access as opportunity_access
from server.opportunities.models import Opportunity
from server.org.models import User
from server.products.models import Product
from server.reference import industry_name
from server.warrooms.access import active_among, get_room, limit_rate
from server.warrooms.eventlog import (
    append,
    existing_event,
    next_seq,
    next_seq_as_member,
    notify,
    replayed,
)
from server.warrooms.models import TargetConsent, WarRoomOpportunity, WarRoomTarget
from server.warrooms.schemas import (
    MAX_TEXT_BYTES,
    MessageIn,
)


def _approved_target(session: Session, *, room_id: int, customer_id: int) -> bool:
    return (
        session.exec(
            select(WarRoomTarget.id).where(
                WarRoomTarget.room_id == room_id,
                WarRoomTarget.customer_id == customer_id,
                col(WarRoomTarget.consent) == TargetConsent.approved,
            )
        ).first()
        is not None
    )


def card(session: Session, *, room_id: int, user: User, kind: str, object_id: int) -> dict[str, Any]:
    """What a chat card shows: checked against what the sender may see (a customer from their book
    or shared with them, any product, an opportunity they can see or that is linked to the room)."""
    if kind == "customer":
        customer = get_customer_for(session, user=user, customer_id=object_id)
        # A card shows the customer's name to every member: like a target, a colleague's customer
        # enters the room only by its RM's consent (an approved target), never by a card.
        if customer.owner_id != user.id and not _approved_target(
            session, room_id=room_id, customer_id=object_id
        ):
            raise not_found("customer")
        subtitle = industry_name(customer.industry_code) or customer.industry_code
        return {"type": kind, "id": object_id, "title": customer.name, "subtitle": subtitle}
    if kind == "product":
        product = session.get(Product, object_id)
        if product is None:
            raise Problem(404, "Not Found", "No such product.", code="not-found")
        return {"type": kind, "id": object_id, "title": product.name, "subtitle": product.category}
    opp = session.get(Opportunity, object_id)
    linked = session.get(WarRoomOpportunity, (room_id, object_id)) is not None
    if opp is None or not (linked or opportunity_access.can_view(session, user=user, opp=opp)):
        raise Problem(404, "Not Found", "No such opportunity.", code="not-found")
    return {"type": kind, "id": object_id, "title": opp.title, "subtitle": opp.status}


def check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise unprocessable("A message needs text.", errors=[{"field": "text", "message": "empty"}])
    if len(text.encode()) > MAX_TEXT_BYTES:
        raise Problem(
            413, "Content Too Large", f"A message is at most {MAX_TEXT_BYTES} bytes.", code="too-large"
        )
    return text


def post_message(
    session: Session, *, room_id: int, user: User, data: MessageIn
) -> tuple[dict[str, Any], bool]:
    """Stores one chat message; returns (event, created). A re-sent client_id returns the first one.
    Each call counts against the sender's rate limit, whether it came over the socket or HTTP."""
    text = check_text(data.text)
    limit_rate(user)
    seq = next_seq_as_member(session, room_id=room_id, user=user)
    cards = [card(session, room_id=room_id, user=user, kind=c.type.value, object_id=c.id) for c in data.cards]
    mentions = active_among(session, room_id, list(dict.fromkeys(data.mentions)))
    try:
        event = append(
            session,
            room_id=room_id,
            seq=seq,
            kind="message",
            author=user,
            client_id=data.client_id,
            payload={"text": text, "mentions": mentions, "cards": cards},
        )
    except IntegrityError:
        # A re-send: its client_id is stored already (the unique key answers, so the first send of
        # every message costs no look-up). Nothing of this one stays.
        session.rollback()
        existing = existing_event(session, room_id=room_id, client_id=data.client_id)
        if existing is None:
            raise
        return replayed(session, existing)
    others = [m for m in mentions if m != user.id]
    if others:
        room = get_room(session, room_id)  # its title, for the notifications
        for mentioned in others:
            notify(
                session,
                user_id=mentioned,
                room=room,
                title=f"{user.display_name} 在作战室提到了你",
                body=f"「{room.title}」:{text[:200]}",
                key=f"mention:{seq}",
            )
    session.commit()
    return event, True


def post_system_message(
    session: Session, *, room_id: int, text: str, client_id: str | None = None
) -> tuple[dict[str, Any], bool]:
    """A message from the bank's systems (an intel alert, a reminder), posted by a background job."""
    text = check_text(text)
    get_room(session, room_id)
    seq = next_seq(session, room_id)
    existing = existing_event(session, room_id=room_id, client_id=client_id)
    if existing is not None:
        session.rollback()
        return replayed(session, existing)
    event = append(
        session,
        room_id=room_id,
        seq=seq,
        kind="system",
        author=None,
        client_id=client_id,
        payload={"text": text},
    )
    session.commit()
    return event, True
