"""Note rules: private to the RM who wrote them, on a customer the RM may see or free-standing,
versioned updates, snooze and done. Every change to `remind_at` reschedules the note's reminder in
the same transaction (see reminders.py for how reminders fire)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, update
from sqlmodel import Session, col, func, select

from server import events
from server.customers.service import get_customer_for
from server.db import row_id, rows_affected
from server.errors import Problem, not_found, stale, unprocessable
from server.notebook.models import Note, Recurrence, Reminder, ReminderKind, ReminderSetting
from server.notebook.schemas import (
    NoteCreate,
    NoteListQuery,
    NoteUpdate,
    ReminderSettingsUpdate,
    SnoozeRequest,
)
from server.org.models import User
from server.timeutil import as_utc, iso, utcnow


def note_public(note: Note) -> dict[str, Any]:
    return {
        "id": note.id,
        "body": note.body,
        "customer_id": note.customer_id,
        "tags": list(note.tags or []),
        "remind_at": iso(note.remind_at),
        "todo": note.todo,
        "done": note.done,
        "recurrence": note.recurrence,
        "urgent": note.urgent,
        "created_at": iso(note.created_at),
        "updated_at": iso(note.updated_at),
        "version": note.version,
    }


def get_note_for(session: Session, *, user: User, note_id: int) -> Note:
    note = session.get(Note, note_id)
    if note is None or note.owner_id != user.id:
        raise not_found("note")  # another RM's note does not exist, as far as this user knows
    return note


def _check_customer(session: Session, *, user: User, customer_id: int | None) -> None:
    if customer_id is not None:
        get_customer_for(session, user=user, customer_id=customer_id)  # 404 for others' customers


def next_occurrence(
    anchor: datetime, recurrence: Recurrence, *, after: datetime, timezone: str = "Asia/Shanghai"
) -> datetime:
    """The first occurrence of a series strictly after `after`. Occurrences are counted from the
    anchor in the RM's wall-clock time (relativedelta clamps to the month's last day without
    carrying the clamp on): the 31st → 28 Feb → 31 Mar → 30 Apr; 29 Feb → 28 Feb in common years
    → 29 Feb again in leap years; 09:00 stays 09:00 across daylight-saving changes."""
    zone = ZoneInfo(timezone or "Asia/Shanghai")
    local = as_utc(anchor).astimezone(zone).replace(tzinfo=None)
    after = as_utc(after)
    step = 12 if recurrence == Recurrence.yearly else 1
    later = after.astimezone(zone)
    # start a step or two short of `after` and walk forward: a series decades long costs a few steps
    k = max(0, ((later.year - local.year) * 12 + later.month - local.month) // step - 1)
    while True:
        nxt = (local + relativedelta(months=k * step)).replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))
        if nxt > after:
            return nxt
        k += 1


def sync_note_reminder(session: Session, note: Note, *, reschedule: bool) -> None:
    """Keep the note's one reminder row in step with the note. `reschedule` re-arms a reminder that
    already fired (remind_at changed, snoozed, reopened); other edits leave a fired one alone."""
    key = f"note:{note.id}"
    if note.remind_at is None or note.done:
        session.execute(delete(Reminder).where(col(Reminder.note_id) == row_id(note)))
        return
    reminder = session.exec(
        select(Reminder).where(Reminder.user_id == note.owner_id, Reminder.source_key == key)
    ).first()
    if reminder is None:
        reminder = Reminder(
            user_id=note.owner_id,
            kind=ReminderKind.note,
            source_key=key,
            note_id=note.id,
            due_at=note.remind_at,
        )
    if reschedule or reminder.fired_at is None:
        reminder.due_at = note.remind_at
        reminder.deferred_from = None
        reminder.fired_at = None
    reminder.customer_id = note.customer_id
    reminder.urgent = note.urgent
    reminder.url = f"/notes/{note.id}"
    session.add(reminder)


def create_note(session: Session, *, user: User, data: NoteCreate) -> Note:
    _check_customer(session, user=user, customer_id=data.customer_id)
    now = utcnow()
    note = Note(
        owner_id=row_id(user),
        customer_id=data.customer_id,
        body=data.body,
        tags=data.tags,
        todo=data.todo,
        remind_at=data.remind_at,
        recurrence=data.recurrence,
        recurrence_anchor=data.remind_at if data.recurrence else None,
        urgent=data.urgent,
        created_at=now,
        updated_at=now,
    )
    session.add(note)
    session.flush()
    sync_note_reminder(session, note, reschedule=True)
    events.publish(session, "note.changed", {"note_id": note.id, "owner_id": user.id})
    session.commit()
    return note


def list_notes(session: Session, *, user: User, query: NoteListQuery) -> tuple[list[Note], int]:
    conditions: list[Any] = [Note.owner_id == user.id]
    if query.customer_id is not None:
        conditions.append(Note.customer_id == query.customer_id)
    if query.todo is not None:
        conditions.append(Note.todo == query.todo)
    if query.done is not None:
        conditions.append(Note.done == query.done)
    if query.upcoming:
        conditions.append(col(Note.remind_at) >= utcnow())
    if query.q:
        text = query.q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(col(Note.body).like(f"%{text}%", escape="\\"))
    if query.tag:
        # Tags are a JSON list (portable across SQLite and PostgreSQL): filtered here, over this
        # RM's own notes only.
        tagged = [
            n
            for n in session.exec(
                select(Note).where(*conditions).order_by(col(Note.updated_at).desc(), col(Note.id).desc())
            ).all()
            if query.tag in (n.tags or [])
        ]
        start = (query.page - 1) * query.page_size
        return tagged[start : start + query.page_size], len(tagged)
    total = session.exec(select(func.count()).select_from(Note).where(*conditions)).one()
    page = session.exec(
        select(Note)
        .where(*conditions)
        .order_by(col(Note.updated_at).desc(), col(Note.id).desc())
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    ).all()
    return list(page), total


def _bump(session: Session, *, note: Note, expected_version: int | None) -> None:
    """One conditional UPDATE decides a race between two devices: the stale writer gets 412."""
    if expected_version is None:
        raise Problem(
            428,
            "Precondition Required",
            "Send If-Match or `version` with the version you edited.",
            code="version-required",
        )
    changed = rows_affected(
        session,
        update(Note)
        .where(col(Note.id) == row_id(note), col(Note.version) == expected_version)
        .values(version=expected_version + 1, updated_at=utcnow()),
    )
    if changed != 1:
        session.rollback()
        current = session.get(Note, note.id)
        raise stale(
            "This note was changed on another device after you loaded it.",
            current=note_public(current) if current else None,
        )
    session.refresh(note)


def update_note(
    session: Session, *, user: User, note_id: int, data: NoteUpdate, expected_version: int | None
) -> Note:
    note = get_note_for(session, user=user, note_id=note_id)
    fields = data.model_dump(exclude_unset=True, exclude={"version"})
    if "customer_id" in fields:
        _check_customer(session, user=user, customer_id=data.customer_id)
    if fields.get("body") is not None and not fields["body"].strip():
        raise unprocessable("The note is empty.")
    _bump(session, note=note, expected_version=expected_version)
    old_remind, old_done, old_recurrence = note.remind_at, note.done, note.recurrence
    for name, value in fields.items():
        if name in ("body", "todo", "done", "urgent") and value is None:
            continue  # not nullable: null means "leave as is"
        setattr(note, name, value)
    if note.recurrence and note.remind_at is None:
        raise unprocessable("A recurring note needs remind_at.")
    if note.done != old_done:
        note.done_at = utcnow() if note.done else None
    if note.remind_at != old_remind or note.recurrence != old_recurrence or note.recurrence_anchor is None:
        # the RM chose a time or a repeat: the series counts from here (a form that sends the
        # current occurrence back unchanged keeps the anchor)
        note.recurrence_anchor = note.remind_at if note.recurrence else None
    changed_time = note.remind_at != old_remind or (old_done and not note.done)
    session.add(note)
    session.flush()
    sync_note_reminder(session, note, reschedule=changed_time)
    events.publish(session, "note.changed", {"note_id": note.id, "owner_id": user.id})
    session.commit()
    return note


def delete_note(session: Session, *, user: User, note_id: int, expected_version: int | None) -> None:
    note = get_note_for(session, user=user, note_id=note_id)
    if expected_version is not None and expected_version != note.version:
        raise stale("This note was changed on another device after you loaded it.", current=note_public(note))
    session.execute(delete(Reminder).where(col(Reminder.note_id) == row_id(note)))
    session.delete(note)
    events.publish(session, "note.changed", {"note_id": note_id, "owner_id": user.id})
    session.commit()


def snooze_note(
    session: Session, *, user: User, note_id: int, data: SnoozeRequest, now: datetime | None = None
) -> Note:
    note = get_note_for(session, user=user, note_id=note_id)
    now = now or utcnow()
    until = data.until if data.until is not None else now + timedelta(minutes=data.minutes or 0)
    if as_utc(until) <= now:
        raise unprocessable("Snooze to a time in the future.")
    note.remind_at = until
    note.done, note.done_at = False, None
    note.version += 1
    note.updated_at = now
    session.add(note)
    session.flush()
    sync_note_reminder(session, note, reschedule=True)
    events.publish(session, "note.changed", {"note_id": note.id, "owner_id": user.id})
    session.commit()
    return note


def set_done(session: Session, *, user: User, note_id: int, done: bool, now: datetime | None = None) -> Note:
    note = get_note_for(session, user=user, note_id=note_id)
    if note.done == done:
        return note  # already so: a replay from a second device changes nothing
    now = now or utcnow()
    note.done, note.done_at = done, (now if done else None)
    note.version += 1
    note.updated_at = now
    session.add(note)
    session.flush()
    # Done cancels the reminder; reopening re-arms it only if its time is still ahead.
    sync_note_reminder(
        session, note, reschedule=bool(not done and note.remind_at and as_utc(note.remind_at) > now)
    )
    events.publish(session, "note.changed", {"note_id": note.id, "owner_id": user.id})
    session.commit()
    return note


# --- contact, for follow-up reminders --------------------------------------------------------


def last_contact_at(session: Session, *, customer_ids: list[int]) -> dict[int, datetime]:
    """When each customer was last in contact: the latest note written on them. A logged visit
    (another feature's table) joins here as one more source of the same max()."""
    if not customer_ids:
        return {}
    rows = session.exec(
        select(Note.customer_id, func.max(Note.created_at))
        .where(col(Note.customer_id).in_(customer_ids))
        .group_by(col(Note.customer_id))
    ).all()
    return {cid: as_utc(at) for cid, at in rows if cid is not None and at is not None}


# --- settings --------------------------------------------------------------------------------


# the per-RM switch of each kind of generated reminder
SWITCHES = {
    "birthdays": ReminderKind.birthday,
    "maturities": ReminderKind.maturity,
    "follow_ups": ReminderKind.follow_up,
    "war_room_tasks": ReminderKind.war_room_task,
}


def get_settings(session: Session, *, user_id: int) -> ReminderSetting:
    found = session.get(ReminderSetting, user_id)
    return found if found is not None else ReminderSetting(user_id=user_id)


def settings_public(setting: ReminderSetting) -> dict[str, Any]:
    return setting.model_dump(mode="json", exclude={"user_id"})


def update_settings(session: Session, *, user: User, data: ReminderSettingsUpdate) -> ReminderSetting:
    setting = session.get(ReminderSetting, row_id(user)) or ReminderSetting(user_id=row_id(user))
    fields = data.model_dump(exclude_unset=True)
    for name, value in fields.items():
        if value is None and name not in ("quiet_start", "quiet_end"):
            continue
        if name == "channels":
            value = {**(setting.channels or {}), **{k: bool(v) for k, v in value.items()}}
        setattr(setting, name, value)
    setting.updated_at = utcnow()
    session.add(setting)
    # A kind switched off stops at once: its pending reminders go (the hourly generation would
    # drop them too, but one could fire before it runs).
    off = [kind for name, kind in SWITCHES.items() if fields.get(name) is False]
    if off:
        session.execute(
            delete(Reminder).where(
                col(Reminder.user_id) == row_id(user),
                col(Reminder.kind).in_(off),
                col(Reminder.fired_at).is_(None),
            )
        )
    session.commit()
    return setting
