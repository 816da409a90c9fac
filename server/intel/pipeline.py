"""Intel pipeline: ingesting entries (deduplicated) and matching pending items into alerts
(idempotent), with one inbox notification per RM and item.

Every write here is safe to repeat: items are inserted ON CONFLICT (fingerprint) DO NOTHING, alerts
ON CONFLICT (item_id, customer_id) DO NOTHING, and an item's alerts are written in the transaction
that marks it matched, so a worker killed at any point leaves either nothing or everything."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from server import events
from server.audit import service as audit
from server.errors import conflict, unprocessable
from server.inbox import service as inbox
from server.intel.matching import NOTIFY_SCORE, CustomerIndex
from server.intel.models import (
    Category,
    IntelAlert,
    IntelItem,
    IntelItemSource,
    IntelMute,
    IntelSource,
    SourceKind,
)
from server.intel.parsing import Entry
from server.intel.sources import get_source, record_error
from server.org.models import User
from server.timeutil import as_utc, utcnow

EVENT_INGESTED = "intel.items_ingested"  # {source_id}: tasks enqueue matching of pending items
ALERT_BATCH = 5000


def dialect_insert(session: Session, table):
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


# --- ingest -----------------------------------------------------------------------------------


def ingest(
    session: Session, *, source: IntelSource, entries: list[Entry], now: datetime | None = None
) -> int:
    """Stores entries as items (one per fingerprint) and notes that this source carried them.
    Returns how many items are new. Running it again with the same entries adds nothing."""
    from server.intel.enrich import fingerprint

    now = now or utcnow()
    valid = {c.value for c in Category}
    rows: dict[str, dict[str, Any]] = {}
    for entry in entries:
        fp = fingerprint(entry.title, entry.summary)
        if fp in rows:
            continue
        rows[fp] = {
            "fingerprint": fp,
            "category": entry.category if entry.category in valid else source.category,
            "title": entry.title[:300],
            "summary": entry.summary[:4000],
            "url": entry.url,
            "published_at": as_utc(entry.published) if entry.published else now,
            "source_id": source.id,
            "created_at": now,
            "companies": [],
            "credit_codes": [],
            "dates": [],
            "region_codes": [],
            "industry_codes": [],
            "sentiment": "neutral",
            "sentiment_terms": [],
        }
    if not rows:
        return 0
    created = 0
    values = list(rows.values())
    for start in range(0, len(values), 200):
        chunk = values[start : start + 200]
        statement = (
            dialect_insert(session, IntelItem)
            .values(chunk)
            .on_conflict_do_nothing(index_elements=["fingerprint"])
            .returning(col(IntelItem.id))
        )
        created += len(session.execute(statement).all())
    ids = dict(
        session.execute(
            select(IntelItem.fingerprint, IntelItem.id).where(col(IntelItem.fingerprint).in_(list(rows)))
        ).all()
    )
    external = {fingerprint(e.title, e.summary): e.external_id for e in entries}
    links = [
        {"item_id": ids[fp], "source_id": source.id, "external_id": external.get(fp), "seen_at": now}
        for fp in rows
        if fp in ids
    ]
    session.execute(
        dialect_insert(session, IntelItemSource)
        .values(links)
        .on_conflict_do_nothing(index_elements=["item_id", "source_id"])
    )
    session.commit()
    return created


def add_manual_item(
    session: Session, *, actor: User, source_id: int, data: Any, ip: str | None = None
) -> int:
    source = get_source(session, source_id)
    if source.kind != SourceKind.manual:
        raise conflict("Items are typed in only on manual sources.", code="not-manual")
    entry = Entry(
        title=data.title,
        summary=data.summary or "",
        url=data.url,
        published=data.published_at,
        category=data.category,
    )
    created = ingest(session, source=source, entries=[entry])
    audit.record(
        session,
        actor_id=actor.id,
        action="intel.item.manual",
        object_type="intel_source",
        object_id=str(source_id),
        ip=ip,
        detail={"title": data.title[:100]},
    )
    events.publish(session, EVENT_INGESTED, {"source_id": source_id})
    session.commit()
    return created


def upload(
    session: Session, *, actor: User, source_id: int, filename: str, content: bytes, ip: str | None
) -> dict:
    from server.intel.parsing import ParseError, parse

    source = get_source(session, source_id)
    if source.kind != SourceKind.upload:
        raise conflict("Files are uploaded only to upload sources.", code="not-upload")
    try:
        entries = parse("upload", content, filename=filename, mapping=source.mapping)
    except ParseError as exc:
        record_error(session, source_id=source_id, stage="parse", code=exc.code, message=exc.message)
        raise unprocessable(exc.message, code=f"intel-{exc.code}") from None
    created = ingest(session, source=source, entries=entries)
    audit.record(
        session,
        actor_id=actor.id,
        action="intel.upload",
        object_type="intel_source",
        object_id=str(source_id),
        ip=ip,
        detail={"filename": filename[:100], "rows": len(entries), "new": created},
    )
    events.publish(session, EVENT_INGESTED, {"source_id": source_id})
    session.commit()
    return {"rows": len(entries), "new_items": created}


# --- matching ---------------------------------------------------------------------------------


def _mutes(session: Session, rm_ids: set[int]) -> dict[int, set[tuple[str, str]]]:
    out: dict[int, set[tuple[str, str]]] = defaultdict(set)
    if rm_ids:
        for rm_id, kind, value in session.execute(
            select(IntelMute.rm_id, IntelMute.kind, IntelMute.value).where(col(IntelMute.rm_id).in_(rm_ids))
        ):
            out[rm_id].add((kind, value))
    return out


def _notify(
    session: Session, *, rm_id: int, item: IntelItem, alerts: list[dict], names: dict[int, str]
) -> None:
    """One notification per (RM, item), naming the customers it concerns; the inbox stores it once per
    source key, so a re-run cannot notify twice."""
    top = max(alerts, key=lambda a: a["score"])
    who = "、".join(names.get(a["customer_id"], "") for a in alerts[:3]) + ("等" if len(alerts) > 3 else "")
    title = f"情报：{item.title}"[:128]
    body = f"{who}：{top['reason']}"[:1000]
    url = f"/intel/alerts/{top['id']}"
    inbox.notify(
        session,
        user_id=rm_id,
        kind="intel",
        title=title,
        body=body,
        url=url,
        source_key=f"intel:{item.id}",
        urgency="high" if top["score"] >= 90 else "normal",
    )


def match_items(
    session: Session, *, items: list[IntelItem], index: CustomerIndex, now: datetime | None = None
) -> dict:
    """Enriches items, writes their alerts and marks them matched — in the caller's transaction.
    Batched: one mute lookup and one multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING for all."""
    now = now or utcnow()
    per_item = []
    for item in items:
        published = as_utc(item.published_at or item.created_at).date()
        enrichment, found, matches = index.match(
            title=item.title, summary=item.summary, category=item.category, published=published
        )
        item.companies = sorted({f.text for f in found})
        item.credit_codes = enrichment.credit_codes
        item.amount_cents = enrichment.amount_cents
        item.dates = [d.isoformat() for d in enrichment.dates]
        item.region_codes = enrichment.region_codes
        item.industry_codes = enrichment.industry_codes
        item.sentiment = enrichment.sentiment  # type: ignore[assignment]
        item.sentiment_terms = enrichment.sentiment_terms[:20]
        item.event_kind = enrichment.event_kind
        item.matched_at = now
        session.add(item)
        per_item.append((item, matches))
    mutes = _mutes(session, {m.rm_id for _item, matches in per_item for m in matches})
    rows: list[dict[str, Any]] = []
    for item, matches in per_item:
        category = str(item.category)
        for m in matches:
            muted = mutes.get(m.rm_id)
            if muted and (("category", category) in muted or ("customer", str(m.customer_id)) in muted):
                continue
            rows.append(
                {
                    "item_id": item.id,
                    "customer_id": m.customer_id,
                    "rm_id": m.rm_id,
                    "category": category,
                    "score": m.score,
                    "reason": m.reason,
                    "signals": m.signals,
                    "sentiment": m.sentiment,
                    "funding_need": m.funding_need,
                    "notified": m.score >= NOTIFY_SCORE,
                    "created_at": now,
                }
            )
    inserted: list[dict] = []
    if rows:
        # Alerts that exist already (an earlier, interrupted run) are neither written nor notified
        # again; a concurrent run racing past this check is stopped by the unique constraint, and the
        # inbox stores one notification per (user, item) whatever happens.
        existing = set(
            session.execute(
                select(IntelAlert.item_id, IntelAlert.customer_id).where(
                    col(IntelAlert.item_id).in_([item.id for item in items])
                )
            ).all()
        )
        fresh = [r for r in rows if (r["item_id"], r["customer_id"]) not in existing]
        statement = dialect_insert(session, IntelAlert).on_conflict_do_nothing(
            index_elements=["item_id", "customer_id"]
        )
        for start in range(0, len(fresh), ALERT_BATCH):
            session.execute(statement, fresh[start : start + ALERT_BATCH])
        inserted = fresh
    to_notify: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for row in inserted:
        if row["notified"]:
            to_notify[(row["item_id"], row["rm_id"])].append(row)
    if to_notify:
        ids = dict(
            ((item_id, customer_id), alert_id)
            for alert_id, item_id, customer_id in session.execute(
                select(IntelAlert.id, IntelAlert.item_id, IntelAlert.customer_id).where(
                    col(IntelAlert.item_id).in_([item_id for item_id, _rm in to_notify]),
                    col(IntelAlert.notified).is_(True),
                )
            ).all()
        )
        for alerts in to_notify.values():
            for alert in alerts:
                alert["id"] = ids.get((alert["item_id"], alert["customer_id"]))
    by_id = {item.id: item for item in items}
    for (item_id, rm_id), alerts in to_notify.items():
        alerts.sort(key=lambda a: -a["score"])
        _notify(session, rm_id=rm_id, item=by_id[item_id], alerts=alerts, names=index.name_of)
    return {"items": len(items), "alerts": len(inserted), "notified": sum(len(a) for a in to_notify.values())}


def match_pending(session: Session, *, index: CustomerIndex, limit: int = 1000, batch: int = 50) -> dict:
    """Matches items not yet matched, `batch` items per transaction, oldest first."""
    totals = {"items": 0, "alerts": 0, "notified": 0}
    while totals["items"] < limit:
        items = session.exec(
            select(IntelItem)
            .where(col(IntelItem.matched_at).is_(None))
            .order_by(col(IntelItem.id))
            .limit(batch)
        ).all()
        if not items:
            break
        result = match_items(session, items=list(items), index=index)
        session.commit()
        for key in totals:
            totals[key] += result[key]
    return totals
