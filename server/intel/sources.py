"""Intel sources (the admin's side): their settings, error log and poll requests, and the per-source
fetch rate limit the poll job goes through."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from server import events
from server.audit import service as audit
from server.db import rows_affected
from server.errors import conflict, not_found, unprocessable
from server.intel.models import CATEGORY_LABELS, Category, IntelSource, IntelSourceError, SourceKind
from server.org.models import User
from server.timeutil import iso, utcnow

EVENT_POLL = "intel.poll_requested"  # {source_id}: tasks enqueue a poll now


# --- sources ----------------------------------------------------------------------------------


def source_public(source: IntelSource) -> dict[str, Any]:
    return {
        "id": source.id,
        "name": source.name,
        "kind": str(source.kind),
        "url": source.url,
        "category": str(source.category),
        "category_label": CATEGORY_LABELS[Category(source.category)],
        "poll_minutes": source.poll_minutes,
        "min_fetch_seconds": source.min_fetch_seconds,
        "enabled": source.enabled,
        "mapping": source.mapping,
        "etag": source.etag,
        "last_modified": source.last_modified,
        "last_fetch_at": iso(source.last_fetch_at),
        "last_success_at": iso(source.last_success_at),
        "last_error": source.last_error,
        "error_count": source.error_count,
        "created_at": iso(source.created_at),
        "updated_at": iso(source.updated_at),
    }


def list_sources(session: Session) -> list[IntelSource]:
    return list(session.exec(select(IntelSource).order_by(col(IntelSource.id))).all())


def get_source(session: Session, source_id: int) -> IntelSource:
    source = session.get(IntelSource, source_id)
    if source is None:
        raise not_found("intel source")
    return source


def _check_source(kind: str, url: str | None) -> None:
    if kind in (SourceKind.feed, SourceKind.json) and not (url or "").startswith(("http://", "https://")):
        raise unprocessable(
            "A polled source needs an http(s) URL.",
            errors=[{"field": "url", "message": "An http(s) URL is required for feed and json sources."}],
        )


def create_source(session: Session, *, actor: User, data: Any, ip: str | None = None) -> IntelSource:
    _check_source(data.kind, data.url)
    source = IntelSource(**data.model_dump(), created_by=actor.id)
    session.add(source)
    session.flush()
    audit.record(
        session,
        actor_id=actor.id,
        action="intel.source.create",
        object_type="intel_source",
        object_id=str(source.id),
        ip=ip,
        detail={"name": source.name, "kind": source.kind, "url": source.url},
    )
    session.commit()
    return source


def update_source(
    session: Session, *, actor: User, source_id: int, data: Any, ip: str | None = None
) -> IntelSource:
    source = get_source(session, source_id)
    changes = data.model_dump(exclude_unset=True)
    for key, value in changes.items():
        setattr(source, key, value)
    _check_source(source.kind, source.url)
    if "url" in changes:
        source.etag = source.last_modified = None  # a new address starts unconditional
    source.updated_at = utcnow()
    session.add(source)
    audit.record(
        session,
        actor_id=actor.id,
        action="intel.source.update",
        object_type="intel_source",
        object_id=str(source_id),
        ip=ip,
        detail={k: str(v) for k, v in changes.items()},
    )
    session.commit()
    return source


def request_poll(session: Session, *, actor: User, source_id: int) -> None:
    source = get_source(session, source_id)
    if source.kind not in (SourceKind.feed, SourceKind.json):
        raise conflict("Only feed and json sources are polled.", code="not-polled")
    events.publish(session, EVENT_POLL, {"source_id": source_id, "poll_minutes": source.poll_minutes})
    session.commit()


def record_error(session: Session, *, source_id: int, stage: str, code: str, message: str) -> None:
    """Logged on the source (its own transaction: the caller may be rolling back)."""
    session.add(IntelSourceError(source_id=source_id, stage=stage, code=code[:32], message=message[:500]))
    session.execute(
        update(IntelSource)
        .where(col(IntelSource.id) == source_id)
        .values(error_count=IntelSource.error_count + 1, last_error=f"{code}: {message}"[:500])
    )
    session.commit()


def source_errors(session: Session, *, source_id: int, limit: int = 50) -> list[dict[str, Any]]:
    rows = session.exec(
        select(IntelSourceError)
        .where(IntelSourceError.source_id == source_id)
        .order_by(col(IntelSourceError.id).desc())
        .limit(limit)
    ).all()
    return [{**r.model_dump(mode="json"), "at": iso(r.at)} for r in rows]


def claim_fetch(
    session: Session, *, source_id: int, now: datetime | None = None, force: bool = False
) -> bool:
    """The per-source rate limit as one conditional UPDATE: of any number of workers, one fetches
    and the others see it was fetched less than `min_fetch_seconds` ago."""
    now = now or utcnow()
    source = session.get(IntelSource, source_id)
    if source is None or not source.enabled:
        return False
    condition: list[Any] = [IntelSource.id == source_id, col(IntelSource.enabled).is_(True)]
    if not force:
        from datetime import timedelta

        cutoff = now - timedelta(seconds=source.min_fetch_seconds)
        condition.append(
            or_(col(IntelSource.last_fetch_at).is_(None), col(IntelSource.last_fetch_at) <= cutoff)
        )
    claimed = rows_affected(session, update(IntelSource).where(and_(*condition)).values(last_fetch_at=now))
    session.commit()
    return claimed == 1


def fetched_ok(session: Session, *, source_id: int, etag: str | None, last_modified: str | None) -> None:
    session.execute(
        update(IntelSource)
        .where(col(IntelSource.id) == source_id)
        .values(etag=etag, last_modified=last_modified, last_success_at=utcnow(), last_error=None)
    )
    session.commit()
