"""Helper tasks (助手): the grant lives exactly as long as the task, is audited both ways, and a helper
never sees the super RM's other customers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import col, select

from server.audit.models import AuditEntry
from server.customers.models import CustomerGrant
from server.inbox.models import Notification
from server.org.models import Persona
from server.performance.models import PerformanceEntry
from tests import factories


@pytest.fixture
def team(db_session, data_key):
    s = db_session
    branch = factories.make_branch(s)
    team = factories.make_team(s, branch=branch)
    superrm = factories.make_user(s, branch=branch, team=team, persona=Persona.super, display_name="超级甲")
    newcomer = factories.make_user(
        s, branch=branch, team=team, persona=Persona.newcomer, display_name="新人乙"
    )
    general = factories.make_user(s, branch=branch, team=team, persona=Persona.general)
    third = factories.make_user(s, branch=branch, team=team, persona=Persona.excellent)
    outsider = factories.make_user(s, persona=Persona.newcomer)
    customers = [factories.make_customer(s, owner=superrm, data_key=data_key) for _ in range(3)]
    return {
        "super": superrm,
        "newcomer": newcomer,
        "general": general,
        "third": third,
        "outsider": outsider,
        "customers": customers,
    }


def _task(api, helper, customer, **extra):
    payload = {
        "helper_id": helper.id,
        "customer_id": customer.id,
        "kind": "collect_documents",
        "title": "收集年报与纳税证明",
        "due_on": (date.today() + timedelta(days=5)).isoformat(),
        "credit_cents": 200_00,
    }
    payload.update(extra)
    return api.post("/api/v1/helpers/tasks", json=payload)


def _grants(session, task_id):
    return session.exec(
        select(CustomerGrant).where(
            CustomerGrant.source_type == "helper_task", CustomerGrant.source_id == task_id
        )
    ).all()


def _audits(session, action, customer_id):
    return [
        e
        for e in session.exec(
            select(AuditEntry).where(AuditEntry.action == action, AuditEntry.object_id == str(customer_id))
        ).all()
        if e.detail.get("source_type") == "helper_task"
    ]


def test_grant_starts_and_ends_with_the_task(team, db_session, login):
    boss, helper = login(team["super"]), login(team["newcomer"])
    c1, c2, _ = team["customers"]
    assert helper.get(f"/api/v1/customers/{c1.id}").status_code == 404  # before the task: nothing

    created = _task(boss, team["newcomer"], c1)
    assert created.status_code == 201, created.get_data(as_text=True)
    task = created.get_json()
    grants = _grants(db_session, task["id"])
    assert len(grants) == 1 and grants[0].user_id == team["newcomer"].id and grants[0].revoked_at is None
    assert len(_audits(db_session, "customer.grant", c1.id)) == 1
    note = db_session.exec(
        select(Notification).where(
            Notification.user_id == team["newcomer"].id, Notification.kind == "helper_task"
        )
    ).first()
    assert note is not None and "超级甲" in note.title

    # Just that customer: the super RM's others answer as if they did not exist.
    assert helper.get(f"/api/v1/customers/{c1.id}").status_code == 200
    assert helper.get(f"/api/v1/customers/{c2.id}").status_code == 404
    listed = [c["id"] for c in helper.get("/api/v1/customers").get_json()["items"]]
    assert c2.id not in listed

    # Progress reaches the super RM (inbox, then socket/push after commit); a stale version is refused.
    progressed = helper.patch(
        f"/api/v1/helpers/tasks/{task['id']}",
        json={"version": 1, "progress": 40, "progress_note": "年报已拿到"},
    )
    assert progressed.status_code == 200 and progressed.get_json()["status"] == "doing"
    assert (
        helper.patch(f"/api/v1/helpers/tasks/{task['id']}", json={"version": 1, "progress": 50}).status_code
        == 412
    )
    assert (
        db_session.exec(
            select(Notification).where(
                Notification.user_id == team["super"].id, Notification.kind == "helper_task"
            )
        ).first()
        is not None
    )
    assert (
        boss.patch(f"/api/v1/helpers/tasks/{task['id']}", json={"version": 2, "progress": 90}).status_code
        == 403
    )

    mine = helper.get("/api/v1/helpers/tasks").get_json()["for_me"]
    assert mine[0]["owner"]["display_name"] == "超级甲" and mine[0]["customer_name"] == c1.name

    done = helper.patch(f"/api/v1/helpers/tasks/{task['id']}", json={"version": 2, "status": "done"})
    assert done.status_code == 200
    db_session.expire_all()
    assert all(g.revoked_at is not None for g in _grants(db_session, task["id"]))
    revokes = _audits(db_session, "customer.revoke", c1.id)
    assert len(revokes) == 1 and revokes[0].detail["reason"] == "task done"
    assert helper.get(f"/api/v1/customers/{c1.id}").status_code == 404  # the grant ended with the task
    after = helper.get(f"/api/v1/helpers/tasks/{task['id']}").get_json()
    assert after["customer_name"] is None and after["status"] == "done"
    credit = db_session.exec(
        select(PerformanceEntry).where(PerformanceEntry.source_ref == f"helper_task:{task['id']}:helper")
    ).all()
    assert [(e.rm_id, e.amount_cents, e.kind) for e in credit] == [
        (team["newcomer"].id, 200_00, "shared_credit")
    ]
    assert (
        helper.patch(f"/api/v1/helpers/tasks/{task['id']}", json={"version": 3, "progress": 10}).status_code
        == 409
    )


def test_cancel_ends_the_grant_without_credit(team, db_session, login):
    boss, helper = login(team["super"]), login(team["newcomer"])
    c1 = team["customers"][1]
    task = _task(boss, team["newcomer"], c1).get_json()
    assert (
        helper.patch(
            f"/api/v1/helpers/tasks/{task['id']}", json={"version": 1, "status": "cancelled"}
        ).status_code
        == 403
    )
    assert (
        boss.patch(
            f"/api/v1/helpers/tasks/{task['id']}", json={"version": 1, "status": "cancelled"}
        ).status_code
        == 200
    )
    db_session.expire_all()
    assert all(g.revoked_at is not None for g in _grants(db_session, task["id"]))
    assert _audits(db_session, "customer.revoke", c1.id)[-1].detail["reason"] == "task cancelled"
    assert not db_session.exec(
        select(PerformanceEntry).where(col(PerformanceEntry.source_ref) == f"helper_task:{task['id']}:helper")
    ).all()
    assert helper.get(f"/api/v1/customers/{c1.id}").status_code == 404


def test_who_may_hand_out_and_receive_tasks(team, login, db_session):
    boss = login(team["super"])
    c1, c2, c3 = team["customers"]
    # Only a super RM hands out tasks, and only on their own customers, to teammates.
    assert _task(login(team["general"]), team["newcomer"], c1).status_code == 403
    assert _task(boss, team["outsider"], c1).status_code == 404
    # Newcomers first among the candidates.
    candidates = boss.get("/api/v1/helpers/candidates").get_json()["items"]
    assert candidates[0]["id"] == team["newcomer"].id
    assert team["outsider"].id not in [c["id"] for c in candidates]
    # One or two helpers at a time.
    assert _task(boss, team["newcomer"], c1).status_code == 201
    assert _task(boss, team["general"], c2).status_code == 201
    limited = _task(boss, team["third"], c3)
    assert limited.status_code == 409 and limited.get_json()["code"] == "helper-limit"
    assert _task(boss, team["newcomer"], c3).status_code == 201  # a current helper may take more
    # A stranger cannot read a task.
    task_id = boss.get("/api/v1/helpers/tasks").get_json()["mine"][0]["id"]
    assert login(team["third"]).get(f"/api/v1/helpers/tasks/{task_id}").status_code == 404
