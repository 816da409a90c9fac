"""Product learning (产品学习): short quizzes generated from each product's own words — its three selling
points, its advantages and its rules (who it is for, the qualification to sell it, the risk level) —
scheduled per RM by FSRS (the `fsrs` library), and a readiness score per product.

Readiness of a product = the mean, over its questions, of the probability the RM still recalls the
answer now (FSRS retrievability; a question never answered counts 0). It grows as the RM answers
correctly and decays as time passes without review, which is the point of spaced repetition.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fsrs import Card, Rating, Scheduler
from sqlmodel import Session, col, select

from server.db import row_id
from server.errors import not_found, unprocessable
from server.learning.models import QuizCard, QuizReview
from server.opportunities.ranking import QUALIFICATION_NAMES
from server.org.models import User
from server.products.models import Product
from server.products.service import sellable_products
from server.timeutil import as_utc, iso, utcnow

SESSION_SIZE = 5
MAX_SELLING_POINTS = 3
MAX_ADVANTAGES = 2
# Fuzzing spreads due dates at random; off, so the same answers at the same times give the same
# schedule (and a test with a controlled clock can check it).
SCHEDULER = Scheduler(enable_fuzzing=False)

SEGMENT_ZH = {"corporate": "对公客户", "individual": "个人客户", "both": "对公与个人客户"}
QUALIFICATION_ZH = {
    **QUALIFICATION_NAMES,
    "credit": "信贷业务",
    "wealth": "理财销售",
    "fx": "外汇业务",
}
NO_QUALIFICATION = "无需特殊资格"
RISK_LEVELS = ["R1", "R2", "R3", "R4", "R5"]


@dataclass(frozen=True)
class Question:
    key: str  # "<product id>:<kind>:<n>"
    product_id: int
    kind: str  # selling_point, advantage, segment, qualification, risk
    prompt: str
    options: list[str]
    answer: int  # index into options

    def public(self) -> dict[str, Any]:
        # The answer stays on the server: the client sends its choice and is told.
        return {
            "key": self.key,
            "product_id": self.product_id,
            "kind": self.kind,
            "prompt": self.prompt,
            "options": self.options,
        }


def _choice_question(
    key: str, product: Product, kind: str, prompt: str, right: str, wrong_pool: list[str]
) -> Question | None:
    rng = random.Random(key)  # the same question always shows the same options in the same order
    wrong = sorted({w for w in wrong_pool if w and w != right})
    if len(wrong) < 2:
        return None
    options = rng.sample(wrong, min(3, len(wrong))) + [right]
    rng.shuffle(options)
    return Question(key, row_id(product), kind, prompt, options, options.index(right))


def questions_for(product: Product, catalogue: list[Product]) -> list[Question]:
    """The product's questions. Wrong options come from other products' lists, never the product's
    own, so each question has exactly one right answer."""
    own = set(product.selling_points) | set(product.advantages)
    others_points = [p for o in catalogue if o.id != product.id for p in o.selling_points if p not in own]
    others_adv = [a for o in catalogue if o.id != product.id for a in o.advantages if a not in own]
    pid = row_id(product)
    out: list[Question | None] = []
    for i, point in enumerate(product.selling_points[:MAX_SELLING_POINTS]):
        out.append(
            _choice_question(
                f"{pid}:sp:{i}",
                product,
                "selling_point",
                f"以下哪一项是「{product.name}」的卖点？",
                point,
                others_points,
            )
        )
    # The product's own advantages come first in the catalogue; later ones are its category's and
    # the bank's, shared with other products, so they make poor questions.
    for i, adv in enumerate(product.advantages[:MAX_ADVANTAGES]):
        out.append(
            _choice_question(
                f"{pid}:adv:{i}",
                product,
                "advantage",
                f"以下哪一项是「{product.name}」的优势？",
                adv,
                others_adv,
            )
        )
    if product.segment in SEGMENT_ZH:
        out.append(
            _choice_question(
                f"{pid}:seg:0",
                product,
                "segment",
                f"「{product.name}」面向哪类客户？",
                SEGMENT_ZH[product.segment],
                list(SEGMENT_ZH.values()),
            )
        )
    qualification = (
        QUALIFICATION_ZH.get(product.required_qualification, product.required_qualification)
        if product.required_qualification
        else NO_QUALIFICATION
    )
    out.append(
        _choice_question(
            f"{pid}:qual:0",
            product,
            "qualification",
            f"销售「{product.name}」需要哪种资格？",
            qualification,
            [NO_QUALIFICATION, *QUALIFICATION_ZH.values()],
        )
    )
    if product.risk_level in RISK_LEVELS:
        out.append(
            _choice_question(
                f"{pid}:risk:0",
                product,
                "risk",
                f"「{product.name}」的风险等级是？",
                str(product.risk_level),
                RISK_LEVELS,
            )
        )
    return [q for q in out if q is not None]


def _catalogue(session: Session) -> list[Product]:
    return list(session.exec(select(Product).order_by(col(Product.id))).all())


def _study_products(session: Session, *, user: User) -> list[Product]:
    """What the RM learns: the products they may sell (qualification and branch)."""
    return sellable_products(session, rm=user)


def _cards(session: Session, *, user_id: int) -> dict[str, QuizCard]:
    rows = session.exec(select(QuizCard).where(QuizCard.user_id == user_id)).all()
    return {c.question_key: c for c in rows}


def _retrievability(card: QuizCard, now: datetime) -> float:
    return float(SCHEDULER.get_card_retrievability(Card.from_dict(card.state), current_datetime=now))  # type: ignore[arg-type]


def product_readiness(
    products: list[Product], catalogue: list[Product], cards: dict[str, QuizCard], now: datetime
) -> list[dict[str, Any]]:
    out = []
    for product in products:
        keys = [q.key for q in questions_for(product, catalogue)]
        if not keys:
            continue
        recall = [_retrievability(cards[k], now) if k in cards else 0.0 for k in keys]
        out.append(
            {
                "product_id": product.id,
                "name": product.name,
                "category": product.category,
                "questions": len(keys),
                "answered": sum(1 for k in keys if k in cards),
                "readiness": round(100 * sum(recall) / len(keys)),
                "recall": sum(recall) / len(keys),
            }
        )
    return out


def readiness(session: Session, *, user: User, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    catalogue = _catalogue(session)
    items = product_readiness(
        _study_products(session, user=user), catalogue, _cards(session, user_id=row_id(user)), now
    )
    exact = sum(i["recall"] for i in items) / len(items) if items else 0.0
    return {"overall": round(100 * exact), "overall_exact": exact, "products": items}


def next_questions(session: Session, *, user: User, now: datetime | None = None) -> dict[str, Any]:
    """A short session: questions due for review first (earliest due first), then new questions
    from the products the RM is least ready on."""
    now = now or utcnow()
    uid = row_id(user)
    catalogue = _catalogue(session)
    by_id = {row_id(p): p for p in catalogue}
    cards = _cards(session, user_id=uid)
    chosen: list[Question] = []
    due = sorted((c for c in cards.values() if as_utc(c.due) <= now), key=lambda c: as_utc(c.due))
    for card in due:
        product = by_id.get(card.product_id)
        question = (
            next((q for q in questions_for(product, catalogue) if q.key == card.question_key), None)
            if product
            else None
        )
        if question:
            chosen.append(question)
        if len(chosen) >= SESSION_SIZE:
            break
    if len(chosen) < SESSION_SIZE:
        products = _study_products(session, user=user)
        ready = {r["product_id"]: r["readiness"] for r in product_readiness(products, catalogue, cards, now)}
        for product in sorted(products, key=lambda p: (ready.get(p.id, 0), row_id(p))):
            for q in questions_for(product, catalogue):
                if q.key not in cards and len(chosen) < SESSION_SIZE:
                    chosen.append(q)
            if len(chosen) >= SESSION_SIZE:
                break
    upcoming = min((as_utc(c.due) for c in cards.values() if as_utc(c.due) > now), default=None)
    return {
        "items": [q.public() | {"product_name": by_id[q.product_id].name} for q in chosen],
        "due_count": len(due),
        "next_due_at": iso(upcoming),
    }


def _question(session: Session, key: str) -> tuple[Question, Product]:
    try:
        product_id = int(key.split(":", 1)[0])
    except ValueError:
        raise not_found("question") from None
    product = session.get(Product, product_id)
    if product is None:
        raise not_found("question")
    question = next((q for q in questions_for(product, _catalogue(session)) if q.key == key), None)
    if question is None:
        raise not_found("question")
    return question, product


def answer(
    session: Session, *, user: User, question_key: str, choice: int, now: datetime | None = None
) -> dict[str, Any]:
    """Grades one answer and reschedules the question: right is `Good`, wrong is `Again` (FSRS
    brings it back within minutes). Returns the right option, the next due time and the product's
    readiness after this answer."""
    now = now or utcnow()
    question, product = _question(session, question_key)
    if not 0 <= choice < len(question.options):
        raise unprocessable("No such option.")
    if product.id not in {p.id for p in _study_products(session, user=user)}:
        raise not_found("question")
    uid = row_id(user)
    correct = choice == question.answer
    rating = Rating.Good if correct else Rating.Again
    row = session.exec(
        select(QuizCard).where(QuizCard.user_id == uid, QuizCard.question_key == question_key)
    ).first()
    card = Card.from_dict(row.state) if row else Card()  # type: ignore[arg-type]
    card, _log = SCHEDULER.review_card(card, rating, review_datetime=now)
    if row is None:
        row = QuizCard(user_id=uid, product_id=row_id(product), question_key=question_key, due=card.due)
    row.state = dict(card.to_dict())
    row.due = card.due
    row.reps += 1
    row.lapses += 0 if correct else 1
    row.updated_at = now
    session.add(row)
    session.add(
        QuizReview(
            user_id=uid,
            product_id=row_id(product),
            question_key=question_key,
            correct=correct,
            rating=int(rating),
            reviewed_at=now,
        )
    )
    session.commit()
    cards = _cards(session, user_id=uid)
    ready = product_readiness([product], _catalogue(session), cards, now)
    return {
        "correct": correct,
        "answer": question.answer,
        "due": iso(card.due),
        "readiness": ready[0]["readiness"] if ready else 0,
    }
