"""Conduct oversight end to end: the daily run stores scores and alerts the risk officer; access
(RMs and admins 403, team leads their team only, every view audited); cases with every step audited
and dispositions feeding per-rule precision; the near-real-time refresh after a reveal (one job per
RM, deterministic id) and the departing-RM check, both through a real RQ worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from sqlmodel import col, select

from server import events
from server.audit.models import AuditEntry
from server.conduct import runs
from server.conduct.models import ConductScore, ConductSignal
from server.inbox.models import Notification
from server.org.models import Role, User
from server.timeutil import utcnow
from tasks.conduct import on_event as conduct_sink
from tasks.conduct import run_daily as run_daily_job
from tasks.queues import DEFAULT, LOW, queue
from tests import factories


def _late_outside_reveals(session, rm, customer, count: int = 25) -> None:
    """A burst of reveals late at night (Beijing) from outside the bank's network, two days ago."""
    start = (utcnow() - timedelta(days=2)).replace(hour=15, minute=10, second=0, microsecond=0)  # 23:10 local
    for k in range(count):
        session.add(
            AuditEntry(
                at=start + timedelta(seconds=20 * k),
                actor_id=rm.id,
                action="customer.reveal",
                object_type="customer",
                object_id=str(customer.id),
                ip="117.30.1.9",
                detail={"field": "phone", "reason": "核实"},
            )
        )
    session.commit()


def _ranked(client) -> tuple[list[dict], int]:
    """Every RM the client may see, page by page (the test database holds the whole run's RMs), and
    how many list pages that took (each page view is audited)."""
    items: list[dict] = []
    pages = 0
    while True:
        page = client.get(f"/api/v1/conduct/rms?limit=200&offset={len(items)}")
        assert page.status_code == 200
        assert page.headers["Cache-Control"] == "no-store"
        pages += 1
        batch = page.get_json()["items"]
        items += batch
        if len(batch) < 200:
            return items, pages


@pytest.fixture
def org(db_session, data_key):
    branch = factories.make_branch(db_session)
    team = factories.make_team(db_session, branch=branch)
    lead = db_session.get(User, team.lead_id)
    rm_a = factories.make_user(db_session, branch=branch, team=team)
    rm_b = factories.make_user(db_session, branch=branch, team=team)
    rm_c = factories.make_user(db_session)
    risk = factories.make_user(db_session, role=Role.risk_officer, persona=None)
    admin = factories.make_user(db_session, role=Role.admin, persona=None)
    customer = factories.make_customer(db_session, owner=rm_a, data_key=data_key)
    return {
        "lead": lead,
        "rm_a": rm_a,
        "rm_b": rm_b,
        "rm_c": rm_c,
        "risk": risk,
        "admin": admin,
        "customer": customer,
    }


