"""Lookalike versions: which one scores for a user, the admin's list with their real hit rate, and
training requests (an admin's for the bank, an RM's for their own book)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from server import events
from server.audit import service as audit
from server.customers.models import Customer
from server.db import row_id
from server.errors import forbidden, not_found, unprocessable
from server.org.models import Role, User
from server.prospects.models import Prospect, ProspectModel, ProspectScore
from server.timeutil import iso

EVENT_TRAIN = "prospects.train_requested"  # {model_id}


def current_model(session: Session, *, user: User | None) -> ProspectModel | None:
    """The user's own latest trained version, else the bank's."""
    query = select(ProspectModel).where(col(ProspectModel.status) == "done")
    if user is not None:
        own = session.exec(
            query.where(col(ProspectModel.owner_id) == user.id).order_by(col(ProspectModel.id).desc())
        ).first()
        if own is not None:
            return own
    return session.exec(
        query.where(col(ProspectModel.owner_id).is_(None)).order_by(col(ProspectModel.id).desc())
    ).first()


def model_versions(session: Session, *, user: User) -> list[dict[str, Any]]:
    """Each version with its real hit rate: of the prospects it ranked in its top 5 %, the share that
    became customers, beside the share of all the prospects it scored."""
    if user.role != Role.admin:
        raise forbidden("Model versions are for admins.")
    models = session.exec(select(ProspectModel).order_by(col(ProspectModel.id).desc()).limit(50)).all()
    out = []
    for m in models:
        scored, converted = session.exec(
            select(func.count(), func.count(col(Prospect.converted_at)))
            .select_from(ProspectScore)
            .join(Prospect, col(Prospect.id) == ProspectScore.prospect_id)
            .where(col(ProspectScore.model_id) == m.id)
        ).one()
        top, top_converted = session.exec(
            select(func.count(), func.count(col(Prospect.converted_at)))
            .select_from(ProspectScore)
            .join(Prospect, col(Prospect.id) == ProspectScore.prospect_id)
            .where(col(ProspectScore.model_id) == m.id, col(ProspectScore.score) >= 95)
        ).one()
        rate = converted / scored if scored else None
        top_rate = top_converted / top if top else None
        out.append(
            {
                "id": m.id,
                "owner_id": m.owner_id,
                "seeds_kind": m.seeds_kind,
                "seeds": len(m.seed_ids),
                "status": m.status,
                "error": m.error,
                "trained_at": iso(m.trained_at) if m.trained_at else None,
                "scored": scored,
                "converted": converted,
                "top5_scored": top,
                "top5_converted": top_converted,
                "hit_rate_top5": top_rate,
                "conversion_rate": rate,
                "lift_top5": (top_rate / rate) if top_rate is not None and rate else None,
                "dropped": m.params.get("dropped", []),
            }
        )
    return out


def request_training(
    session: Session, *, user: User, seeds_kind: str, customer_ids: list[int], ip: str | None = None
) -> ProspectModel:
    """An admin trains the bank's version (default seeds); an RM trains their own from their book."""
    if user.role not in (Role.rm, Role.admin):
        raise forbidden("Only RMs (their own seeds) and admins (the bank's) train versions.")
    owner = None if user.role == Role.admin else row_id(user)
    if user.role == Role.admin and seeds_kind != "default":
        raise unprocessable("The bank's version uses the default seeds.")
    if seeds_kind == "customers":
        own = set(
            session.exec(
                select(Customer.id).where(
                    col(Customer.id).in_(customer_ids), col(Customer.owner_id) == user.id
                )
            ).all()
        )
        if len(own) != len(set(customer_ids)):
            raise not_found("customer")
    model = ProspectModel(
        owner_id=owner, seeds_kind=seeds_kind, seed_ids=sorted(set(customer_ids)), created_by=row_id(user)
    )
    session.add(model)
    session.flush()
    audit.record(
        session,
        actor_id=user.id,
        action="prospect.train",
        object_type="prospect_model",
        object_id=model.id,
        ip=ip,
        detail={"seeds_kind": seeds_kind, "seeds": len(customer_ids)},
    )
    events.publish(session, EVENT_TRAIN, {"model_id": model.id})
    session.commit()
    return model


def model_public(model: ProspectModel) -> dict[str, Any]:
    return {
        "id": model.id,
        "status": model.status,
        "seeds_kind": model.seeds_kind,
        "seeds": len(model.seed_ids),
        "error": model.error,
        "metrics": model.metrics,
        "trained_at": iso(model.trained_at) if model.trained_at else None,
    }


def get_model_for(session: Session, *, user: User, model_id: int) -> ProspectModel:
    model = session.get(ProspectModel, model_id)
    if model is None or (user.role != Role.admin and model.owner_id != user.id):
        raise not_found("model")
    return model
