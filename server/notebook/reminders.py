"""How reminders fire.

Scheduling choice: a periodic scan, not one `enqueue_at` job per reminder. Every minute a job
selects `reminder` rows with `fired_at IS NULL AND due_at <= now` (indexed) and claims them with
ONE conditional UPDATE (`... SET fired_at = now WHERE id IN (...) AND fired_at IS NULL AND due_at
<= now`), so:
- edits and deletes need no job bookkeeping: they change or delete the row, and the scan sees the
  row as it is now (a per-reminder job would have to be found and cancelled, racing the worker);
- a worker that was down fires everything overdue on its first scan, marked late; no due time is
  lost with a Redis restart, because the schedule lives in the database;
- two scanners (two workers, a retried job) cannot fire a reminder twice: the UPDATE has one winner,
  and the inbox's unique (user, source key) is a second lock;
- cost is one indexed query a minute; 10,000 reminders due in one minute are claimed in one
  statement and handed to batch delivery jobs.
The price is up to a minute of latency, which a reminder can afford.

Quiet hours defer non-urgent reminders to the end of the RM's quiet window (in the RM's time zone);
urgent ones go through. Services take `now` so tests run on a controlled clock."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, extract, insert, or_, update
from sqlalchemy import select as sa_select  # many-column selects (sqlmodel's select types up to 4)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from server.customers.models import Customer, CustomerKind, CustomerVisit, IndividualProfile, Tier
from server.db import rows_affected
from server.inbox.models import Notification
from server.notebook.models import Note, Recurrence, Reminder, ReminderKind, ReminderSetting
from server.notebook.service import last_contact_at, next_occurrence
from server.org.models import Role, User
from server.personas.mentoring import checkin_occurrences
from server.products.models import Holding, Product, ProductCategory
from server.timeutil import as_utc, utcnow
from server.warrooms.models import TaskStatus, WarRoom, WarRoomTask

log = logging.getLogger(__name__)

LATE_AFTER = timedelta(seconds=90)  # a scan runs every minute; later than this, the worker was away
CLAIM_BATCH = 20_000
MORNING = time(9, 0)  # generated reminders arrive at 09:00 in the RM's time zone

TITLES = {
    ReminderKind.note: "记事提醒",
    ReminderKind.birthday: "客户生日",
    ReminderKind.maturity: "业务到期",
    ReminderKind.follow_up: "客户跟进",
    ReminderKind.war_room_task: "作战室任务到期",
    ReminderKind.mentor_checkin: "导师周沟通",
    ReminderKind.expert_call: "远程连线",
}


# --- quiet hours ---------------------------------------------------------------------------------


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_until(setting: ReminderSetting | None, now: datetime) -> datetime | None:
    """The end of the quiet window (UTC) if `now` falls inside the RM's quiet hours, else None.
    Windows may cross midnight (22:00-07:30)."""
    if setting is None or not setting.quiet_start or not setting.quiet_end:
        return None
    zone = ZoneInfo(setting.timezone or "Asia/Shanghai")
    local = as_utc(now).astimezone(zone)
    start, end = _hhmm(setting.quiet_start), _hhmm(setting.quiet_end)
    if start == end:
        return None
    t = local.time().replace(second=0, microsecond=0)
    if start < end:
        inside = start <= t < end
        end_day = local.date()
    else:
        inside = t >= start or t < end
        end_day = local.date() + timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(ZoneInfo("UTC"))


# --- firing --------------------------------------------------------------------------------------


@dataclass
class ScanResult:
    notification_ids: list[int] = field(default_factory=list)
    fired: int = 0
    late: int = 0
    deferred: int = 0


def _chunks(ids: list[Any], size: int = 500) -> list[list[Any]]:
    """Bounded IN lists (SQLite and pg8000 both cap bound parameters)."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _settings_for(session: Session, user_ids: set[int]) -> dict[int, ReminderSetting]:
    out: dict[int, ReminderSetting] = {}
    for chunk in _chunks(sorted(user_ids)):
        for s in session.exec(select(ReminderSetting).where(col(ReminderSetting.user_id).in_(chunk))).all():
            out[s.user_id] = s
    return out


