"""Delivery channels behind one small interface. The inbox (always) and the live socket carry every
notification on their own; channels are extra ways to reach a phone that is not looking. A bank adds
one (an SMS gateway, its enterprise messenger) by writing a class with `name` and `send` and listing
it in `CHANNELS`; reminder code never changes.

Channels return what happened (`Attempt`s) and what to try again later (`retry_in`); the caller
records every attempt and schedules the retries on RQ."""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import aiohttp
import requests
from pywebpush import WebPusher
from sqlalchemy import delete
from sqlmodel import Session, col, select

from server import outbound
from server.config import Settings
from server.db import row_id
from server.inbox.models import Notification
from server.org.models import User
from server.push import service as push_service
from server.push import vapid
from server.push.models import PushAttempt, PushSubscription

log = logging.getLogger(__name__)

BACKOFF_S = (10, 60, 300)  # after attempt 1, 2, 3; attempt 4 is the last
MAX_ATTEMPTS = len(BACKOFF_S) + 1
MAX_RETRY_AFTER_S = 3600


@dataclass
class Attempt:
    notification_id: int
    user_id: int
    outcome: str  # sent, gone, rate_limited, retry, failed
    status_code: int | None = None
    subscription_id: int | None = None
    retry_after_s: int | None = None
    detail: str | None = None


@dataclass
class ChannelResult:
    channel: str
    attempts: list[Attempt] = field(default_factory=list)
    # (notification_id, subscription_id or None, seconds from now) to try again
    retry_in: list[tuple[int, int | None, int]] = field(default_factory=list)


class Channel(Protocol):
    name: str

    def send(self, notification: Notification, user: User) -> ChannelResult: ...


def sent_before(session: Session, channel: str, notification_ids: list[int]) -> set[tuple[int, int | None]]:
    """(notification, subscription or None) pairs this channel already sent: a delivery handed out
    again, or re-run, skips them, so nothing reaches a device twice."""
    rows = session.exec(
        select(PushAttempt.notification_id, PushAttempt.subscription_id).where(
            col(PushAttempt.notification_id).in_(notification_ids),
            PushAttempt.channel == channel,
            PushAttempt.outcome == "sent",
        )
    ).all()
    return set(rows)


def backoff_s(attempt: int) -> int | None:
    """Seconds before the next try after `attempt` failed, or None when it was the last."""
    return BACKOFF_S[attempt - 1] if attempt <= len(BACKOFF_S) else None


