"""The chain view of a project-marketing room: the core enterprise in the middle and its supply
chain around it (上下游, from the relationship graph), each firm with its stage in the room and its RM.

The core is the one the room's last chain bulk started from, else the customer the room was opened
from. Firms in the room show as the board shows them (a pending request without its name); firms
of the chain not yet in the room are named only to a caller who may see the core (its customer 360
lists the same links)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from server.customers.models import Customer
from server.customers.service import get_customer_for
from server.errors import Problem
from server.org.models import User
from server.warrooms.access import get_room, require_member
from server.warrooms.board import target_public
from server.warrooms.campaign_schemas import ChainDirection, ChainQuery
from server.warrooms.models import WarRoomBulk, WarRoomTarget
from server.warrooms.sources import chain_of

MAX_NODES = 2000


def core_of(session: Session, room_id: int) -> tuple[int | None, ChainDirection, int]:
    bulk = session.exec(
        select(WarRoomBulk)
        .where(WarRoomBulk.room_id == room_id, WarRoomBulk.source_type == "chain")
        .order_by(col(WarRoomBulk.id).desc())
    ).first()
    if bulk is not None and bulk.result.get("core_customer_id"):
        return (
            int(bulk.result["core_customer_id"]),
            ChainDirection(bulk.result.get("direction", "both")),
            int(bulk.result.get("hops", 1)),
        )
    room = get_room(session, room_id)
    if room.source_type == "customer" and room.source_id:
        return room.source_id, ChainDirection.both, 1
    return None, ChainDirection.both, 1


def chain_view(session: Session, *, room_id: int, user: User, query: ChainQuery | None) -> dict[str, Any]:
    require_member(session, room_id=room_id, user=user)
    core_id, direction, hops = core_of(session, room_id)
    if query is not None:
        direction, hops = query.direction or direction, query.hops or hops
    if core_id is None:
        raise Problem(404, "Not Found", "This room has no core enterprise.", code="no-core")
    targets = session.exec(select(WarRoomTarget).where(WarRoomTarget.room_id == room_id)).all()
    by_customer = {t.customer_id: t for t in targets if t.customer_id}
    by_name = {t.prospect_name: t for t in targets if t.prospect_name}
    nodes = chain_of(session, core_id=core_id, direction=direction, hops=hops, limit=MAX_NODES)
    ids = [core_id] + [n.customer_id for n in nodes if n.customer_id]
    customers = {c.id: c for c in session.exec(select(Customer).where(col(Customer.id).in_(ids))).all()}
    owner_ids = {c.owner_id for c in customers.values()}
    owners = dict(session.exec(select(User.id, User.display_name).where(col(User.id).in_(owner_ids))).all())
    try:
        get_customer_for(session, user=user, customer_id=core_id)
        sees_chain = True
    except Problem:
        sees_chain = False

    def firm(customer_id: int | None, name: str) -> dict[str, Any] | None:
        target = by_customer.get(customer_id) if customer_id else by_name.get(name)
        customer = customers.get(customer_id) if customer_id else None
        if target is not None:
            public = target_public(target, customer)
            shown = public["name"]
            return {
                "target_id": target.id,
                "name": shown,
                "stage": target.stage,
                "consent": target.consent,
                "assignee_id": target.assignee_id,
                "amount_cents": target.amount_cents,
                "prospect": customer is None,
                "owner": owners.get(customer.owner_id) if customer and shown else None,
            }
        if not sees_chain:
            return None
        return {
            "target_id": None,
            "name": name,
            "stage": None,
            "consent": None,
            "assignee_id": None,
            "amount_cents": 0,
            "prospect": customer is None,
            "owner": owners.get(customer.owner_id) if customer else None,
        }

    core = customers.get(core_id)
    core_firm = firm(core_id, core.name if core else "")
    if core_firm is None:  # neither in the room nor the caller's to see: the room shows no chain
        raise Problem(404, "Not Found", "This room has no core enterprise.", code="no-core")
    out_nodes = []
    for node in nodes:
        shown = firm(node.customer_id, node.name)
        if shown is None:
            continue
        via = "core" if node.via_id == core_id else node.via_id
        out_nodes.append({**shown, "side": node.side, "hop": node.hop, "via": via, "link": node.link})
    return {
        "core": core_firm,
        "direction": direction,
        "hops": hops,
        "nodes": out_nodes,
        "hidden": len(nodes) - len(out_nodes),
    }
