"""The figures the persona rules read, for every RM at once (a handful of grouped queries, never
one per RM): tenure, book size and mix, monthly completion against target and its volatility, and
the latest conduct risk score where conduct oversight runs."""

from __future__ import annotations

import statistics
from datetime import date

from sqlalchemy import case
from sqlmodel import Session, col, func, select

from server.conduct.models import ConductScore
from server.customers.models import Customer
from server.db import id_col
from server.org.models import RmProfile, Role, User
from server.performance.ledger import ledger_sums
from server.performance.models import PerformanceTarget
from server.personas.rules import Features
from server.timeutil import month_bounds, month_key, shift_month

COMPLETION_MONTHS = 6  # the average completion reads the last six full months
VOLATILITY_MONTHS = 12  # the volatility reads the last twelve
MIN_VOLATILITY_MONTHS = 4
TOP_TIERS = ("vip", "high")


def tenure_months(hire_date: date, as_of: date) -> int:
    months = (as_of.year - hire_date.year) * 12 + as_of.month - hire_date.month
    if as_of.day < hire_date.day:
        months -= 1
    return max(months, 0)


def rm_hire_dates(session: Session, rm_ids: list[int] | None = None) -> dict[int, date]:
    """Active RMs and their hire dates (all active RMs when `rm_ids` is None)."""
    query = (
        select(id_col(User.id), col(RmProfile.hire_date))
        .join(RmProfile, col(RmProfile.user_id) == User.id)
        .where(User.role == Role.rm, col(User.is_active))
    )
    if rm_ids is not None:
        query = query.where(col(User.id).in_(rm_ids))
    return {int(uid): hired for uid, hired in session.exec(query).all()}


def monthly_completion(session: Session, rm_ids: list[int], months: list[str]) -> dict[int, dict[str, float]]:
    """Per RM and month, revenue (with shared credit from the pool) over the month's revenue target,
    for the months that have a target."""
    targets: dict[tuple[int, str], int] = {
        (rm_id, month): target
        for rm_id, month, target in session.exec(
            select(
                PerformanceTarget.rm_id, PerformanceTarget.month, PerformanceTarget.revenue_target_cents
            ).where(col(PerformanceTarget.rm_id).in_(rm_ids), col(PerformanceTarget.month).in_(months))
        ).all()
    }
    out: dict[int, dict[str, float]] = {rm_id: {} for rm_id in rm_ids}
    for month in months:
        start, end = month_bounds(month)
        sums = ledger_sums(session, rm_ids, start, end)
        for rm_id in rm_ids:
            target = targets.get((rm_id, month), 0)
            if target > 0:
                got = sums.get(rm_id, {})
                out[rm_id][month] = (got.get("revenue", 0) + got.get("shared_credit", 0)) / target
    return out


def compute(session: Session, *, as_of: date, rm_ids: list[int] | None = None) -> dict[int, Features]:
    hired = {uid: h for uid, h in rm_hire_dates(session, rm_ids).items() if h <= as_of}  # in post on the day
    ids = sorted(hired)
    if not ids:
        return {}
    book = {
        int(owner): (int(total), int(top or 0))
        for owner, total, top in session.exec(
            select(
                Customer.owner_id,
                func.count(),
                func.sum(case((col(Customer.tier).in_(TOP_TIERS), 1), else_=0)),
            )
            .where(col(Customer.owner_id).in_(ids))
            .group_by(col(Customer.owner_id))
        ).all()
    }
    # The bank's median book among RMs in post a year or more (the whole bank, not just `rm_ids`).
    everyone = rm_hire_dates(session) if rm_ids is not None else hired
    experienced = [uid for uid, h in everyone.items() if tenure_months(h, as_of) >= 12]
    if rm_ids is not None:
        sizes = dict(
            session.exec(
                select(Customer.owner_id, func.count())
                .where(col(Customer.owner_id).in_(experienced))
                .group_by(col(Customer.owner_id))
            ).all()
        )
        experienced_books = [int(sizes.get(uid, 0)) for uid in experienced]
    else:
        experienced_books = [book.get(uid, (0, 0))[0] for uid in experienced]
    median_book = statistics.median(experienced_books) if experienced_books else 0
    this_month = month_key(as_of)
    months = [
        shift_month(this_month, -n) for n in range(VOLATILITY_MONTHS, 0, -1)
    ]  # full months, oldest first
    completion = monthly_completion(session, ids, months)
    latest_day = (
        select(ConductScore.rm_id, func.max(ConductScore.as_of).label("day"))
        .where(col(ConductScore.rm_id).in_(ids), ConductScore.as_of <= as_of)
        .group_by(col(ConductScore.rm_id))
        .subquery()
    )
    conduct = {
        int(rm_id): float(score)
        for rm_id, score in session.exec(
            select(ConductScore.rm_id, ConductScore.score).join(
                latest_day,
                (col(ConductScore.rm_id) == latest_day.c.rm_id)
                & (col(ConductScore.as_of) == latest_day.c.day),
            )
        ).all()
    }
    out: dict[int, Features] = {}
    for uid in ids:
        hire_month = month_key(hired[uid])
        series = [completion[uid][m] for m in months if m in completion[uid] and m > hire_month]
        recent = series[-COMPLETION_MONTHS:]
        total, top = book.get(uid, (0, 0))
        volatility = None
        if len(series) >= MIN_VOLATILITY_MONTHS and statistics.mean(series) > 0:
            volatility = round(statistics.pstdev(series) / statistics.mean(series), 3)
        out[uid] = Features(
            tenure_months=tenure_months(hired[uid], as_of),
            customers=total,
            book_ratio=round(total / median_book, 2) if median_book else None,
            top_share=round(top / total, 3) if total else None,
            completion=round(statistics.mean(recent), 3) if recent else None,
            last_completion=round(series[-1], 3) if series and months[-1] in completion[uid] else None,
            volatility=volatility,
            months_measured=len(recent),
            conduct_score=conduct.get(uid),
        )
    return out