def _run_async(make_coroutine: Callable[[], Any]) -> Any:
    """Runs a batch of concurrent requests to completion from synchronous code. When this thread
    already runs an event loop (a caller inside async code), the batch gets a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coroutine())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine())).result()


def parse_retry_after(value: str | None, *, default: int = 60) -> int:
    """Retry-After is delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        seconds = int(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return default
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = int((when - datetime.now(UTC)).total_seconds())
    return max(1, min(seconds, MAX_RETRY_AFTER_S))


def classify(status: int | None, *, attempt: int, retry_after: str | None = None) -> tuple[str, int | None]:
    """The outcome of one push request and, if it should be retried, after how many seconds."""
    if status is not None and 200 <= status < 300:
        return "sent", None
    if status in (404, 410):
        return "gone", None  # the browser unsubscribed or the subscription expired: forget it
    if status == 429:
        return "rate_limited", parse_retry_after(retry_after) if attempt < MAX_ATTEMPTS else None
    if status is None or status >= 500:
        delay = backoff_s(attempt)
        return ("retry" if delay is not None else "failed"), delay
    return "failed", None  # 400, 413 ...: sending the same again will not help


class WebPushChannel:
    """Web push (RFC 8030/8291/8292) through pywebpush. Sends a batch concurrently over one aiohttp
    session: encryption is ~0.5 ms a message, the rest is waiting on the network."""

    name = "webpush"

    def __init__(
        self,
        session: Session,
        settings: Settings,
        *,
        attempt: int = 1,
        only_subscriptions: set[int] | None = None,
    ):
        self.session = session
        self.settings = settings
        self.attempt = attempt
        self.only = only_subscriptions
        self.headers = vapid.HeaderCache(settings.VAPID_PRIVATE_KEY, settings.VAPID_SUBJECT)

    def send(self, notification: Notification, user: User) -> ChannelResult:
        return self.send_batch([notification])

    def send_batch(self, notifications: list[Notification]) -> ChannelResult:
        result = ChannelResult(self.name)
        if not notifications:
            return result
        user_ids = {n.user_id for n in notifications}
        query = select(PushSubscription).where(col(PushSubscription.user_id).in_(user_ids))
        if self.only is not None:
            query = query.where(col(PushSubscription.id).in_(self.only))
        subs_by_user: dict[int, list[PushSubscription]] = {}
        for sub in self.session.exec(query).all():
            subs_by_user.setdefault(sub.user_id, []).append(sub)
        already = self._already_sent([n.id for n in notifications])  # type: ignore[misc]
        jobs = [
            (n, sub)
            for n in notifications
            for sub in subs_by_user.get(n.user_id, [])
            if (n.id, sub.id) not in already
        ]
        if not jobs:
            return result
        responses = _run_async(lambda: self._send_all(jobs))
        gone: list[int] = []
        ok: list[int] = []
        for (n, sub), (status, retry_after, detail) in zip(jobs, responses, strict=True):
            outcome, delay = classify(status, attempt=self.attempt, retry_after=retry_after)
            result.attempts.append(
                Attempt(
                    notification_id=row_id(n),
                    user_id=n.user_id,
                    outcome=outcome,
                    status_code=status,
                    subscription_id=sub.id,
                    retry_after_s=delay if outcome == "rate_limited" else None,
                    detail=detail,
                )
            )
            if outcome == "gone":
                gone.append(row_id(sub))
            elif outcome == "sent":
                ok.append(row_id(sub))
            if delay is not None:
                result.retry_in.append((row_id(n), row_id(sub), delay))
        if gone:
            self.session.execute(delete(PushSubscription).where(col(PushSubscription.id).in_(set(gone))))
        push_service.mark_success(self.session, subscription_ids=sorted(set(ok)))
        return result

    def _already_sent(self, notification_ids: list[int]) -> set[tuple[int, int]]:
        """A re-run job (or a retry racing the first run) must not push the same thing twice."""
        return {(nid, sid) for nid, sid in sent_before(self.session, self.name, notification_ids) if sid}

    async def _send_all(
        self, jobs: list[tuple[Notification, PushSubscription]]
    ) -> list[tuple[int | None, str | None, str | None]]:
        timeout = aiohttp.ClientTimeout(total=self.settings.PUSH_TIMEOUT_SECONDS)
        limit = max(1, self.settings.PUSH_CONCURRENCY)
        connector = outbound.aiohttp_connector(outbound.policy_for(self.settings), limit=limit)
        semaphore = asyncio.Semaphore(limit)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

            async def one(n: Notification, sub: PushSubscription):
                async with semaphore:
                    return await self._send_one(http, n, sub, timeout)

            return await asyncio.gather(*(one(n, sub) for n, sub in jobs))

    async def _send_one(
        self, http: aiohttp.ClientSession, n: Notification, sub: PushSubscription, timeout
    ) -> tuple[int | None, str | None, str | None]:
        info = {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}
        headers = {
            **self.headers.headers(sub.endpoint),
            "Urgency": n.urgency,
            "Topic": push_service.topic(n),
        }
        try:
            response: Any = await WebPusher(info, aiohttp_session=http).send_async(
                push_service.payload(n),
                headers,
                ttl=self.settings.PUSH_TTL_SECONDS,
                content_encoding="aes128gcm",
                timeout=timeout,
            )
            return response.status, response.headers.get("Retry-After"), None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return None, None, f"{type(exc).__name__}: {exc}"[:255]
        except Exception as exc:  # a bad stored key must not stop the batch
            log.exception("web push to subscription %s failed", sub.id)
            return 400, None, f"{type(exc).__name__}: {exc}"[:255]


class WebhookChannel:
    """An HTTP POST of JSON to a configured URL: the shape of a WeCom (企业微信) group robot
    message. The text carries the generic title and the deep link, never personal data."""

    name = "webhook"

    def __init__(self, session: Session, settings: Settings, *, attempt: int = 1, **_: Any):
        self.url = settings.NOTIFY_WEBHOOK_URL
        self.policy = outbound.policy_for(settings)
        self.public_url = settings.PUBLIC_URL.rstrip("/")
        self.timeout = settings.PUSH_TIMEOUT_SECONDS
        self.attempt = attempt

    def send(self, notification: Notification, user: User) -> ChannelResult:
        result = ChannelResult(self.name)
        if not self.url:
            return result
        title = push_service.PUSH_TITLES.get(notification.kind, "新通知")
        message = {
            "msgtype": "text",
            "text": {
                "content": f"【展业】{title}：{self.public_url}{notification.url}",
                "mentioned_list": [user.username],
            },
        }
        status: int | None
        retry_after: str | None = None
        detail: str | None = None
        started = time.monotonic()
        try:
            response = outbound.session(self.policy).post(
                self.url,
                data=json.dumps(message),
                timeout=self.timeout,
                headers={"Content-Type": "application/json"},
            )
            status, retry_after = response.status_code, response.headers.get("Retry-After")
        except outbound.OutboundRefused as exc:
            status, detail = 400, f"refused: {exc.code}"  # configuration to fix, not worth a retry
        except requests.RequestException as exc:
            status, detail = None, f"{type(exc).__name__}"[:255]
        outcome, delay = classify(status, attempt=self.attempt, retry_after=retry_after)
        if outcome == "gone":
            outcome = "failed"  # a webhook URL is configuration, not a subscription to drop
        result.attempts.append(
            Attempt(
                notification_id=row_id(notification),
                user_id=row_id(user),
                outcome=outcome,
                status_code=status,
                retry_after_s=delay if outcome == "rate_limited" else None,
                detail=detail or f"{int((time.monotonic() - started) * 1000)} ms",
            )
        )
        if delay is not None:
            result.retry_in.append((row_id(notification), None, delay))
        return result


ChannelFactory = Callable[..., Channel]
CHANNELS: dict[str, ChannelFactory] = {
    WebPushChannel.name: WebPushChannel,
    WebhookChannel.name: WebhookChannel,
}
DEFAULT_ON = {"webpush": True, "webhook": False}
