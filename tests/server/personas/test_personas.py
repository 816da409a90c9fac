"""Personas from data: the rule model on hand-made RMs, the monthly run and its history, a lead's
override (audited), access (a lead sees only their team), mentor pairing's load balance, the weekly
check-in reminder (exactly once for each of the pair), shared notes, thresholds and the cohort view."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from server.audit.models import AuditEntry
from server.inbox.models import Notification
from server.notebook import reminders
from server.notebook.models import Reminder, ReminderKind
from server.org.models import Persona, RmProfile, Role, User
from server.performance.models import PerformanceEntry, PerformanceTarget
from server.personas import mentoring, service
from server.personas.models import Mentorship, PersonaClassification
from server.personas.rules import DEFAULT_THRESHOLDS, Features, classify
from server.timeutil import month_key, shift_month
from tests import factories

AS_OF = date(2026, 11, 15)

BASE = Features(
    tenure_months=40,
    customers=100,
    book_ratio=1.0,
    top_share=0.2,
    completion=1.02,
    last_completion=1.0,
    volatility=0.05,
    months_measured=6,
    conduct_score=None,
)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"tenure_months": 4, "last_completion": 0.62, "completion": 0.5}, Persona.newcomer),
        ({}, Persona.general),
        ({"completion": 1.25, "book_ratio": 1.4}, Persona.excellent),
        ({"completion": 1.25, "book_ratio": 0.6}, Persona.general),  # results without a book: not yet
        ({"completion": 1.8, "book_ratio": 2.6, "top_share": 0.5}, Persona.super),
        ({"completion": 1.8, "book_ratio": 2.6, "top_share": 0.1}, Persona.excellent),  # small customers only
        ({"tenure_months": 150, "volatility": 0.55, "completion": 1.2, "book_ratio": 1.1}, Persona.veteran),
        ({"tenure_months": 150, "conduct_score": 75.0}, Persona.veteran),
        ({"tenure_months": 150, "completion": 0.6}, Persona.veteran),  # coasting
        ({"tenure_months": 60, "volatility": 0.55}, Persona.general),  # swings, but not long in post
        (
            {"tenure_months": 2, "completion": None, "last_completion": None, "volatility": None},
            Persona.newcomer,
        ),
    ],
)
def test_rules_on_hand_made_rms(changes, expected):
    persona, _rule, reasons = classify(replace(BASE, **changes), DEFAULT_THRESHOLDS)
    assert persona == expected, reasons
    assert reasons and all(isinstance(r, str) for r in reasons)


def test_explanation_is_chinese_and_names_the_figures():
    f = replace(BASE, tenure_months=4, last_completion=0.62, completion=0.55, months_measured=3)
    persona, rule, reasons = classify(f, DEFAULT_THRESHOLDS)
    assert (persona, rule) == (Persona.newcomer, "tenure")
    assert "入行 4 个月" in reasons
    assert "上月完成率 62%" in reasons


def test_tuned_thresholds_change_the_outcome():
    f = replace(BASE, completion=1.1, book_ratio=1.2)
    assert classify(f, DEFAULT_THRESHOLDS)[0] == Persona.general
    assert classify(f, {**DEFAULT_THRESHOLDS, "excellent_completion": 1.05})[0] == Persona.excellent


# --- helpers over the real database -----------------------------------------------------------------


def _rm(session: Session, team, *, hired: date, name: str = "客户经理") -> int:
    user = factories.make_user(session, team=team, display_name=name)
    profile = session.get(RmProfile, user.id)
    assert profile is not None
    profile.hire_date = hired
    session.add(profile)
    session.commit()
    return user.id  # type: ignore[return-value]


def _ledger(
    session: Session, rm_id: int, ratios: list[float], *, as_of: date = AS_OF, target: int = 1_000_000
) -> None:
    """Targets and revenue for the full months before `as_of`, oldest first."""
    this = month_key(as_of)
    for n, ratio in enumerate(ratios):
        month = shift_month(this, -(len(ratios) - n))
        session.add(
            PerformanceTarget(
                rm_id=rm_id,
                month=month,
                revenue_target_cents=target,
                new_business_target_cents=target,
                new_customers_target=3,
            )
        )
        day = date(int(month[:4]), int(month[5:]), 10)
        session.add(
            PerformanceEntry(rm_id=rm_id, booked_on=day, kind="revenue", amount_cents=int(target * ratio))
        )
        if ratio > 0:
            session.add(
                PerformanceEntry(
                    rm_id=rm_id, booked_on=day, kind="new_business", amount_cents=int(target * ratio)
                )
            )
    session.commit()


@pytest.fixture
def team_setup(db_session):
    lead = factories.make_user(db_session, role=Role.team_lead, persona=None, display_name="团队长")
    team = factories.make_team(db_session, lead=lead)
    return lead, team


def test_monthly_run_classifies_from_data_and_keeps_history(db_session, team_setup):
    _lead, team = team_setup
    newcomer = _rm(db_session, team, hired=AS_OF - timedelta(days=120), name="新人")
    steady = _rm(db_session, team, hired=date(2020, 1, 5), name="稳健")
    _ledger(db_session, newcomer, [0.5, 0.6, 0.62])
    _ledger(db_session, steady, [1.0, 1.02, 0.99, 1.01, 1.0, 1.03])
    ids = [newcomer, steady]
    # The stored persona is wrong on purpose: the classifier must not read it.
    for uid in ids:
        profile = db_session.get(RmProfile, uid)
        profile.persona = Persona.super
        db_session.add(profile)
    db_session.commit()

    service.classify_all(db_session, as_of=AS_OF, rm_ids=ids)
    db_session.expire_all()
    assert db_session.get(RmProfile, newcomer).persona == Persona.newcomer
    assert db_session.get(RmProfile, steady).persona == Persona.general
    row = db_session.exec(select(PersonaClassification).where(PersonaClassification.rm_id == newcomer)).one()
    assert "入行 3 个月" in row.reasons and "上月完成率 62%" in row.reasons

    # the same month again replaces its rows; a later month where the data changed adds history
    service.classify_all(db_session, as_of=AS_OF, rm_ids=ids)
    assert (
        len(
            db_session.exec(
                select(PersonaClassification).where(PersonaClassification.rm_id == newcomer)
            ).all()
        )
        == 1
    )
    later = AS_OF + timedelta(days=100)  # past six months in post
    service.classify_all(db_session, as_of=later, rm_ids=ids)
    db_session.expire_all()
    assert db_session.get(RmProfile, newcomer).persona == Persona.general
    user = db_session.get(factories.User, newcomer)
    history = service.rm_persona(db_session, viewer=user, rm_id=newcomer)["history"]
    assert [(h["kind"], h["persona"], h["from"]) for h in history] == [
        ("classified", "general", "newcomer"),
        ("classified", "newcomer", None),
    ]


def test_lead_override_is_audited_and_survives_the_next_run(db_session, team_setup, login):
    lead, team = team_setup
    rm_id = _rm(db_session, team, hired=date(2019, 6, 1))
    _ledger(db_session, rm_id, [1.0] * 6)
    service.classify_all(db_session, as_of=AS_OF, rm_ids=[rm_id])
    api = login(lead)
    r = api.put(
        f"/api/v1/personas/rms/{rm_id}/override",
        json={"persona": "excellent", "reason": "本季度带队拿下两个项目"},
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["persona"] == "excellent"
    assert r.get_json()["classification"]["persona"] == "general"
    entry = db_session.exec(
        select(AuditEntry).where(AuditEntry.action == "persona.override", AuditEntry.object_id == str(rm_id))
    ).one()
    assert entry.actor_id == lead.id
    assert entry.detail == {
        "persona": "excellent",
        "classified": "general",
        "reason": "本季度带队拿下两个项目",
    }

    service.classify_all(db_session, as_of=AS_OF + timedelta(days=31), rm_ids=[rm_id])
    db_session.expire_all()
    assert db_session.get(RmProfile, rm_id).persona == Persona.excellent  # the override holds

    assert (
        api.put(
            f"/api/v1/personas/rms/{rm_id}/override", json={"persona": "super", "reason": " "}
        ).status_code
        == 422
    )
    r = api.delete(f"/api/v1/personas/rms/{rm_id}/override")
    assert r.status_code == 200 and r.get_json()["persona"] == "general"
    assert db_session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "persona.override_cleared", AuditEntry.object_id == str(rm_id)
        )
    ).first()
    kinds = [h["kind"] for h in r.get_json()["history"]]
    assert "override" in kinds and "override_cleared" in kinds


def test_a_lead_sees_and_overrides_only_their_own_team(db_session, team_setup, login):
    lead, team = team_setup
    mine = _rm(db_session, team, hired=date(2021, 1, 1), name="本队")
    other_lead = factories.make_user(db_session, role=Role.team_lead, persona=None)
    other_team = factories.make_team(db_session, lead=other_lead)
    theirs = _rm(db_session, other_team, hired=date(2021, 1, 1), name="别队")
    service.classify_all(db_session, as_of=AS_OF, rm_ids=[mine, theirs])

    api = login(lead)
    assert [i["rm_id"] for i in api.get("/api/v1/personas/team").get_json()["items"]] == [mine]
    assert api.get(f"/api/v1/personas/rms/{mine}").status_code == 200
    assert api.get(f"/api/v1/personas/rms/{theirs}").status_code == 404
    assert (
        api.put(
            f"/api/v1/personas/rms/{theirs}/override", json={"persona": "super", "reason": "x"}
        ).status_code
        == 404
    )
    # an RM reads only themself, and cannot override
    rm_api = login(db_session.get(factories.User, mine))
    assert rm_api.get("/api/v1/personas/me").get_json()["rm_id"] == mine
    assert rm_api.get(f"/api/v1/personas/rms/{theirs}").status_code == 404
    assert (
        rm_api.put(
            f"/api/v1/personas/rms/{mine}/override", json={"persona": "super", "reason": "x"}
        ).status_code
        == 403
    )
    assert rm_api.get("/api/v1/personas/team").status_code == 403
    assert rm_api.get("/api/v1/personas/cohorts").status_code == 403


def _persona(session: Session, uid: int, persona: Persona) -> None:
    profile = session.get(RmProfile, uid)
    profile.persona = persona
    session.add(profile)
    session.commit()


def test_pairing_balances_the_load_within_the_team(db_session, team_setup):
    _lead, team = team_setup
    today = AS_OF
    e1 = _rm(db_session, team, hired=date(2018, 1, 1))
    e2 = _rm(db_session, team, hired=date(2018, 1, 1))
    s1 = _rm(db_session, team, hired=date(2010, 1, 1))
    for uid, p in ((e1, Persona.excellent), (e2, Persona.excellent), (s1, Persona.super)):
        _persona(db_session, uid, p)
    newcomers = [_rm(db_session, team, hired=today - timedelta(days=20 + i)) for i in range(5)]
    for uid in newcomers:
        _persona(db_session, uid, Persona.newcomer)
    # an excellent RM of another team is never a mentor here
    other_team = factories.make_team(db_session)
    outsider = _rm(db_session, other_team, hired=date(2015, 1, 1))
    _persona(db_session, outsider, Persona.excellent)

    mentoring.pair_newcomers(db_session, today=today)
    db_session.commit()
    pairs = db_session.exec(
        select(Mentorship).where(col(Mentorship.mentee_id).in_(newcomers), col(Mentorship.ended_on).is_(None))
    ).all()
    assert sorted(p.mentee_id for p in pairs) == sorted(newcomers)
    load = {m: sum(1 for p in pairs if p.mentor_id == m) for m in (e1, e2, s1)}
    assert load == {e1: 2, e2: 2, s1: 1}  # balanced; excellent RMs take the extra (super ones have no time)
    assert outsider not in {p.mentor_id for p in pairs}
    # running again changes nothing; six months on, the pairs end
    assert mentoring.pair_newcomers(db_session, today=today) == {"paired": 0, "ended": 0}
    result = mentoring.pair_newcomers(db_session, today=today + timedelta(days=200))
    db_session.commit()
    assert result["ended"] >= 5
    assert all(
        p.end_reason == "six_months"
        for p in db_session.exec(select(Mentorship).where(col(Mentorship.mentee_id).in_(newcomers))).all()
    )


def test_weekly_checkin_reaches_mentor_and_newcomer_exactly_once(db_session, team_setup, login):
    _lead, team = team_setup
    started = date(2026, 11, 2)
    mentor = _rm(db_session, team, hired=date(2016, 1, 1), name="导师")
    mentee = _rm(db_session, team, hired=started - timedelta(days=10), name="新人")
    _persona(db_session, mentor, Persona.excellent)
    _persona(db_session, mentee, Persona.newcomer)
    pair = Mentorship(mentee_id=mentee, mentor_id=mentor, team_id=team.id, started_on=started)
    db_session.add(pair)
    db_session.commit()

    def notifications(uid: int) -> list[Notification]:
        return list(
            db_session.exec(
                select(Notification).where(
                    Notification.user_id == uid, col(Notification.source_key).contains("reminder:")
                )
            ).all()
        )

    week_one = datetime(2026, 11, 9, 0, 0, tzinfo=UTC)  # 08:00 in Beijing, before the 09:00 check-in
    for hour in range(0, 30, 3):  # the hourly generator and the minute scan, running again and again
        now = week_one + timedelta(hours=hour)
        reminders.generate(db_session, now=now, user_ids=[mentor, mentee])
        reminders.fire_due(db_session, now=now)
        reminders.fire_due(db_session, now=now)
    for uid in (mentor, mentee):
        rows = db_session.exec(
            select(Reminder).where(Reminder.user_id == uid, Reminder.kind == ReminderKind.mentor_checkin)
        ).all()
        assert [r.source_key for r in rows] == [f"mentor_checkin:{pair.id}:1"]
        assert rows[0].fired_at is not None
        assert len(notifications(uid)) == 1
    # the next week brings the next one, once
    week_two = week_one + timedelta(days=7)
    for hour in (0, 2, 5):
        reminders.generate(db_session, now=week_two + timedelta(hours=hour), user_ids=[mentor, mentee])
        reminders.fire_due(db_session, now=week_two + timedelta(hours=hour))
    assert len(notifications(mentee)) == 2 and len(notifications(mentor)) == 2


def test_the_pair_shares_notes_and_the_lead_reads_them(db_session, team_setup, login):
    lead, team = team_setup
    mentor = _rm(db_session, team, hired=date(2016, 1, 1))
    mentee = _rm(db_session, team, hired=AS_OF - timedelta(days=30))
    stranger = _rm(db_session, team, hired=date(2016, 1, 1))
    pair = Mentorship(mentee_id=mentee, mentor_id=mentor, team_id=team.id, started_on=AS_OF)
    db_session.add(pair)
    db_session.commit()
    url = f"/api/v1/personas/mentorships/{pair.id}/notes"
    assert (
        login(db_session.get(factories.User, mentee))
        .post(url, json={"body": "本周拜访了三家小微企业"})
        .status_code
        == 201
    )
    assert (
        login(db_session.get(factories.User, mentor))
        .post(url, json={"body": "下周一起看授信方案"})
        .status_code
        == 201
    )
    got = login(db_session.get(factories.User, mentor)).get(url).get_json()
    assert [n["body"] for n in got["items"]] == ["下周一起看授信方案", "本周拜访了三家小微企业"]
    assert login(lead).get(url).status_code == 200
    assert login(lead).get(url).get_json()["can_write"] is False
    assert login(db_session.get(factories.User, stranger)).get(url).status_code == 404


def test_admin_tunes_thresholds(db_session, login):
    admin = factories.make_user(db_session, role=Role.admin, persona=None)
    api = login(admin)
    current = api.get("/api/v1/personas/thresholds").get_json()
    assert current["effective"]["newcomer_months"] == 6
    bad = api.put(
        "/api/v1/personas/thresholds", json={"value": {"newcomer_months": 99}, "version": current["version"]}
    )
    assert bad.status_code == 422
    good = api.put(
        "/api/v1/personas/thresholds", json={"value": {"newcomer_months": 9}, "version": current["version"]}
    )
    assert good.status_code == 200 and good.get_json()["effective"]["newcomer_months"] == 9
    stale = api.put("/api/v1/personas/thresholds", json={"value": {}, "version": current["version"]})
    assert stale.status_code == 412
    api.put("/api/v1/personas/thresholds", json={"value": {}, "version": good.get_json()["version"]})
    rm_api = login(factories.make_user(db_session))
    assert rm_api.get("/api/v1/personas/thresholds").status_code == 403


def test_cohort_view_counts_months_to_first_sale_and_target(db_session, team_setup, login):
    lead, team = team_setup
    today = date.today()
    hired = date(today.year, today.month, 1) - timedelta(days=150)
    hired = date(hired.year, hired.month, 3)
    newcomer = _rm(db_session, team, hired=hired, name="新人甲")
    # the hire month: no sale; the next 60% of target; the one after 105%
    months_since = (today.year - hired.year) * 12 + today.month - hired.month
    ratios = [0.0, 0.6, 1.05] + [0.9] * (months_since - 3)
    _ledger(db_session, newcomer, ratios, as_of=today)
    data = login(lead).get("/api/v1/personas/cohorts").get_json()
    row = next(n for n in data["newcomers"] if n["rm_id"] == newcomer)
    assert row["months_to_first_sale"] == 1
    assert row["months_to_target"] == 2
    assert row["readiness"] is None  # no quiz answered yet
    assert any(c["cohort"] == row["cohort"] for c in data["cohorts"])

    # one right quiz answer gives the newcomer a readiness the lead sees (server/learning)
    from server.learning import quiz
    from server.products.models import Product

    product = Product(
        code=factories.unique("P")[:16],
        name="测试代发",
        category="payroll",
        segment="corporate",
        terms="按笔收费",
        risk_level="R2",
        selling_points=["到账快", "对接简单", "员工福利多"],
        advantages=["费率低", "网点多", "系统稳"],
    )
    db_session.add(product)
    db_session.commit()
    catalogue = list(db_session.exec(select(Product)).all())
    question = quiz.questions_for(product, catalogue)[0]
    user = db_session.get(User, newcomer)
    assert quiz.answer(db_session, user=user, question_key=question.key, choice=question.answer)["correct"]
    again = login(lead).get("/api/v1/personas/cohorts").get_json()
    row = next(n for n in again["newcomers"] if n["rm_id"] == newcomer)
    assert row["readiness"] is not None and 0 < row["readiness"] <= 100
