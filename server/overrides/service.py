"""Admin overrides of the scoring models (knowledge degree, mirror). Defaults live in code; the row
holds only overrides, validated by the owning model before it is stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from server import events
from server.audit import service as audit
from server.errors import stale
from server.org.models import User
from server.overrides.models import ModelOverrides
from server.timeutil import utcnow


def get_overrides(session: Session, name: str) -> tuple[dict[str, Any], int]:
    row = session.get(ModelOverrides, name)
    return (dict(row.value), row.version) if row else ({}, 0)


def set_overrides(
    session: Session,
    *,
    name: str,
    value: dict[str, Any],
    expected_version: int,
    validate: Callable[[dict[str, Any]], dict[str, Any]],
    actor: User,
    ip: str | None,
) -> int:
    """Stores validated overrides; `expected_version` must be the version read (0 when none yet)."""
    clean = validate(value)
    row = session.get(ModelOverrides, name)
    current = row.version if row else 0
    if expected_version != current:
        raise stale("The configuration changed since you read it.")
    if row is None:
        row = ModelOverrides(name=name, value=clean, version=1, updated_by=actor.id)
    else:
        row.value = clean
        row.version = current + 1
        row.updated_by = actor.id
        row.updated_at = utcnow()
    session.add(row)
    audit.record(
        session,
        actor_id=actor.id,
        action="workbench.config",
        object_type="workbench_config",
        object_id=name,
        ip=ip,
        detail={"version": row.version},
    )
    events.publish(session, "workbench.config_changed", {"name": name, "version": row.version})
    try:
        session.commit()
    except IntegrityError:  # another admin created the row first
        session.rollback()
        raise stale("The configuration changed since you read it.") from None
    return row.version
