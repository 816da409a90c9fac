"""Intel rules: sources and their error log, ingesting entries (deduplicated), matching pending
items into alerts (idempotent), the RM's feed, mutes and the actions an alert offers.

Every write here is safe to repeat: items are inserted ON CONFLICT (fingerprint) DO NOTHING, alerts
ON CONFLICT (item_id, customer_id) DO NOTHING, and an item's alerts are written in the transaction
that marks it matched, so a worker killed at any point leaves either nothing or everything."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from server import events
from server.audit import service as audit
from server.customers.models import Customer
from server.customers.service import get_customer_for, visible_owner_ids
from server.db import rows_affected
from server.errors import Problem, forbidden, not_found
from server.inbox import service as inbox
from server.intel import funding
from server.intel.matching import NOTIFY_SCORE, CustomerIndex
from server.intel.models import (
    CATEGORY_LABELS,
    Category,
    IntelAlert,
    IntelItem,
    IntelItemSource,
    IntelMute,
    IntelSource,
    IntelSourceError,
    SourceKind,
)
from server.intel.parsing import Entry
from server.org.models import Role, User
from server.reference import industry_name
from server.timeutil import as_utc, iso, utcnow

log = logging.getLogger(__name__)

EVENT_POLL = "intel.poll_requested"  # {source_id}: tasks enqueue a poll now
EVENT_INGESTED = "intel.items_ingested"  # {source_id}: tasks enqueue matching of pending items
ALERT_BATCH = 5000


def _insert(session: Session, table):
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


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
        raise Problem(
            422,
            "Unprocessable Content",
            "A polled source needs an http(s) URL.",
            code="validation",
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
        raise Problem(409, "Conflict", "Only feed and json sources are polled.", code="not-polled")
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
            _insert(session, IntelItem)
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
        _insert(session, IntelItemSource)
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
        raise Problem(409, "Conflict", "Items are typed in only on manual sources.", code="not-manual")
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
        raise Problem(409, "Conflict", "Files are uploaded only to upload sources.", code="not-upload")
    try:
        entries = parse("upload", content, filename=filename, mapping=source.mapping)
    except ParseError as exc:
        record_error(session, source_id=source_id, stage="parse", code=exc.code, message=exc.message)
        raise Problem(422, "Unprocessable Content", exc.message, code=f"intel-{exc.code}") from None
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
        statement = _insert(session, IntelAlert).on_conflict_do_nothing(
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


# --- the RM's feed ----------------------------------------------------------------------------


def _owner_ids(session: Session, user: User) -> list[int]:
    if user.role not in (Role.rm, Role.team_lead):
        raise forbidden("Only relationship managers and team leads read intel alerts.")
    return visible_owner_ids(session, user=user)


def alert_public(alert: IntelAlert, item: IntelItem, customer: Customer) -> dict[str, Any]:
    return {
        "id": alert.id,
        "item_id": item.id,
        "category": alert.category,
        "category_label": CATEGORY_LABELS[Category(alert.category)],
        "title": item.title,
        "summary": item.summary[:280],
        "url": item.url,
        "published_at": iso(item.published_at),
        "customer": {
            "id": customer.id,
            "name": customer.name,
            "industry_name": industry_name(customer.industry_code),
            "region_name": customer.region_name,
        },
        "rm_id": alert.rm_id,
        "score": alert.score,
        "reason": alert.reason,
        "signals": alert.signals,
        "sentiment": alert.sentiment,
        "sentiment_label": {"favourable": "利好", "unfavourable": "利空"}.get(alert.sentiment, "中性"),
        "has_funding_need": alert.funding_need is not None,
        "read": alert.read_at is not None,
        "created_at": iso(alert.created_at),
    }


def feed(
    session: Session,
    *,
    user: User,
    category: str | None = None,
    unread: bool = False,
    customer_id: int | None = None,
    min_score: int = 0,
    before_id: int | None = None,
    limit: int = 30,
) -> list[dict[str, Any]]:
    owners = _owner_ids(session, user)
    if not owners:
        return []
    conditions: list[Any] = [col(IntelAlert.rm_id).in_(owners), col(IntelAlert.dismissed_at).is_(None)]
    if category:
        conditions.append(IntelAlert.category == category)
    if unread:
        conditions.append(col(IntelAlert.read_at).is_(None))
    if customer_id:
        conditions.append(IntelAlert.customer_id == customer_id)
    if min_score:
        conditions.append(IntelAlert.score >= min_score)
    if before_id:
        conditions.append(col(IntelAlert.id) < before_id)
    rows = session.exec(
        select(IntelAlert, IntelItem, Customer)
        .join(IntelItem, col(IntelItem.id) == col(IntelAlert.item_id))
        .join(Customer, col(Customer.id) == col(IntelAlert.customer_id))
        .where(and_(*conditions))
        .order_by(col(IntelAlert.id).desc())
        .limit(limit)
    ).all()
    return [alert_public(a, i, c) for a, i, c in rows]


def customer_alerts(
    session: Session, *, user: User, customer_id: int, limit: int = 20
) -> list[dict[str, Any]]:
    """Alerts on one customer's page: anyone who may see the customer sees its alerts."""
    customer = get_customer_for(session, user=user, customer_id=customer_id)
    rows = session.exec(
        select(IntelAlert, IntelItem)
        .join(IntelItem, col(IntelItem.id) == col(IntelAlert.item_id))
        .where(IntelAlert.customer_id == customer_id, col(IntelAlert.dismissed_at).is_(None))
        .order_by(col(IntelAlert.id).desc())
        .limit(limit)
    ).all()
    return [alert_public(a, i, customer) for a, i in rows]