def fire_due(session: Session, *, now: datetime | None = None, limit: int = CLAIM_BATCH) -> ScanResult:
    """Claims every due reminder once, writes its inbox notification, moves recurring ones on.
    Returns the new notification ids for delivery (after this commits)."""
    now = as_utc(now or utcnow())
    result = ScanResult()
    due = session.exec(
        select(Reminder.id, Reminder.user_id, Reminder.urgent, Reminder.due_at)
        .where(col(Reminder.fired_at).is_(None), col(Reminder.due_at) <= now)
        .order_by(col(Reminder.due_at))
        .limit(limit)
    ).all()
    if not due:
        return result
    settings = _settings_for(session, {row[1] for row in due})
    to_claim: list[Any] = []
    for reminder_id, user_id, urgent, due_at in due:
        until = None if urgent else quiet_until(settings.get(user_id), now)
        if until is None:
            to_claim.append(reminder_id)
            continue
        # Quiet hours: move it to the end of the window, keeping the original time for the record.
        result.deferred += rows_affected(
            session,
            update(Reminder)
            .where(
                col(Reminder.id) == reminder_id,
                col(Reminder.fired_at).is_(None),
                col(Reminder.due_at) == due_at,
            )
            .values(due_at=until, deferred_from=func.coalesce(Reminder.deferred_from, due_at)),
        )
    # The claim: one conditional UPDATE per chunk; RETURNING hands back what the inbox needs.
    claimed: list[Any] = []
    for chunk in _chunks(to_claim):
        claimed += session.execute(
            update(Reminder)
            .where(col(Reminder.id).in_(chunk), col(Reminder.fired_at).is_(None), col(Reminder.due_at) <= now)
            .values(fired_at=now)
            .returning(  # type: ignore[call-overload]
                Reminder.id,
                Reminder.user_id,
                Reminder.kind,
                Reminder.note_id,
                Reminder.customer_id,
                Reminder.due_at,
                Reminder.deferred_from,
                Reminder.urgent,
                Reminder.title,
                Reminder.body,
                Reminder.url,
            )  # fmt: skip
        ).all()
    if not claimed:
        session.commit()
        return result
    notes: dict[int, tuple[str, str | None]] = {}
    for chunk in _chunks([r.note_id for r in claimed if r.note_id is not None]):
        for note_id, body, recurrence in session.execute(
            select(Note.id, Note.body, Note.recurrence).where(col(Note.id).in_(chunk))
        ).all():
            notes[note_id] = (body, recurrence)
    names: dict[int, str] = {}
    for chunk in _chunks(list({r.customer_id for r in claimed if r.customer_id})):
        names.update(
            session.execute(select(Customer.id, Customer.name).where(col(Customer.id).in_(chunk))).all()
        )
    rows_to_insert: list[dict[str, Any]] = []
    recurring: list[int] = []
    for r in claimed:
        due_at = as_utc(r.due_at)
        late = now - due_at > LATE_AFTER
        title, body = r.title, r.body
        if r.kind == ReminderKind.note:
            if r.note_id not in notes:
                continue
            body, recurrence = notes[r.note_id]
            title = TITLES[ReminderKind.note] + (
                f" · {names[r.customer_id]}" if r.customer_id in names else ""
            )
            if recurrence:
                recurring.append(r.id)
        rows_to_insert.append(
            {
                "user_id": r.user_id,
                "kind": r.kind,
                "title": (title or TITLES.get(r.kind, "提醒"))[:128],
                "body": body[:1000],
                "url": r.url or "/",
                "urgency": "high" if r.urgent else "normal",
                # the occurrence is part of the key: a recurring reminder notifies once per occurrence
                "source_key": f"reminder:{r.id}:{int(due_at.timestamp())}",
                "due_at": as_utc(r.deferred_from) if r.deferred_from else due_at,
                "late": late,
                "created_at": now,
                "dispatched_at": now,  # handed to delivery after commit; see inbox.redispatch_stalled
            }
        )
        result.late += int(late)
    for reminder in (
        session.exec(select(Reminder).where(col(Reminder.id).in_(recurring))).all() if recurring else []
    ):
        note = session.get(Note, reminder.note_id)
        if note is not None:
            zone = settings[reminder.user_id].timezone if reminder.user_id in settings else "Asia/Shanghai"
            _advance(session, reminder, note, now=now, timezone=zone)
    # One user's notifications side by side: a delivery batch then reaches each user once.
    rows_to_insert.sort(key=lambda row: (row["user_id"], row["due_at"]))
    result.notification_ids = _insert_notifications(session, rows_to_insert)
    result.fired = len(result.notification_ids)
    session.commit()
    return result


