"""The import job: an import's rows loaded into prospects (queued by server/prospects/imports.py).

- Idempotent: a row is an upsert by credit code, so a re-run adds nothing and a row that changes
  nothing is counted `unchanged`.
- Resumable: rows are written in batches, each committed with the progress, so a worker killed
  mid-job leaves whole batches; the retried job starts after the last committed one.
- A JSON source (a bank's registry API) is fetched first through the guarded client
  (server/outbound.py: no internal address unless allow-listed), page by page when the API pages
  its answer (server/prospects/registry.py), then loads like a file.
- Every field written remembers its source and date in `field_sources`. A credit code that belongs to
  a customer is stored `merged` (never shown), one that becomes a customer later `converted`."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import update
from sqlmodel import Session, col, select

from server import outbound
from server.customers.models import CorporateProfile
from server.db import row_id
from server.errors import Problem
from server.intel.fetch import FetchError, fetch
from server.intel.models import IntelSource
from server.prospects import registry
from server.prospects.conversions import record_conversions
from server.prospects.extracts import (
    LINK_COLUMNS,
    RowError,
    fetch_limits,
    read_rows,
    upload_limits,
    validate_row,
)
from server.prospects.imports import import_public
from server.prospects.models import LINK_LABELS, Prospect, ProspectImport, ProspectLink, ProspectStatus
from server.timeutil import utcnow

BATCH = 500
MAX_ERRORS = 500
# the prospect's own fields a row sets; each remembers its source in `field_sources`
FIELDS = (
    "name",
    "industry_code",
    "size",
    "ownership",
    "registered_capital_cents",
    "founded_on",
    "address",
    "region_code",
    "latitude",
    "longitude",
    "park",
)


def _fetch_failed(
    session: Session, batch: ProspectImport, *, code: str, reason: str, page: int | None
) -> bool:
    """The fetch failed for good: nothing of it is loaded, and the error names the page."""
    error = {"line": None, "field": None, "page": page, "reason": reason[:500], "code": code}
    batch.status, batch.errors, batch.finished_at, batch.content = "failed", [error], utcnow(), None
    session.add(batch)
    session.commit()
    return False


def fetch_pending(batch: ProspectImport) -> bool:
    """A fetch import whose answer is not (all) read yet."""
    if not batch.digest.startswith("fetch:"):
        return False
    if batch.content is None:
        return True
    kept = registry.read_envelope(batch.content)
    return kept is not None and kept.get("next") is not None


def _fetch_content(
    session: Session, batch: ProspectImport, source: IntelSource, *, final_attempt: bool
) -> bool:
    """Reads a JSON source's answer into the import, page by page, each page committed as soon as
    it is read, so a retried job resumes at the page that failed. False when the import failed for
    good (the error names the page); a transient failure raises for the job's retry (and on the
    final attempt fails the import)."""
    max_bytes, max_rows, _unpacked = upload_limits()
    max_pages, max_page_items = fetch_limits()
    settings = current_app.config["SETTINGS"] if has_app_context() else None
    policy = outbound.policy_for(settings) if settings is not None else outbound.Policy()
    mapping = source.mapping or {}
    source_url = source.url or ""
    try:
        paging = registry.paging_of(mapping, max_page_items=max_page_items)
    except registry.PagingError as exc:
        return _fetch_failed(session, batch, code=exc.code, reason=exc.message, page=None)
    kept = registry.read_envelope(batch.content) or {
        registry.ENVELOPE: [],
        "next": registry.page_url(source_url, paging, 0, 0),
        "urls": [],
    }
    # An API that does not page may answer the whole list at once, up to the row limit.
    page_cap = max_rows if paging.mode == "single" else max_page_items
    pages: list[list] = kept[registry.ENVELOPE]
    urls: list[str] = kept["urls"]
    url: str | None = kept["next"]
    while url is not None:
        index = len(pages)
        page = index + 1
        if index >= max_pages:
            return _fetch_failed(
                session,
                batch,
                code="prospect-fetch-too-many-pages",
                reason=f"The API has more than {max_pages} pages.",
                page=page,
            )
        try:
            fetched = fetch(url, max_bytes=max_bytes, policy=policy)
        except FetchError as exc:
            code, reason = f"prospect-fetch-{exc.code}", f"Page {page}: {exc.message}"
            if exc.transient and not final_attempt:
                # Shown while the job waits for its retry, which starts again at this page.
                batch.errors = [{"line": None, "field": None, "page": page, "reason": reason, "code": code}]
                session.add(batch)
                session.commit()
                raise
            return _fetch_failed(session, batch, code=code, reason=reason, page=page)
        try:
            data, items = registry.read_page(fetched.body, mapping, page=page, max_page_items=page_cap)
            total = sum(len(p) for p in pages) + len(items)
            if total > max_rows:
                raise registry.PagingError(
                    "prospect-file-too-many-rows", f"Page {page}: more than {max_rows} items in all."
                )
            following = registry.next_after(
                paging,
                source_url=source_url,
                url=url,
                data=data,
                items=items,
                index=index,
                total=total,
                previous=pages[-1] if pages else None,
                seen={*urls, url},
            )
        except registry.PagingError as exc:
            return _fetch_failed(session, batch, code=exc.code, reason=exc.message, page=page)
        pages.append(items)
        urls.append(url)
        url = following
        batch.content, batch.errors = registry.envelope(pages, url, urls), []
        session.add(batch)
        session.commit()
    return True


def _apply(
    session: Session,
    *,
    fields: dict[str, Any],
    stamp: dict[str, Any],
    source_id: int,
    customers: dict[str, int],
    existing: dict[str, Prospect],
) -> str:
    links = fields.pop("_links")
    code = fields["credit_code"]
    prospect = existing.get(code)
    outcome = "unchanged"
    if prospect is None:
        merged_into = customers.get(code)
        prospect = Prospect(
            **fields,
            status=ProspectStatus.merged if merged_into else ProspectStatus.open,
            customer_id=merged_into,
            field_sources={f: stamp for f in ("credit_code", *FIELDS) if fields.get(f) is not None},
        )
        session.add(prospect)
        if links:
            session.flush()  # its id, for the links below
        outcome = "merged" if merged_into else "created"
    else:
        changed = {
            f: fields[f] for f in FIELDS if fields.get(f) is not None and getattr(prospect, f) != fields[f]
        }
        if changed:
            for f, v in changed.items():
                setattr(prospect, f, v)
            prospect.field_sources = {**prospect.field_sources, **{f: stamp for f in changed}}
            prospect.version += 1
            prospect.updated_at = utcnow()
            session.add(prospect)
            outcome = "updated"
    for column, other in links.items():
        customer_id = customers.get(other)
        if customer_id is None:
            continue  # not our customer: nothing ties the prospect to the book
        kind = LINK_COLUMNS[column]
        exists = session.exec(
            select(ProspectLink.id).where(
                col(ProspectLink.prospect_id) == prospect.id,
                col(ProspectLink.kind) == kind,
                col(ProspectLink.customer_id) == customer_id,
            )
        ).first()
        if exists is None:
            session.add(
                ProspectLink(
                    prospect_id=row_id(prospect),
                    kind=kind,
                    customer_id=customer_id,
                    label=LINK_LABELS[kind],
                    source_id=source_id,
                )  # type: ignore[arg-type]
            )
            if outcome == "unchanged":
                outcome = "updated"
    return outcome


def run_import(session: Session, *, import_id: int, final_attempt: bool = True) -> dict[str, Any]:
    batch = session.get(ProspectImport, import_id)
    if batch is None or batch.status in ("done", "failed"):
        return {"skipped": True}
    source = session.get(IntelSource, batch.source_id)
    if source is not None and fetch_pending(batch):
        if not _fetch_content(session, batch, source, final_attempt=final_attempt):
            return {"failed": batch.errors[0]["code"]}
    stamp = {
        "source": source.name if source else "?",
        "source_id": batch.source_id,
        "at": batch.created_at.date().isoformat(),
    }
    try:
        rows = read_rows(batch.filename, batch.content or b"", source.mapping if source else None)
    except Problem as exc:
        batch.status = "failed"
        batch.errors = [{"line": None, "field": None, "reason": exc.detail, "code": exc.code}]
        batch.finished_at = utcnow()
        batch.content = None
        session.add(batch)
        session.commit()
        return {"failed": exc.code}
    page_of = registry.page_of_item(batch.content)  # a paged fetch's errors name the page too
    start = batch.processed  # a retried job resumes after the last committed batch
    batch.status, batch.rows = "running", len(rows)
    session.add(batch)
    session.commit()
    codes = {str(r.get(c) or "").strip().upper() for _l, r in rows for c in ("credit_code", *LINK_COLUMNS)}
    customers = (
        dict(
            session.exec(
                select(CorporateProfile.credit_code, CorporateProfile.customer_id).where(
                    col(CorporateProfile.credit_code).in_(codes)
                )
            ).all()
        )
        if codes
        else {}
    )
    seen: set[str] = set(str(r.get("credit_code") or "").strip().upper() for _l, r in rows[:start])
    for at in range(start, len(rows), BATCH):
        counts = {"created": 0, "updated": 0, "unchanged": 0, "merged": 0}
        errors: list[dict[str, Any]] = []
        chunk = rows[at : at + BATCH]
        chunk_codes = [str(r.get("credit_code") or "").strip().upper() for _l, r in chunk]
        existing = {
            p.credit_code: p
            for p in session.exec(select(Prospect).where(col(Prospect.credit_code).in_(chunk_codes))).all()
            if p.credit_code
        }
        for line, row in chunk:
            try:
                fields = validate_row(row)
                if fields["credit_code"] in seen:
                    raise RowError("credit_code", "文件中重复的统一社会信用代码")
                seen.add(fields["credit_code"])
                counts[
                    _apply(
                        session,
                        fields=fields,
                        stamp=stamp,
                        source_id=batch.source_id,
                        customers=customers,
                        existing=existing,
                    )
                ] += 1
            except RowError as exc:
                error = {"line": line, "field": exc.field, "reason": exc.reason}
                errors.append({**error, "page": page_of(line)} if page_of else error)
        processed = min(len(rows), at + BATCH)
        # The batch's rows and the progress that covers them commit together.
        session.execute(
            update(ProspectImport)
            .where(col(ProspectImport.id) == import_id)
            .values(
                processed=processed,
                created=ProspectImport.created + counts["created"],
                updated=ProspectImport.updated + counts["updated"],
                unchanged=ProspectImport.unchanged + counts["unchanged"],
                merged=ProspectImport.merged + counts["merged"],
            )
        )
        if errors:
            session.refresh(batch)
            batch.errors = (batch.errors + errors)[:MAX_ERRORS]
            session.add(batch)
        session.commit()
    session.execute(
        update(ProspectImport)
        .where(col(ProspectImport.id) == import_id)
        .values(status="done", finished_at=utcnow(), content=None)
    )
    session.commit()
    record_conversions(session)
    session.refresh(batch)
    return import_public(batch)
