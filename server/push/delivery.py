"""Sends stored notifications out through each user's channels, records every attempt and returns
what must be tried again (the RQ job schedules those). The inbox row already exists; a channel
failing loses nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import insert
from sqlmodel import Session, col, select

from server.config import Settings
from server.inbox.models import Notification
from server.notebook.models import ReminderSetting
from server.org.models import User
from server.push.channels import CHANNELS, DEFAULT_ON, ChannelResult, sent_before
from server.push.models import PushAttempt
from server.timeutil import utcnow


@dataclass
class DeliveryReport:
    attempts: int = 0
    sent: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    # channel -> [(notification_id, subscription_id or None, delay_s)]
    retries: dict[str, list[tuple[int, int | None, int]]] = field(default_factory=dict)


def enabled_channels(setting: ReminderSetting | None) -> set[str]:
    chosen = {**DEFAULT_ON, **((setting.channels if setting else None) or {})}
    return {name for name, on in chosen.items() if on and name in CHANNELS}


def deliver(
    session: Session,
    *,
    notification_ids: list[int],
    settings: Settings,
    attempt: int = 1,
    channel: str | None = None,
    only_subscriptions: set[int] | None = None,
) -> DeliveryReport:
    """attempt 1 goes to every channel each user has on; a retry (attempt > 1) names its channel
    and, for web push, the subscriptions still owed."""
    report = DeliveryReport()
    notifications = list(
        session.exec(select(Notification).where(col(Notification.id).in_(notification_ids))).all()
    )
    if not notifications:
        return report
    user_ids = {n.user_id for n in notifications}
    users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(user_ids))).all()}
    prefs = {
        s.user_id: s
        for s in session.exec(select(ReminderSetting).where(col(ReminderSetting.user_id).in_(user_ids))).all()
    }
    names = [channel] if channel else list(CHANNELS)
    results: list[ChannelResult] = []
    for name in names:
        wanted = [
            n
            for n in notifications
            if n.user_id in users
            and users[n.user_id].is_active
            and name in enabled_channels(prefs.get(n.user_id))
        ]
        if not wanted:
            continue
        impl = CHANNELS[name](session, settings, attempt=attempt, only_subscriptions=only_subscriptions)
        if hasattr(impl, "send_batch"):
            results.append(impl.send_batch(wanted))
        else:
            done = {nid for nid, _ in sent_before(session, name, [n.id for n in wanted])}  # type: ignore[misc]
            for n in wanted:
                if n.id not in done:
                    results.append(impl.send(n, users[n.user_id]))
    rows = []
    now = utcnow()
    for result in results:
        for a in result.attempts:
            rows.append(
                {
                    "notification_id": a.notification_id,
                    "subscription_id": a.subscription_id,
                    "user_id": a.user_id,
                    "channel": result.channel,
                    "attempt": attempt,
                    "status_code": a.status_code,
                    "outcome": a.outcome,
                    "retry_after_s": a.retry_after_s,
                    "detail": a.detail,
                    "at": now,
                }
            )
            report.outcomes[a.outcome] = report.outcomes.get(a.outcome, 0) + 1
        if result.retry_in:
            report.retries.setdefault(result.channel, []).extend(result.retry_in)
    if rows:
        session.execute(insert(PushAttempt), rows)  # one multi-row insert for the batch
    session.commit()
    report.attempts = len(rows)
    report.sent = report.outcomes.get("sent", 0)
    return report
