"""Product quizzes: questions from the product's own words, FSRS scheduling on a controlled clock,
readiness that grows with right answers and decays with time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from server.learning import quiz
from server.learning.models import QuizCard, QuizReview
from server.learning.readiness import readiness_for
from server.org.models import Persona
from server.products.models import Product
from tests import factories

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def product(db_session):
    p = Product(
        code=factories.unique("Q")[:16],
        name="测试薪福通",
        category="payroll",
        segment="corporate",
        terms="按笔收费",
        risk_level="R2",
        selling_points=["测试卖点甲", "测试卖点乙", "测试卖点丙"],
        advantages=["测试优势甲", "测试优势乙", "共享优势"],
    )
    other = Product(
        code=factories.unique("Q")[:16],
        name="测试别的产品",
        category="deposit",
        segment="individual",
        terms="一年",
        selling_points=["别家卖点一", "别家卖点二", "别家卖点三"],
        advantages=["别家优势一", "别家优势二", "共享优势"],
    )
    db_session.add_all([p, other])
    db_session.commit()
    return p


def _right(q: quiz.Question) -> int:
    return q.answer


def test_questions_come_from_the_product_and_have_one_right_answer(db_session, product):
    catalogue = list(db_session.exec(select(Product)).all())
    questions = quiz.questions_for(product, catalogue)
    kinds = [q.kind for q in questions]
    assert kinds.count("selling_point") == 3 and kinds.count("advantage") == 2
    assert {"segment", "qualification", "risk"} <= set(kinds)
    own = set(product.selling_points) | set(product.advantages)
    for q in questions:
        assert len(q.options) == len(set(q.options)) >= 3
        if q.kind in ("selling_point", "advantage"):
            assert q.options[q.answer] in own
            assert not (set(q.options) - {q.options[q.answer]}) & own  # no second right answer
    assert (
        next(q for q in questions if q.kind == "risk").options[
            _right(next(q for q in questions if q.kind == "risk"))
        ]
        == "R2"
    )
    assert (
        next(q for q in questions if q.kind == "qualification").options[
            next(q for q in questions if q.kind == "qualification").answer
        ]
        == quiz.NO_QUALIFICATION
    )
    # Deterministic: the same question shows the same options.
    assert [q.options for q in quiz.questions_for(product, catalogue)] == [q.options for q in questions]


def test_scheduling_on_a_controlled_clock(db_session, product):
    rm = factories.make_user(db_session, persona=Persona.newcomer)
    catalogue = list(db_session.exec(select(Product)).all())
    questions = quiz.questions_for(product, catalogue)
    first = questions[0]
    assert readiness_for(db_session, rm.id, now=T0) is None  # never answered

    r1 = quiz.answer(db_session, user=rm, question_key=first.key, choice=first.answer, now=T0)
    assert r1["correct"] is True
    assert datetime.fromisoformat(r1["due"]) == T0 + timedelta(minutes=10)  # FSRS learning step
    assert r1["readiness"] > 0
    # Not due before its time, due after.
    due_keys = lambda at: [i["key"] for i in quiz.next_questions(db_session, user=rm, now=at)["items"]]  # noqa: E731
    assert quiz.next_questions(db_session, user=rm, now=T0 + timedelta(minutes=5))["due_count"] == 0
    at = T0 + timedelta(minutes=11)
    assert due_keys(at)[0] == first.key and quiz.next_questions(db_session, user=rm, now=at)["due_count"] == 1

    r2 = quiz.answer(db_session, user=rm, question_key=first.key, choice=first.answer, now=at)
    due2 = datetime.fromisoformat(r2["due"])
    assert due2 - at >= timedelta(days=1)  # graduated to review: days, not minutes

    wrong = (questions[1].answer + 1) % len(questions[1].options)
    r3 = quiz.answer(db_session, user=rm, question_key=questions[1].key, choice=wrong, now=at)
    assert r3["correct"] is False and r3["answer"] == questions[1].answer
    assert datetime.fromisoformat(r3["due"]) == at + timedelta(minutes=1)  # Again: back within a minute
    card = db_session.exec(
        select(QuizCard).where(QuizCard.user_id == rm.id, QuizCard.question_key == questions[1].key)
    ).one()
    assert card.lapses == 1
    assert db_session.exec(select(QuizReview).where(QuizReview.user_id == rm.id)).all().__len__() == 3

    # Readiness grows with right answers and decays as time passes without review.
    def ready(now: datetime) -> int:
        return next(
            p
            for p in quiz.readiness(db_session, user=rm, now=now)["products"]
            if p["product_id"] == product.id
        )["readiness"]

    before = ready(at)
    later = at + timedelta(minutes=2)
    for q in questions[2:]:
        quiz.answer(db_session, user=rm, question_key=q.key, choice=q.answer, now=later)
    assert ready(later) > before
    assert ready(later + timedelta(days=60)) < ready(later + timedelta(days=1))
    overall = readiness_for(db_session, rm.id, now=later)
    assert overall is not None and 0 < overall <= 1


def test_quiz_api(db_session, product, login):
    rm = factories.make_user(db_session, persona=Persona.newcomer)
    api = login(rm)
    session = api.get("/api/v1/learning/quiz").get_json()
    assert 0 < len(session["items"]) <= quiz.SESSION_SIZE
    item = session["items"][0]
    assert "answer" not in item and item["options"]
    response = api.post("/api/v1/learning/quiz/answers", json={"question_key": item["key"], "choice": 0})
    assert response.status_code == 200
    assert set(response.get_json()) == {"correct", "answer", "due", "readiness"}
    assert (
        api.post(
            "/api/v1/learning/quiz/answers", json={"question_key": "999999:sp:0", "choice": 0}
        ).status_code
        == 404
    )
    summary = api.get("/api/v1/learning/summary").get_json()
    assert summary["readiness"] >= 0 and "due_count" in summary
    lead = factories.make_user(db_session, role=factories.Role.team_lead, persona=None)
    assert login(lead).get("/api/v1/learning/quiz").status_code == 403
