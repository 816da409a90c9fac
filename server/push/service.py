"""Push subscriptions (several devices per user) and the push payload: a hint with no personal
data. The inbox holds the words; the push says only that there is something to read and where."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from server import outbound
from server.config import Settings
from server.errors import conflict, not_found, unprocessable
from server.inbox.models import Notification
from server.push.device import device_of
from server.push.models import PushSubscription
from server.timeutil import iso, utcnow

MAX_PAYLOAD_BYTES = 3000  # under the 4 KB push services accept, after encryption overhead
MAX_DEVICES = 10

# Generic, personal-data-free titles per kind (zh-CN: the RMs' language). Never a customer name.
PUSH_TITLES = {
    "note": "记事提醒",
    "birthday": "客户生日提醒",
    "maturity": "业务到期提醒",
    "follow_up": "客户跟进提醒",
    "war_room_task": "作战室任务到期",
}


def endpoint_hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


def _b64_len(value: str) -> int:
    try:
        return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, TypeError):
        return -1


def _is_p256_point(value: str) -> bool:
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except (ValueError, TypeError):
        return False
    return len(raw) == 65


def check_endpoint(endpoint: str, *, settings: Settings) -> None:
    """A push endpoint must be https on a public address (resolved, every address checked) and,
    when PUSH_SERVICE_HOSTS is set, on one of those push services; OUTBOUND_ALLOW_HOSTS lets an
    internal push service (or the test suite's stand-in) through."""
    policy = outbound.policy_for(settings)
    host = (urlsplit(endpoint).hostname or "").lower()
    allowed = [h.lower() for h in settings.PUSH_SERVICE_HOSTS]
    if (
        allowed
        and not policy.host_allowed(host)
        and not any(host == h or (h.startswith(".") and host.endswith(h)) for h in allowed)
    ):
        raise unprocessable("This push service is not allowed.", code="push-endpoint-refused")
    try:
        outbound.check_url(endpoint, policy, require_https=True)
    except outbound.OutboundRefused as exc:
        raise unprocessable(
            f"This push endpoint is not allowed: {exc.message}", code="push-endpoint-refused"
        ) from None


def subscribe(
    session: Session,
    *,
    user_id: int,
    endpoint: str,
    p256dh: str,
    auth: str,
    user_agent: str | None,
    settings: Settings,
) -> PushSubscription:
    """Adds this device, or moves an endpoint to this user (a shared phone changing hands)."""
    check_endpoint(endpoint, settings=settings)
    if not _is_p256_point(p256dh):
        raise unprocessable("keys.p256dh is not a P-256 public key.")
    if _b64_len(auth) != 16:
        raise unprocessable("keys.auth must be 16 bytes.")
    digest = endpoint_hash(endpoint)
    sub = session.exec(select(PushSubscription).where(PushSubscription.endpoint_hash == digest)).first()
    if sub is None:
        count = len(
            session.exec(select(PushSubscription.id).where(PushSubscription.user_id == user_id)).all()
        )
        if count >= MAX_DEVICES:
            raise conflict(f"At most {MAX_DEVICES} devices; remove one first.", code="too-many-devices")
        sub = PushSubscription(user_id=user_id, endpoint=endpoint, endpoint_hash=digest, p256dh="", auth="")
    sub.user_id, sub.p256dh, sub.auth = user_id, p256dh, auth
    sub.user_agent = (user_agent or "")[:255] or None
    session.add(sub)
    session.commit()
    return sub


def unsubscribe(session: Session, *, user_id: int, endpoint: str) -> None:
    sub = session.exec(
        select(PushSubscription).where(
            PushSubscription.endpoint_hash == endpoint_hash(endpoint), PushSubscription.user_id == user_id
        )
    ).first()
    if sub is None:
        raise not_found("subscription")
    session.delete(sub)
    session.commit()


def remove_device(session: Session, *, user_id: int, subscription_id: int) -> None:
    """Settings: stop pushing to one of this user's devices (a lost or replaced phone), which cannot
    unsubscribe itself. Another user's device does not exist, as far as this user knows."""
    sub = session.get(PushSubscription, subscription_id)
    if sub is None or sub.user_id != user_id:
        raise not_found("subscription")
    session.delete(sub)
    session.commit()


def devices(session: Session, *, user_id: int) -> list[dict[str, Any]]:
    rows = session.exec(
        select(PushSubscription)
        .where(PushSubscription.user_id == user_id)
        .order_by(col(PushSubscription.created_at))
    ).all()
    return [
        {
            "id": s.id,
            "endpoint_hash": s.endpoint_hash,
            "push_service": s.endpoint.split("/")[2] if "://" in s.endpoint else "",
            "device": device_of(s.user_agent),  # platform and browser, not the raw header
            "created_at": iso(s.created_at),
            "last_success_at": iso(s.last_success_at),
        }
        for s in rows
    ]


def payload(n: Notification) -> bytes:
    """What the service worker shows: {title, body, url, tag}. Only a generic title and the deep
    link (ids, no names) leave the bank; the app fetches the words from the inbox."""
    body = "有一条迟到的提醒，点开查看" if n.late else "点开展业查看详情"
    data = json.dumps(
        {
            "title": PUSH_TITLES.get(n.kind, "新通知"),
            "body": body,
            "url": n.url,
            "tag": f"n{n.id}",
            "id": n.id,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    if len(data) > MAX_PAYLOAD_BYTES:
        raise ValueError("push payload too large")
    return data


def topic(n: Notification) -> str:
    """RFC 8030 Topic: a newer message on the same source replaces an undelivered older one."""
    return base64.urlsafe_b64encode(hashlib.sha256(n.source_key.encode()).digest()[:18]).decode()


def mark_success(session: Session, *, subscription_ids: list[int]) -> None:
    if not subscription_ids:
        return
    from sqlalchemy import update

    session.execute(
        update(PushSubscription)
        .where(col(PushSubscription.id).in_(subscription_ids))
        .values(last_success_at=utcnow())
    )