def test_daily_run_access_cases_and_precision(org, db_session, login):
    _late_outside_reveals(db_session, org["rm_a"], org["customer"])
    admin = login(org["admin"])
    assert admin.get("/api/v1/conduct/rms").status_code == 403  # admins configure, never see scores
    tuned = admin.put("/api/v1/conduct/rules/_score", json={"params": {"alert_at": 30}})
    assert tuned.status_code == 200, tuned.get_json()
    bad = admin.put("/api/v1/conduct/rules/reveal_burst", json={"params": {"burst_count": "many"}})
    assert bad.status_code == 422 and bad.get_json()["code"] == "validation"
    assert (
        login(org["risk"]).put("/api/v1/conduct/rules/_score", json={"params": {"alert_at": 10}}).status_code
        == 403
    )

    run = runs.run_daily(db_session)
    assert run.rm_count >= 3

    risk = login(org["risk"])
    listing, risk_pages = _ranked(risk)
    by_rm = {item["rm_id"]: item for item in listing}
    flagged = by_rm[org["rm_a"].id]
    assert "reveal_burst" in flagged["fired"]
    assert flagged["reasons"][0]["rule"] == "reveal_burst" and "深夜" in flagged["reasons"][0]["explanation"]
    assert "reveal_burst" not in by_rm[org["rm_b"].id]["fired"]

    detail = risk.get(f"/api/v1/conduct/rms/{org['rm_a'].id}").get_json()
    signal = next(s for s in detail["signals"] if s["rule"] == "reveal_burst")
    assert signal["fired"] and signal["evidence_count"] > 0
    timeline = [e for e in detail["timeline"] if e["rule"] == "reveal_burst"]
    assert timeline and timeline[0]["type"] == "audit" and timeline[0]["customer_id"] == org["customer"].id
    assert len(detail["signals"]) == 15  # every rule in server/conduct/rules/registry.py

    # the alert reached the risk officer's inbox, once per RM and day
    notes = db_session.exec(
        select(Notification).where(Notification.user_id == org["risk"].id, Notification.kind == "conduct")
    ).all()
    assert any(n.url == f"/conduct/rms/{org['rm_a'].id}" for n in notes)
    runs.run_daily(db_session)
    again = db_session.exec(
        select(Notification).where(
            Notification.user_id == org["risk"].id, Notification.url == f"/conduct/rms/{org['rm_a'].id}"
        )
    ).all()
    assert len(again) == 1

    # team lead: own team only; another team's RM answers like a missing one
    lead = login(org["lead"])
    lead_listing, lead_pages = _ranked(lead)
    seen = {item["rm_id"] for item in lead_listing}
    assert seen == {org["rm_a"].id, org["rm_b"].id}
    assert lead.get(f"/api/v1/conduct/rms/{org['rm_c'].id}").status_code == 404
    assert lead.get("/api/v1/conduct/rms/999999").status_code == 404
    assert lead.get(f"/api/v1/conduct/rms/{org['rm_a'].id}").status_code == 200

    # RMs never see scores, their own included
    rm = login(org["rm_a"])
    assert rm.get("/api/v1/conduct/rms").status_code == 403
    assert rm.get(f"/api/v1/conduct/rms/{org['rm_a'].id}").status_code == 403
    assert rm.get("/api/v1/conduct/cases").status_code == 403

    views = db_session.exec(
        select(AuditEntry).where(
            col(AuditEntry.action).in_(["conduct.view_list", "conduct.view_rm"]),
            AuditEntry.actor_id.in_([org["risk"].id, org["lead"].id]),
        )  # type: ignore[attr-defined]
    ).all()
    assert (
        len(views) == risk_pages + lead_pages + 2
    )  # the list pages and two RM pages (the 404s showed nothing)

    # a case: open, assign, note, escalate, close — every step audited
    opened = lead.post("/api/v1/conduct/cases", json={"rm_id": org["rm_a"].id, "note": "请风险经理核查"})
    assert opened.status_code == 201, opened.get_json()
    case = opened.get_json()
    assert case["rules"] == flagged["fired"] and case["status"] == "open"
    assert lead.post("/api/v1/conduct/cases", json={"rm_id": org["rm_c"].id}).status_code == 404
    cid = case["id"]
    assert (
        lead.post(
            f"/api/v1/conduct/cases/{cid}/actions", json={"action": "close", "disposition": "confirmed"}
        ).status_code
        == 403
    )
    step = risk.post(
        f"/api/v1/conduct/cases/{cid}/actions", json={"action": "assign", "assignee_id": org["risk"].id}
    )
    assert step.status_code == 200
    stale = risk.post(
        f"/api/v1/conduct/cases/{cid}/actions", json={"action": "note", "note": "旧版本", "version": 1}
    )
    assert stale.status_code == 412
    assert (
        risk.post(
            f"/api/v1/conduct/cases/{cid}/actions", json={"action": "note", "note": "已调取通话记录"}
        ).status_code
        == 200
    )
    assert (
        lead.post(
            f"/api/v1/conduct/cases/{cid}/actions", json={"action": "escalate", "note": "升级"}
        ).status_code
        == 200
    )
    closed = risk.post(
        f"/api/v1/conduct/cases/{cid}/actions",
        json={"action": "close", "disposition": "confirmed", "note": "属实"},
    )
    assert closed.status_code == 200 and closed.get_json()["status"] == "confirmed"
    assert [e["kind"] for e in closed.get_json()["events"]] == ["open", "assign", "note", "escalate", "close"]
    assert risk.post(f"/api/v1/conduct/cases/{cid}/actions", json={"action": "escalate"}).status_code == 409
    audited = db_session.exec(
        select(AuditEntry.action).where(
            AuditEntry.object_type == "conduct_case", AuditEntry.object_id == str(cid)
        )
    ).all()
    assert sorted(audited) == sorted(
        f"conduct.case.{k}" for k in ("open", "assign", "note", "escalate", "close")
    )

    rules = {r["rule"]: r for r in risk.get("/api/v1/conduct/rules").get_json()["items"]}
    assert rules["reveal_burst"]["precision"]["precision"] == 1.0


