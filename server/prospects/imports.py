"""An admin's imports of registry extracts into prospects: the request and its answers.

- A file is uploaded to an intel upload source; the same file on the same source is one import
  (by digest), so a re-upload queues nothing.
- A JSON source (a bank's registry API) is fetched by the job through the guarded client
  (server/outbound.py: no internal address unless allow-listed); its URL and paging are checked here
  first, so a bad source is refused at once. Each fetch is its own import.
- Either way the import is stored and the job queued after commit (server/prospects/loading.py
  reads, validates and loads the rows); the admin follows its progress and its bad rows here."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from server import events, outbound
from server.audit import service as audit
from server.errors import conflict, forbidden, not_found, unprocessable
from server.intel.models import IntelSource, SourceKind
from server.org.models import Role, User
from server.prospects import registry
from server.prospects.extracts import check_bounds, fetch_limits
from server.prospects.models import ProspectImport
from server.timeutil import iso

EVENT_IMPORT = "prospects.import_requested"  # {import_id}


def start_import(
    session: Session, *, actor: User, source_id: int, filename: str, content: bytes, ip: str | None
) -> tuple[ProspectImport, bool]:
    """Stores the file and queues the job; (import, created). The same file again is the same import."""
    if actor.role != Role.admin:
        raise forbidden("Only admins upload registry extracts.")
    source = session.get(IntelSource, source_id)
    if source is None:
        raise not_found("source")
    if source.kind != SourceKind.upload:
        raise conflict("Files are uploaded only to upload sources.", code="not-upload")
    check_bounds(filename, content)
    digest = hashlib.sha256(content).hexdigest()
    existing = session.exec(
        select(ProspectImport).where(
            col(ProspectImport.source_id) == source_id, col(ProspectImport.digest) == digest
        )
    ).first()
    if existing is not None:
        return existing, False
    batch = ProspectImport(
        source_id=source_id, digest=digest, filename=filename[:128], content=content, created_by=actor.id
    )
    session.add(batch)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        existing = session.exec(
            select(ProspectImport).where(
                col(ProspectImport.source_id) == source_id, col(ProspectImport.digest) == digest
            )
        ).first()
        if existing is None:
            raise
        return existing, False
    audit.record(
        session,
        actor_id=actor.id,
        action="prospect.import",
        object_type="prospect_import",
        object_id=batch.id,
        ip=ip,
        detail={"filename": filename[:128], "digest": digest, "bytes": len(content)},
    )
    events.publish(session, EVENT_IMPORT, {"import_id": batch.id})
    session.commit()
    return batch, True


def start_fetch(
    session: Session, *, actor: User, source_id: int, policy: outbound.Policy, ip: str | None
) -> ProspectImport:
    """Queues a load from a JSON source (a bank's registry API). The URL is checked now, so an
    internal address is refused at once; the job checks again on every connection it makes. Each
    fetch is its own import; the upsert by credit code keeps a repeated answer from adding anything."""
    if actor.role != Role.admin:
        raise forbidden("Only admins load registry data.")
    source = session.get(IntelSource, source_id)
    if source is None:
        raise not_found("source")
    if source.kind != SourceKind.json or not source.url:
        raise conflict("Only JSON sources with a URL are fetched.", code="not-json")
    try:
        outbound.check_url(source.url, policy)
    except outbound.OutboundRefused as exc:
        raise unprocessable(exc.message, code="prospect-source-refused") from None
    try:
        registry.paging_of(source.mapping or {}, max_page_items=fetch_limits()[1])
    except registry.PagingError as exc:
        raise unprocessable(exc.message, code=exc.code) from None
    batch = ProspectImport(
        source_id=source_id,
        digest=f"fetch:{uuid.uuid4().hex}",
        filename=f"{source.name[:100]}.json",
        content=None,  # the job fetches it
        created_by=actor.id,
    )
    session.add(batch)
    session.flush()
    audit.record(
        session,
        actor_id=actor.id,
        action="prospect.import",
        object_type="prospect_import",
        object_id=batch.id,
        ip=ip,
        detail={"source_id": source_id, "fetch": True},
    )
    events.publish(session, EVENT_IMPORT, {"import_id": batch.id})
    session.commit()
    return batch


def list_imports(session: Session, *, limit: int = 20, offset: int = 0) -> dict[str, Any]:
    """The most recent imports first, a page at a time (without their errors: `import_errors`)."""
    found = session.exec(
        select(ProspectImport).order_by(col(ProspectImport.id).desc()).offset(offset).limit(limit + 1)
    ).all()
    return {
        "items": [import_public(b, with_errors=False) for b in found[:limit]],
        "limit": limit,
        "offset": offset,
        "has_more": len(found) > limit,
    }


def import_errors(batch: ProspectImport, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """One import's bad rows (or its failure), a page at a time, in the order they were found."""
    errors = batch.errors or []
    return {
        "items": errors[offset : offset + limit],
        "total": len(errors),
        "limit": limit,
        "offset": offset,
        "has_more": offset + limit < len(errors),
    }


def import_public(batch: ProspectImport, *, with_errors: bool = True) -> dict[str, Any]:
    out = {
        "id": batch.id,
        "source_id": batch.source_id,
        "kind": "fetch" if batch.digest.startswith("fetch:") else "file",
        "filename": batch.filename,
        "status": batch.status,
        "rows": batch.rows,
        "processed": batch.processed,
        "created": batch.created,
        "updated": batch.updated,
        "unchanged": batch.unchanged,
        "merged": batch.merged,
        "errors": batch.errors,
        "error_count": len(batch.errors or []),
        "created_at": iso(batch.created_at),
        "finished_at": iso(batch.finished_at) if batch.finished_at else None,
    }
    if not with_errors:
        del out["errors"]
    return out
