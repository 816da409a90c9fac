"""Reminders with a real RQ worker on a controlled clock: on time, late after worker downtime,
exactly once (also under concurrent scans), rescheduled on edit, cancelled on delete, quiet hours,
recurrence; generated reminders from bank data (birthdays, maturities, follow-ups)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from sqlmodel import Session, select

from server import db
from server.customers.models import CustomerKind, IndividualProfile, Tier
from server.inbox.models import Notification
from server.notebook import reminders
from server.notebook.models import Note, Recurrence, Reminder, ReminderSetting
from server.notebook.service import next_occurrence
from server.products.models import Holding, Product, ProductCategory
from server.timeutil import utcnow
from tasks.queues import HIGH, queue
from tasks.reminders import generate_reminders, scan_reminders, schedule_next_scan
from tests import factories

T = datetime(2031, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _scan(worker, at: datetime) -> None:
    scan_reminders.enqueue(now=_iso(at), chain=False)
    worker.work(burst=True)


def _inbox(db_session, user) -> list[Notification]:
    db_session.expire_all()
    return list(
        db_session.exec(select(Notification).where(Notification.user_id == user.id).order_by(Notification.id))
    )


def _note(api, remind_at: datetime, **fields) -> dict:
    response = api.post(
        "/api/v1/notes", json={"body": "给李总回电话", "remind_at": _iso(remind_at), **fields}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_fires_on_time_exactly_once(db_session, login, worker):
    rm = factories.make_user(db_session)
    note = _note(login(rm), T)
    _scan(worker, T - timedelta(seconds=30))
    assert _inbox(db_session, rm) == []
    _scan(worker, T + timedelta(seconds=20))
    [n] = _inbox(db_session, rm)
    assert (n.kind, n.late, n.url, n.body) == ("note", False, f"/notes/{note['id']}", "给李总回电话")
    _scan(worker, T + timedelta(minutes=1))
    _scan(worker, T + timedelta(minutes=2))
    assert len(_inbox(db_session, rm)) == 1
    assert login(rm).get("/api/v1/inbox/unread-count").get_json()["unread"] == 1


def test_late_after_worker_downtime(db_session, login, worker):
    rm = factories.make_user(db_session)
    _note(login(rm), T)
    _scan(worker, T + timedelta(minutes=47))  # the first scan after the worker came back
    [n] = _inbox(db_session, rm)
    assert n.late is True
    assert n.due_at.replace(tzinfo=UTC) == T


def test_booked_scan_runs_when_the_worker_returns(db_session, login, worker):
    """The minute chain books its next scan in Redis; a worker that was down runs the overdue scan
    as soon as it starts, and what fell due meanwhile fires, marked late."""
    rm = factories.make_user(db_session)
    now = utcnow()
    _note(login(rm), now - timedelta(minutes=5))
    schedule_next_scan(now - timedelta(minutes=10))  # booked before the worker went away
    registry = ScheduledJobRegistry(queue=queue(HIGH))
    assert any(j.startswith("reminder-scan-") for j in registry.get_job_ids())
    worker.work(burst=True, with_scheduler=True)
    [n] = _inbox(db_session, rm)
    assert n.late is True
    # and the chain goes on: the next scan is booked for the coming minute
    assert any(
        registry.get_scheduled_time(j) > now for j in registry.get_job_ids() if j.startswith("reminder-scan-")
    )


def test_concurrent_scans_fire_once(app, db_session, login):
    rm = factories.make_user(db_session)
    api = login(rm)
    for minute in range(20):
        _note(api, T + timedelta(minutes=minute))
    barrier = threading.Barrier(4)
    results = []

    def scan():
        with Session(db.engine_for(app), expire_on_commit=False) as session:
            barrier.wait()
            results.append(reminders.fire_due(session, now=T + timedelta(hours=1)).fired)

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(_inbox(db_session, rm)) == 20
    assert sum(results) >= 20  # other tests' overdue reminders may fire too; ours exactly once each


def test_edit_reschedules_and_delete_cancels(db_session, login, worker):
    rm = factories.make_user(db_session)
    api = login(rm)
    moved = _note(api, T)
    gone = _note(api, T)
    api.patch(f"/api/v1/notes/{moved['id']}", json={"remind_at": _iso(T + timedelta(hours=2)), "version": 1})
    assert api.delete(f"/api/v1/notes/{gone['id']}").status_code == 204
    _scan(worker, T + timedelta(minutes=1))
    assert _inbox(db_session, rm) == []
    _scan(worker, T + timedelta(hours=2, seconds=10))
    [n] = _inbox(db_session, rm)
    assert n.url == f"/notes/{moved['id']}" and not n.late

    # Editing the text of a fired reminder does not fire it again; moving its time re-arms it.
    api.patch(f"/api/v1/notes/{moved['id']}", json={"body": "改了文字", "version": 2})
    _scan(worker, T + timedelta(hours=3))
    assert len(_inbox(db_session, rm)) == 1
    api.patch(f"/api/v1/notes/{moved['id']}", json={"remind_at": _iso(T + timedelta(hours=4)), "version": 3})
    _scan(worker, T + timedelta(hours=4, seconds=5))
    assert [n.body for n in _inbox(db_session, rm)] == ["给李总回电话", "改了文字"]


def test_snooze_and_done(db_session, login, worker):
    rm = factories.make_user(db_session)
    api = login(rm)
    snoozed, done = _note(api, T), _note(api, T)
    _scan(worker, T + timedelta(seconds=5))
    assert len(_inbox(db_session, rm)) == 2
    api.post(f"/api/v1/notes/{snoozed['id']}/snooze", json={"until": _iso(T + timedelta(minutes=30))})
    api.post(f"/api/v1/notes/{done['id']}/done", json={"done": True})
    _scan(worker, T + timedelta(minutes=31))
    assert [n.url for n in _inbox(db_session, rm)][2:] == [f"/notes/{snoozed['id']}"]


def test_quiet_hours_defer_non_urgent(db_session, login, worker):
    rm = factories.make_user(db_session)
    api = login(rm)
    response = api.patch(
        "/api/v1/reminder-settings",
        json={"quiet_start": "22:00", "quiet_end": "07:30", "timezone": "Asia/Shanghai"},
    )
    assert response.status_code == 200, response.get_json()
    night = datetime(2031, 3, 10, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    calm = _note(api, night)
    urgent = _note(api, night, urgent=True)
    _scan(worker, night + timedelta(seconds=10))
    assert [n.url for n in _inbox(db_session, rm)] == [f"/notes/{urgent['id']}"]
    morning = datetime(2031, 3, 10, 23, 30, tzinfo=UTC)  # 07:30 next day in Shanghai
    _scan(worker, morning - timedelta(minutes=1))
    assert len(_inbox(db_session, rm)) == 1
    _scan(worker, morning + timedelta(seconds=10))
    inbox = _inbox(db_session, rm)
    assert [n.url for n in inbox] == [f"/notes/{urgent['id']}", f"/notes/{calm['id']}"]
    assert inbox[1].late is False and inbox[1].due_at.replace(tzinfo=UTC) == night


def test_quiet_window_arithmetic():
    setting = ReminderSetting(user_id=1, quiet_start="22:00", quiet_end="07:30", timezone="Asia/Shanghai")
    assert reminders.quiet_until(setting, datetime(2031, 3, 10, 13, 59, tzinfo=UTC)) is None  # 21:59
    assert reminders.quiet_until(setting, datetime(2031, 3, 10, 14, 0, tzinfo=UTC)) == datetime(
        2031, 3, 10, 23, 30, tzinfo=UTC
    )
    assert reminders.quiet_until(setting, datetime(2031, 3, 10, 20, 0, tzinfo=UTC)) == datetime(
        2031, 3, 10, 23, 30, tzinfo=UTC
    )  # 04:00: same morning
    assert reminders.quiet_until(setting, datetime(2031, 3, 10, 23, 30, tzinfo=UTC)) is None
    day = ReminderSetting(user_id=1, quiet_start="12:00", quiet_end="13:30", timezone="Asia/Shanghai")
    assert reminders.quiet_until(day, datetime(2031, 3, 10, 4, 15, tzinfo=UTC)) == datetime(
        2031, 3, 10, 5, 30, tzinfo=UTC
    )


def _remind_at(db_session, note_id: int) -> datetime:
    db_session.expire_all()
    return db_session.get(Note, note_id).remind_at.replace(tzinfo=UTC)


def test_recurring_monthly_keeps_its_day(db_session, login, worker):
    """Set on the 31st: the last day of short months, and back on the 31st when the month has one
    (counted from the anchor, not from the last occurrence); each occurrence notifies once."""
    rm = factories.make_user(db_session)
    api = login(rm)
    jan31 = datetime(2031, 1, 31, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    note = _note(api, jan31, recurrence="monthly")
    expected = [(2, 28), (3, 31), (4, 30), (5, 31), (6, 30)]
    due = jan31
    for month, day in expected:
        _scan(worker, due + timedelta(seconds=5))
        _scan(worker, due + timedelta(minutes=1, seconds=5))  # the next scan fires nothing more
        due = _remind_at(db_session, note["id"])
        assert due == datetime(2031, month, day, 1, 0, tzinfo=UTC)
    assert len(_inbox(db_session, rm)) == len(expected)

    # A form that sends the current occurrence back unchanged keeps the anchor ...
    version = api.get(f"/api/v1/notes/{note['id']}").get_json()["version"]
    response = api.patch(
        f"/api/v1/notes/{note['id']}", json={"body": "月度回访", "remind_at": _iso(due), "version": version}
    )
    assert response.status_code == 200, response.get_json()
    _scan(worker, due + timedelta(seconds=5))
    assert _remind_at(db_session, note["id"]) == datetime(2031, 7, 31, 1, 0, tzinfo=UTC)
    # ... and so does a snooze: it moves this occurrence only.
    api.post(
        f"/api/v1/notes/{note['id']}/snooze", json={"until": _iso(datetime(2031, 8, 2, 1, 0, tzinfo=UTC))}
    )
    _scan(worker, datetime(2031, 8, 2, 1, 0, 5, tzinfo=UTC))
    assert _remind_at(db_session, note["id"]) == datetime(2031, 8, 31, 1, 0, tzinfo=UTC)
    # Choosing a new time starts a new series.
    version = api.get(f"/api/v1/notes/{note['id']}").get_json()["version"]
    sept30 = datetime(2031, 9, 30, 1, 0, tzinfo=UTC)
    api.patch(f"/api/v1/notes/{note['id']}", json={"remind_at": _iso(sept30), "version": version})
    _scan(worker, sept30 + timedelta(seconds=5))
    assert _remind_at(db_session, note["id"]) == datetime(2031, 10, 30, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("anchor", "recurrence", "zone", "expected"),
    [
        # monthly on the 31st at 09:00 Shanghai
        (datetime(2031, 1, 31, 1, 0, tzinfo=UTC), "monthly", "Asia/Shanghai",
         [datetime(2031, m, d, 1, 0, tzinfo=UTC) for m, d in [(2, 28), (3, 31), (4, 30), (5, 31)]]),
        # monthly on the 30th: 28 February, then the 30th again
        (datetime(2031, 1, 30, 1, 0, tzinfo=UTC), "monthly", "Asia/Shanghai",
         [datetime(2031, m, d, 1, 0, tzinfo=UTC) for m, d in [(2, 28), (3, 30), (4, 30)]]),
        # the 31st at 07:00 in Shanghai is the 30th in UTC: the month ends in the RM's zone
        (datetime(2031, 1, 30, 23, 0, tzinfo=UTC), "monthly", "Asia/Shanghai",
         [datetime(2031, 2, 27, 23, 0, tzinfo=UTC), datetime(2031, 3, 30, 23, 0, tzinfo=UTC),
          datetime(2031, 4, 29, 23, 0, tzinfo=UTC)]),
        # a leap-day birthday: 28 February in common years, 29 February in leap years
        (datetime(2032, 2, 29, 1, 0, tzinfo=UTC), "yearly", "Asia/Shanghai",
         [datetime(y, 2, d, 1, 0, tzinfo=UTC) for y, d in [(2033, 28), (2034, 28), (2035, 28), (2036, 29)]]),
        # 09:00 stays 09:00 local across a daylight-saving change (Berlin: UTC+1 in March, +2 in April)
        (datetime(2031, 3, 15, 8, 0, tzinfo=UTC), "monthly", "Europe/Berlin",
         [datetime(2031, 4, 15, 7, 0, tzinfo=UTC), datetime(2031, 5, 15, 7, 0, tzinfo=UTC)]),
    ],
)  # fmt: skip
def test_next_occurrence_counts_from_the_anchor(anchor, recurrence, zone, expected):
    got, after = [], anchor
    for _ in expected:
        after = next_occurrence(anchor, Recurrence(recurrence), after=after, timezone=zone)
        got.append(after)
    assert got == expected
    # after a long outage: the first occurrence after the return, not every missed one
    assert next_occurrence(anchor, Recurrence(recurrence), after=expected[-1] - timedelta(seconds=1),
                           timezone=zone) == expected[-1]  # fmt: skip


def test_birthday_on_leap_day():
    born = date(1992, 2, 29)
    assert reminders.next_birthday(born, date(2031, 2, 1)) == date(2031, 2, 28)
    assert reminders.next_birthday(born, date(2031, 3, 1)) == date(2032, 2, 29)
    assert reminders.next_birthday(born, date(2032, 2, 29)) == date(2032, 2, 29)


def test_generated_reminders(db_session, data_key, worker, login):
    rm = factories.make_user(db_session)
    today = date(2031, 6, 1)
    now = datetime(2031, 6, 1, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai
    person = factories.make_customer(db_session, owner=rm, kind=CustomerKind.individual, data_key=data_key)
    profile = db_session.get(IndividualProfile, person.id)
    profile.birth_date = date(1980, 6, 3)  # in 2 days; default: 3 days ahead
    db_session.add(profile)
    company = factories.make_customer(db_session, owner=rm, data_key=data_key, tier=Tier.vip)
    company.created_at = datetime(2031, 1, 1, tzinfo=UTC)
    db_session.add(company)
    product = Product(code=f"D{person.id}", name="三年期定期存款", category=ProductCategory.deposit,
                      segment="both", terms="3年")  # fmt: skip
    db_session.add(product)
    db_session.flush()
    holding = Holding(customer_id=company.id, product_id=product.id, balance_cents=10**9,
                      opened_on=date(2028, 6, 5), matures_on=today + timedelta(days=4))  # fmt: skip
    db_session.add(holding)
    db_session.commit()

    generate_reminders.enqueue(now=_iso(now), user_ids=[rm.id])
    generate_reminders.enqueue(now=_iso(now + timedelta(hours=1)), user_ids=[rm.id])  # twice: nothing new
    worker.work(burst=True)
    db_session.expire_all()
    made = {r.kind: r for r in db_session.exec(select(Reminder).where(Reminder.user_id == rm.id))}
    assert set(made) == {"birthday", "maturity", "follow_up"}
    assert made["birthday"].url == f"/customers/{person.id}"
    assert made["maturity"].url == f"/customers/{company.id}?holding={holding.id}"
    assert made["follow_up"].url == f"/customers/{company.id}"

    _scan(worker, datetime(2031, 6, 1, 1, 0, 30, tzinfo=UTC))  # 09:00 Shanghai
    kinds = sorted(n.kind for n in _inbox(db_session, rm))
    assert kinds == ["birthday", "follow_up", "maturity"]

    # A note on the customer is contact: the follow-up stops; switching a kind off stops it too.
    visit = login(rm).post("/api/v1/notes", json={"body": "拜访了", "customer_id": company.id}).get_json()
    written = db_session.get(Note, visit["id"])
    written.created_at = now  # written on the controlled clock's day
    db_session.add(written)
    login(rm).patch("/api/v1/reminder-settings", json={"birthdays": False})
    db_session.exec(Reminder.__table__.delete().where(Reminder.user_id == rm.id))  # type: ignore[attr-defined]
    db_session.commit()
    generate_reminders.enqueue(now=_iso(now + timedelta(days=1)), user_ids=[rm.id])
    worker.work(burst=True)
    db_session.expire_all()
    assert {r.kind for r in db_session.exec(select(Reminder).where(Reminder.user_id == rm.id))} == {
        "maturity"
    }


def test_pending_generated_reminders_go_when_their_reason_does(db_session, data_key, worker, login):
    """A kind switched off stops at once; at the next generation a done task, a moved maturity and a
    customer contacted meanwhile drop their pending reminders (a moved maturity gets a new one).
    What is still owed stays, and nothing is generated twice."""
    warrooms = pytest.importorskip("server.warrooms.models")
    rm = factories.make_user(db_session)
    today = date(2032, 6, 1)
    now = datetime(2032, 6, 1, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai: today's reminders are due at 09:00
    person = factories.make_customer(db_session, owner=rm, kind=CustomerKind.individual, data_key=data_key)
    profile = db_session.get(IndividualProfile, person.id)
    profile.birth_date = date(1985, 6, 4)
    company = factories.make_customer(db_session, owner=rm, data_key=data_key, tier=Tier.vip)
    company.created_at = datetime(2032, 1, 1, tzinfo=UTC)
    product = Product(code=f"L{person.id}", name="流动资金贷款", category=ProductCategory.loan,
                      segment="both", terms="1年")  # fmt: skip
    db_session.add_all([profile, company, product])
    db_session.flush()
    holding = Holding(customer_id=company.id, product_id=product.id, balance_cents=10**9,
                      opened_on=date(2031, 6, 5), matures_on=today + timedelta(days=7))  # fmt: skip
    room = warrooms.WarRoom(title="供应链融资攻坚", kind="project_marketing", mode="joint", owner_id=rm.id)
    db_session.add_all([holding, room])
    db_session.flush()
    task = warrooms.WarRoomTask(
        room_id=room.id, item="提交授信材料", assignee_id=rm.id, due_on=today, created_by=rm.id
    )
    db_session.add(task)
    db_session.commit()

    def pending() -> dict[str, str]:
        db_session.expire_all()
        rows = db_session.exec(select(Reminder).where(Reminder.user_id == rm.id, Reminder.fired_at == None))  # noqa: E711
        found = {r.kind: r.source_key for r in rows}
        db_session.commit()  # end the read: the API writes from its own connection
        return found

    assert reminders.generate(db_session, now=now, user_ids=[rm.id]) == 4
    owed = pending()
    assert set(owed) == {"birthday", "maturity", "follow_up", "war_room_task"}
    assert reminders.generate(db_session, now=now + timedelta(minutes=5), user_ids=[rm.id]) == 0
    assert pending() == owed  # still owed: kept, not made again

    api = login(rm)
    assert api.patch("/api/v1/reminder-settings", json={"birthdays": False}).status_code == 200
    assert "birthday" not in pending()  # at once, before any generation runs

    visit = api.post("/api/v1/notes", json={"body": "电话沟通了续贷", "customer_id": company.id})
    task.status = "done"
    holding = db_session.get(Holding, holding.id)
    holding.matures_on = today + timedelta(days=6)
    written = db_session.get(Note, visit.get_json()["id"])
    written.created_at = now  # contact on the controlled clock's day
    db_session.add_all([task, holding, written])
    db_session.commit()
    reminders.generate(db_session, now=now + timedelta(minutes=10), user_ids=[rm.id])
    assert pending() == {"maturity": f"maturity:{holding.id}:{(today + timedelta(days=6)).isoformat()}"}

    _scan(worker, datetime(2032, 6, 1, 1, 0, 20, tzinfo=UTC))  # 09:00 in Shanghai
    [n] = _inbox(db_session, rm)
    assert n.kind == "maturity" and "6月7日" in n.body


def test_war_room_task_due_date(db_session, worker):
    """War rooms are another feature's: their open tasks remind the assignee on the due date."""
    warrooms = pytest.importorskip("server.warrooms.models")
    rm = factories.make_user(db_session)
    room = warrooms.WarRoom(
        title="某集团代发工资攻坚", kind="project_marketing", mode="joint", owner_id=rm.id
    )
    db_session.add(room)
    db_session.flush()
    due = date(2031, 7, 2)
    task = warrooms.WarRoomTask(
        room_id=room.id, item="准备授信方案", assignee_id=rm.id, due_on=due, created_by=rm.id
    )
    finished = warrooms.WarRoomTask(
        room_id=room.id, item="已完成的事", assignee_id=rm.id, due_on=due, created_by=rm.id, status="done"
    )
    db_session.add_all([task, finished])
    db_session.commit()
    generate_reminders.enqueue(now=_iso(datetime(2031, 7, 1, 0, 0, tzinfo=UTC)), user_ids=[rm.id])
    worker.work(burst=True)
    db_session.expire_all()
    [made] = db_session.exec(select(Reminder).where(Reminder.user_id == rm.id)).all()
    assert (made.kind, made.url) == ("war_room_task", f"/war-rooms/{room.id}")
    assert made.due_at.replace(tzinfo=UTC) == datetime(2031, 7, 2, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
    _scan(worker, datetime(2031, 7, 2, 1, 0, 20, tzinfo=UTC))
    [n] = _inbox(db_session, rm)
    assert n.kind == "war_room_task" and "准备授信方案" in n.body