def test_a_reveal_refreshes_the_rm_within_the_minute(org, db_session, login, worker, data_key):
    rm = org["rm_b"]
    customer = factories.make_customer(db_session, owner=rm, data_key=data_key)
    _late_outside_reveals(db_session, rm, customer, count=24)
    api = login(rm)
    events.add_sink(conduct_sink)
    try:
        for _ in range(3):
            assert (
                api.post(
                    f"/api/v1/customers/{customer.id}/reveal", json={"field": "phone", "reason": "回电客户"}
                ).status_code
                == 200
            )
    finally:
        events.remove_sink(conduct_sink)
    queued = [job_id for job_id in queue(DEFAULT).job_ids if job_id.startswith("conduct-rt-")]
    assert queued.count(f"conduct-rt-{rm.id}") == 1  # three events, one pending refresh
    worker.work(burst=True)
    db_session.expire_all()
    today = runs.bank_today()
    row = db_session.exec(
        select(ConductScore).where(ConductScore.rm_id == rm.id, ConductScore.as_of == today)
    ).one()
    assert "reveal_burst" in row.fired
    signal = db_session.exec(
        select(ConductSignal).where(
            ConductSignal.rm_id == rm.id, ConductSignal.as_of == today, ConductSignal.rule == "reveal_burst"
        )
    ).one()
    assert signal.value >= 24
    booked = ScheduledJobRegistry(queue=queue(LOW)).get_job_ids()
    assert any(job_id.startswith("conduct-daily-") for job_id in booked)  # the daily chain is booked

    # the daily job itself, through the worker
    job = run_daily_job.enqueue(job_id="conduct-daily-test")  # type: ignore[attr-defined]
    worker.work(burst=True)
    job.refresh()
    assert job.get_status() == "finished" and job.return_value()["rms"] >= 2


def test_departing_check_lists_customers_at_risk(org, db_session, login, worker, data_key):
    customer = factories.make_customer(db_session, owner=org["rm_a"], data_key=data_key)
    _late_outside_reveals(db_session, org["rm_a"], customer, count=12)
    lead = login(org["lead"])
    events.add_sink(conduct_sink)
    try:
        started = lead.post(f"/api/v1/conduct/rms/{org['rm_a'].id}/departing-check")
    finally:
        events.remove_sink(conduct_sink)
    assert started.status_code == 202, started.get_json()
    check_id = started.get_json()["id"]
    assert started.get_json()["status"] == "queued"
    assert lead.post(f"/api/v1/conduct/rms/{org['rm_c'].id}/departing-check").status_code == 404
    worker.work(burst=True)
    result = lead.get(f"/api/v1/conduct/checks/{check_id}").get_json()
    assert result["status"] == "done" and result["progress"] == 100
    assert result["result"]["window_days"] == 90 and len(result["result"]["signals"]) == 15
    at_risk = {c["customer_id"]: c for c in result["result"]["customers"]}
    assert customer.id in at_risk and any("敏感信息" in why for why in at_risk[customer.id]["reasons"])
    assert login(org["rm_a"]).get(f"/api/v1/conduct/checks/{check_id}").status_code == 403


def test_customer_email_matched_against_staff_email_and_never_returned(org, db_session, login):
    """An RM registers his own work mailbox (as typed, another case and a +tag) as a customer's
    e-mail through the API: the address is stored but never sent back, the audit names the field
    only, and the daily run flags shared_email on that RM with the customer as evidence."""
    rm = org["rm_a"]
    rm.email = "wang.rm@zhanye-bank.cn"
    db_session.add(rm)
    db_session.commit()
    customer = org["customer"]
    client = login(rm)
    bad = client.patch(
        f"/api/v1/customers/{customer.id}", json={"email": "not an address", "version": customer.version}
    )
    assert bad.status_code == 422
    done = client.patch(
        f"/api/v1/customers/{customer.id}",
        json={"email": "Wang.RM+stmt@Zhanye-Bank.cn", "version": customer.version},
    )
    assert done.status_code == 200, done.get_json()
    shown = client.get(f"/api/v1/customers/{customer.id}")
    assert "wang.rm" not in shown.get_data(as_text=True).lower()
    audit = db_session.exec(
        select(AuditEntry).where(AuditEntry.action == "customer.update").order_by(col(AuditEntry.id).desc())
    ).first()
    assert audit is not None and "email" in audit.detail["fields"] and "Wang" not in str(audit.detail)

    runs.run_daily(db_session)
    score = db_session.exec(
        select(ConductScore).where(ConductScore.rm_id == rm.id).order_by(col(ConductScore.id).desc())
    ).first()
    assert score is not None and "shared_email" in score.fired
    signal = db_session.exec(
        select(ConductSignal)
        .where(ConductSignal.rm_id == rm.id, ConductSignal.rule == "shared_email")
        .order_by(col(ConductSignal.id).desc())
    ).first()
    assert signal is not None and any(item.get("customer_id") == customer.id for item in signal.evidence)
    other = db_session.exec(
        select(ConductScore).where(ConductScore.rm_id == org["rm_b"].id).order_by(col(ConductScore.id).desc())
    ).first()
    assert other is not None and "shared_email" not in other.fired