def _advance(session: Session, reminder: Reminder, note: Note, *, now: datetime, timezone: str) -> None:
    """A recurring note's next occurrence, counted from its anchor: the first one after now (a long
    outage skips the missed ones rather than firing a year of monthly reviews at once)."""
    anchor = note.recurrence_anchor or reminder.deferred_from or reminder.due_at
    nxt = next_occurrence(anchor, Recurrence(str(note.recurrence)), after=now, timezone=timezone)
    reminder.due_at, reminder.fired_at, reminder.deferred_from = nxt, None, None
    note.remind_at = nxt
    note.version += 1
    note.updated_at = now
    session.add(reminder)
    session.add(note)


def _insert_notifications(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Bulk insert; on the (never expected) clash with an existing (user, source key) fall back to
    one-by-one inside savepoints, skipping the duplicates."""
    if not rows:
        return []
    try:
        with session.begin_nested():
            ids = session.execute(insert(Notification).returning(col(Notification.id)), rows).scalars().all()
        return list(ids)
    except IntegrityError:
        out = []
        for row in rows:
            try:
                with session.begin_nested():
                    out.append(
                        session.execute(
                            insert(Notification).returning(col(Notification.id)), row
                        ).scalar_one()
                    )
            except IntegrityError:
                log.info("skipped a duplicate notification %s", row["source_key"])
        return out


# --- generated reminders -------------------------------------------------------------------------


def _local_morning(day: date, setting: ReminderSetting) -> datetime:
    zone = ZoneInfo(setting.timezone or "Asia/Shanghai")
    return datetime.combine(day, MORNING, tzinfo=zone).astimezone(ZoneInfo("UTC"))


def _upsert_generated(session: Session, rows: list[dict[str, Any]]) -> int:
    """Creates the generated reminders that do not exist yet; (user, source key) is the identity,
    so generating twice (or after a restart) adds nothing."""
    if not rows:
        return 0
    keys_by_user: dict[int, set[str]] = {}
    for row in rows:
        keys_by_user.setdefault(row["user_id"], set()).add(row["source_key"])
    existing: set[tuple[int, str]] = set()
    for user_id, keys in keys_by_user.items():
        for uid, key in session.exec(
            select(Reminder.user_id, Reminder.source_key).where(
                Reminder.user_id == user_id, col(Reminder.source_key).in_(keys)
            )
        ).all():
            existing.add((uid, key))
    fresh = [r for r in rows if (r["user_id"], r["source_key"]) not in existing]
    if fresh:
        session.execute(insert(Reminder), fresh)
    return len(fresh)


GENERATED_KINDS = (
    ReminderKind.birthday,
    ReminderKind.maturity,
    ReminderKind.follow_up,
    ReminderKind.war_room_task,
    ReminderKind.mentor_checkin,
)


def _drop_stale(session: Session, user_ids: set[int], rows: list[dict[str, Any]]) -> int:
    """Generated reminders not yet fired whose reason is gone: the kind switched off, the task done,
    the maturity moved or the holding closed, the customer contacted meanwhile. Each run's rows are
    everything still owed, so a pending one outside them is dropped (fired ones stay: their key
    keeps them from firing again)."""
    owed = {(row["user_id"], row["source_key"]) for row in rows}
    stale: list[int] = []
    for chunk in _chunks(sorted(user_ids)):
        for reminder_id, user_id, key in session.exec(
            select(Reminder.id, Reminder.user_id, Reminder.source_key).where(
                col(Reminder.user_id).in_(chunk),
                col(Reminder.kind).in_(GENERATED_KINDS),
                col(Reminder.fired_at).is_(None),
            )
        ).all():
            if (user_id, key) not in owed:
                stale.append(reminder_id)  # type: ignore[arg-type]
    for chunk in _chunks(stale):
        session.execute(delete(Reminder).where(col(Reminder.id).in_(chunk)))
    return len(stale)


def generate(session: Session, *, now: datetime | None = None, user_ids: list[int] | None = None) -> int:
    """Birthdays, maturities and follow-ups for every active RM who has them switched on."""
    now = as_utc(now or utcnow())
    query = select(User).where(User.role == Role.rm, User.is_active == True)  # noqa: E712
    if user_ids is not None:
        query = query.where(col(User.id).in_(user_ids))
    rms: dict[int, User] = {u.id: u for u in session.exec(query).all() if u.id is not None}
    if not rms:
        return 0
    stored = _settings_for(session, set(rms))
    setting = {uid: stored.get(uid) or ReminderSetting(user_id=uid) for uid in rms}
    rows: list[dict[str, Any]] = []
    rows += _birthdays(session, setting, now)
    rows += _maturities(session, setting, now)
    rows += _follow_ups(session, setting, now)
    rows += war_room_task_reminders(session, setting, now)
    rows += mentor_checkin_reminders(session, setting, now)
    _drop_stale(session, set(rms), rows)
    created = _upsert_generated(session, rows)
    session.commit()
    return created


def _today(setting: ReminderSetting, now: datetime) -> date:
    return now.astimezone(ZoneInfo(setting.timezone or "Asia/Shanghai")).date()


def _row(kind, user_id, key, due, *, customer_id=None, title="", body="", url="/", urgent=False, now):
    return {
        "user_id": user_id,
        "kind": kind,
        "source_key": key,
        "note_id": None,
        "customer_id": customer_id,
        "due_at": max(due, now),
        "deferred_from": None,
        "fired_at": None,
        "urgent": urgent,
        "title": title[:128],
        "body": body[:500],
        "url": url,
        "created_at": now,
    }


def next_birthday(born: date, today: date) -> date:
    """The next birthday on or after today; 29 February is kept on 28 February in common years."""
    for year in (today.year, today.year + 1):
        try:
            day = born.replace(year=year)
        except ValueError:
            day = date(year, 2, 28)
        if day >= today:
            return day
    raise AssertionError("unreachable")


def _birthdays(session: Session, setting: dict[int, ReminderSetting], now: datetime) -> list[dict]:
    on = {uid: s for uid, s in setting.items() if s.birthdays}
    if not on:
        return []
    horizon = max(s.birthday_days_ahead for s in on.values())
    today = _today(next(iter(on.values())), now)
    days = [today + timedelta(days=d) for d in range(-1, horizon + 2)]  # a day's margin for time zones
    match = or_(
        *[
            and_(
                extract("month", col(IndividualProfile.birth_date)) == d.month,
                extract("day", col(IndividualProfile.birth_date)) == d.day,
            )
            for d in {(d.month, d.day): d for d in days}.values()
        ]
    )
    found = session.execute(
        sa_select(Customer.id, Customer.owner_id, Customer.name, IndividualProfile.birth_date)  # type: ignore[call-overload]
        .join(IndividualProfile, col(IndividualProfile.customer_id) == col(Customer.id))
        .where(col(Customer.owner_id).in_(on), Customer.kind == CustomerKind.individual, match)
    ).all()
    rows = []
    for customer_id, owner_id, name, born in found:
        s = on[owner_id]
        today = _today(s, now)
        if born is None:
            continue
        birthday = next_birthday(born, today)
        ahead = (birthday - today).days
        if not 0 <= ahead <= s.birthday_days_ahead:
            continue
        when = _local_morning(birthday - timedelta(days=s.birthday_days_ahead), s)
        label = "今天" if ahead == 0 else f"{ahead}天后（{birthday.month}月{birthday.day}日）"
        rows.append(
            _row(
                ReminderKind.birthday, owner_id, f"birthday:{customer_id}:{birthday.year}", when,
                customer_id=customer_id, title=f"客户生日 · {name}", body=f"{name}{label}生日，记得送上祝福。",
                url=f"/customers/{customer_id}", now=now,
            )
        )  # fmt: skip
    return rows


def _maturities(session: Session, setting: dict[int, ReminderSetting], now: datetime) -> list[dict]:
    on = {uid: s for uid, s in setting.items() if s.maturities}
    if not on:
        return []
    horizon = max(s.maturity_days_ahead for s in on.values())
    first = _today(next(iter(on.values())), now)
    found = session.execute(
        sa_select(  # type: ignore[call-overload]
            Holding.id,
            Holding.matures_on,
            Customer.id,
            Customer.owner_id,
            Customer.name,
            Product.name,
            Product.category,
        )
        .join(Customer, col(Customer.id) == col(Holding.customer_id))
        .join(Product, col(Product.id) == col(Holding.product_id))
        .where(
            col(Customer.owner_id).in_(on),
            Holding.status == "active",
            col(Product.category).in_([ProductCategory.deposit, ProductCategory.loan]),
            col(Holding.matures_on) >= first - timedelta(days=1),
            col(Holding.matures_on) <= first + timedelta(days=horizon + 1),
        )
    ).all()
    rows = []
    for holding_id, matures_on, customer_id, owner_id, name, product_name, category in found:
        s = on[owner_id]
        today = _today(s, now)
        ahead = (matures_on - today).days
        if not 0 <= ahead <= s.maturity_days_ahead:
            continue
        what = "贷款" if category == ProductCategory.loan else "存款"
        when = _local_morning(matures_on - timedelta(days=s.maturity_days_ahead), s)
        rows.append(
            _row(
                ReminderKind.maturity, owner_id, f"maturity:{holding_id}:{matures_on.isoformat()}", when,
                customer_id=customer_id, title=f"{what}到期 · {name}",
                body=f"{name}的{product_name}将于{matures_on.month}月{matures_on.day}日到期，提前联系续作。",
                url=f"/customers/{customer_id}?holding={holding_id}", urgent=ahead <= 1, now=now,
            )
        )  # fmt: skip
    return rows


def _visits_last_contact(session: Session, customer_ids: list[int]) -> dict[int, datetime]:
    """Logged visits count as contact."""
    rows = session.exec(
        select(CustomerVisit.customer_id, func.max(CustomerVisit.occurred_at))
        .where(col(CustomerVisit.customer_id).in_(customer_ids))
        .group_by(col(CustomerVisit.customer_id))
    ).all()
    return {cid: as_utc(at) for cid, at in rows if at is not None}


def customer_last_contact(session: Session, *, customer_ids: list[int]) -> dict[int, datetime]:
    """`last_contact_at` per customer: the latest note on them or logged visit."""
    out = last_contact_at(session, customer_ids=customer_ids)
    for cid, at in _visits_last_contact(session, customer_ids).items():
        if cid not in out or at > out[cid]:
            out[cid] = at
    return out


def _follow_ups(session: Session, setting: dict[int, ReminderSetting], now: datetime) -> list[dict]:
    on = {uid: s for uid, s in setting.items() if s.follow_ups}
    if not on:
        return []
    tops = session.execute(
        sa_select(Customer.id, Customer.owner_id, Customer.name, Customer.created_at).where(  # type: ignore[call-overload]
            col(Customer.owner_id).in_(on), col(Customer.tier).in_([Tier.vip, Tier.high])
        )
    ).all()
    rows = []
    for start in range(0, len(tops), 500):
        chunk = tops[start : start + 500]
        contact = customer_last_contact(session, customer_ids=[c[0] for c in chunk])
        for customer_id, owner_id, name, created_at in chunk:
            s = on[owner_id]
            last = contact.get(customer_id) or as_utc(created_at)
            silent = (now - last).days
            if silent < s.follow_up_days:
                continue
            rows.append(
                _row(
                    ReminderKind.follow_up, owner_id, f"follow_up:{customer_id}:{last.date().isoformat()}",
                    _local_morning(_today(s, now), s), customer_id=customer_id, title=f"客户跟进 · {name}",
                    body=f"已有{silent}天没有联系{name}了，安排一次拜访或电话吧。",
                    url=f"/customers/{customer_id}", now=now,
                )
            )  # fmt: skip
    return rows


def war_room_task_reminders(
    session: Session, setting: dict[int, ReminderSetting], now: datetime
) -> list[dict]:
    """Open war-room tasks due today or tomorrow, for their assignee: a reminder at 09:00 on the
    due date, keyed by task and due date (moving the date makes a new reminder), linking the room."""
    on = {uid: s for uid, s in setting.items() if s.war_room_tasks}
    if not on:
        return []
    first = _today(next(iter(on.values())), now)
    found = session.execute(
        sa_select(  # type: ignore[call-overload]
            WarRoomTask.id,
            WarRoomTask.assignee_id,
            WarRoomTask.due_on,
            WarRoomTask.item,
            WarRoom.id,
            WarRoom.title,
        )
        .join(WarRoom, col(WarRoom.id) == col(WarRoomTask.room_id))
        .where(
            col(WarRoomTask.assignee_id).in_(on),
            WarRoomTask.status != TaskStatus.done,
            col(WarRoomTask.due_on) >= first - timedelta(days=1),
            col(WarRoomTask.due_on) <= first + timedelta(days=2),
        )
    ).all()
    rows = []
    for task_id, user_id, due_on, item, room_id, room_title in found:
        s = on[user_id]
        if not 0 <= (due_on - _today(s, now)).days <= 1:
            continue
        rows.append(
            _row(
                ReminderKind.war_room_task, user_id, f"war_room_task:{task_id}:{due_on.isoformat()}",
                _local_morning(due_on, s), title=f"作战室任务到期 · {room_title}",
                body=f"任务「{item}」{due_on.month}月{due_on.day}日到期。", url=f"/war-rooms/{room_id}", now=now,
            )
        )  # fmt: skip
    return rows


def mentor_checkin_reminders(
    session: Session, setting: dict[int, ReminderSetting], now: datetime
) -> list[dict]:
    """This week's mentoring check-in, for the mentor and the newcomer alike: at 09:00 (their own
    zone) on the pairing's weekday, keyed by pair and week, so each of them gets it exactly once."""
    if not setting:
        return []
    rows = []
    names: dict[int, str] = {}
    for pair, week, due_on in checkin_occurrences(session, today=_today(next(iter(setting.values())), now)):
        for user_id, other_id in ((pair.mentee_id, pair.mentor_id), (pair.mentor_id, pair.mentee_id)):
            s = setting.get(user_id)
            if s is None:
                continue
            if other_id not in names:
                other = session.get(User, other_id)
                names[other_id] = other.display_name if other else ""
            rows.append(
                _row(
                    ReminderKind.mentor_checkin, user_id, f"mentor_checkin:{pair.id}:{week}",
                    _local_morning(due_on, s), title=f"导师周沟通 · {names[other_id]}",
                    body=f"第 {week} 周：和{names[other_id]}聊聊本周的拜访与难点，记在共享笔记里。",
                    url=f"/mentoring/{pair.id}", now=now,
                )
            )  # fmt: skip
    return rows