def get_alert_for(session: Session, *, user: User, alert_id: int) -> IntelAlert:
    alert = session.get(IntelAlert, alert_id)
    if alert is None or alert.rm_id not in _owner_ids(session, user):
        raise not_found("alert")
    return alert


def actions(alert: IntelAlert, item: IntelItem, customer: Customer) -> list[dict[str, Any]]:
    """What the RM can do next. Each action is a request the PWA sends as is (the opportunity and
    war-room APIs own the rules); `available` is part of the PWA contract (both APIs always ship)."""
    need = alert.funding_need or {}
    amount = need.get("need_cents") or item.amount_cents
    note = f"情报：{item.title}。{alert.reason}"
    out = []
    contract = item.event_kind in ("tender_won", "contract_signed", "large_transaction")
    out.append(
        {
            "action": "create_opportunity",
            "label": "创建商机",
            "available": True,
            "method": "POST",
            "url": "/api/v1/opportunities",
            "body": {
                "title": f"{customer.name}：{item.title}"[:128],
                "customer_id": customer.id,
                "estimated_amount_cents": amount,
                "expected_date": need.get("apply_by") or need.get("need_from"),
                "source": "contract_signal" if contract else "intel_alert",
                "source_ref": f"intel_alert:{alert.id}",
                "note": note[:500],
            },
        }
    )
    out.append(
        {
            "action": "start_war_room",
            "label": "发起作战室",
            "available": True,
            "method": "POST",
            "url": "/api/v1/war-rooms/quick",
            "body": {
                "source_type": "intel_alert",
                "source_id": alert.id,
                "title": (f"{customer.name} 资金需求" if need else f"{customer.name}：{item.title}")[:128],
                "customer_id": customer.id,
                "kind": "project_marketing",
                "invite_suggested": True,  # one tap: the room starts with its suggested members invited
            },
        }
    )
    return out


def alert_detail(session: Session, *, user: User, alert_id: int) -> dict[str, Any]:
    alert = get_alert_for(session, user=user, alert_id=alert_id)
    item = session.get(IntelItem, alert.item_id)
    customer = session.get(Customer, alert.customer_id)
    assert item is not None and customer is not None
    owners = _owner_ids(session, user)
    others = session.exec(
        select(IntelAlert, Customer)
        .join(Customer, col(Customer.id) == col(IntelAlert.customer_id))
        .where(IntelAlert.item_id == item.id, col(IntelAlert.rm_id).in_(owners))
        .order_by(col(IntelAlert.score).desc(), col(IntelAlert.id))
        .limit(50)
    ).all()
    sources = session.exec(
        select(IntelSource.name)
        .join(IntelItemSource, col(IntelItemSource.source_id) == col(IntelSource.id))
        .where(IntelItemSource.item_id == item.id)
    ).all()
    out = alert_public(alert, item, customer)
    out.update(
        {
            "summary": item.summary,
            "funding_need": alert.funding_need,
            "funding_need_text": (
                f"预计资金需求 {funding.yuan(alert.funding_need['need_cents'])}"
                if alert.funding_need
                else None
            ),
            "enrichment": {
                "companies": item.companies,
                "credit_codes": item.credit_codes,
                "amount_cents": item.amount_cents,
                "dates": item.dates,
                "region_codes": item.region_codes,
                "industry_codes": item.industry_codes,
                "event_kind": item.event_kind,
                "sentiment_terms": item.sentiment_terms,
            },
            "sources": list(sources),
            "matched_customers": [
                {
                    "alert_id": a.id,
                    "customer_id": c.id,
                    "name": c.name,
                    "score": a.score,
                    "reason": a.reason,
                    "sentiment": a.sentiment,
                }
                for a, c in others
            ],
            "actions": actions(alert, item, customer),
        }
    )
    return out


def set_alert_state(
    session: Session, *, user: User, alert_id: int, read: bool | None, dismissed: bool | None
) -> dict:
    alert = get_alert_for(session, user=user, alert_id=alert_id)
    if alert.rm_id != user.id:
        raise forbidden("Only the customer's RM changes an alert's state.")
    now = utcnow()
    if read is not None:
        alert.read_at = now if read else None
    if dismissed is not None:
        alert.dismissed_at = now if dismissed else None
    session.add(alert)
    session.commit()
    return {"id": alert.id, "read": alert.read_at is not None, "dismissed": alert.dismissed_at is not None}


def unread_counts(session: Session, *, user: User) -> dict[str, int]:
    from sqlmodel import func

    owners = _owner_ids(session, user)
    if not owners:
        return {}
    rows = session.exec(
        select(IntelAlert.category, func.count())
        .where(
            col(IntelAlert.rm_id).in_(owners),
            col(IntelAlert.read_at).is_(None),
            col(IntelAlert.dismissed_at).is_(None),
        )
        .group_by(IntelAlert.category)
    ).all()
    return {str(category): count for category, count in rows}


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
        _insert(session, IntelMute)
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
