"""The team lead's cohort view: each newcomer of the team (hired in the last year) with months to the
first sale and to the first month at 100% of target, readiness, and mentor activity — against the
bank's earlier cohorts (RMs grouped by hire quarter, medians over those the ledger covers)."""

from __future__ import annotations

import statistics
from datetime import date
from typing import Any

from sqlmodel import Session, col, func, select

from server.customers.service import team_member_ids
from server.errors import forbidden
from server.learning.readiness import readiness_for as learning_readiness
from server.notebook.models import Reminder, ReminderKind
from server.org.models import Role, User
from server.performance.models import PerformanceEntry
from server.personas import mentoring
from server.personas.features import monthly_completion, rm_hire_dates, tenure_months
from server.personas.models import Mentorship
from server.timeutil import month_key, shift_month

NEWCOMER_WINDOW_MONTHS = 12  # the team's newcomers: hired within a year
LEDGER_MONTHS = 24  # earlier cohorts: hired within the ledger's two years
SALE_KINDS = ("new_business", "new_customer")


def readiness_for(session: Session, rm_ids: list[int]) -> dict[int, float]:
    """Readiness (准备度, 0-100) per newcomer from the product quizzes (server/learning/readiness.py);
    a newcomer who has never answered one has none, and the screen shows '—'."""
    out: dict[int, float] = {}
    for rm_id in rm_ids:
        value = learning_readiness(session, rm_id)
        if value is not None:
            out[rm_id] = round(value * 100, 1)
    return out


def cohort_of(hired: date) -> str:
    return f"{hired.year}Q{(hired.month - 1) // 3 + 1}"


def _first_sale_month(session: Session, rm_ids: list[int]) -> dict[int, str]:
    rows = session.exec(
        select(PerformanceEntry.rm_id, func.min(PerformanceEntry.booked_on))
        .where(
            col(PerformanceEntry.rm_id).in_(rm_ids),
            col(PerformanceEntry.kind).in_(SALE_KINDS),
            (col(PerformanceEntry.amount_cents) > 0) | (col(PerformanceEntry.kind) == "new_customer"),
        )
        .group_by(col(PerformanceEntry.rm_id))
    ).all()
    return {int(rm_id): month_key(day) for rm_id, day in rows if day is not None}


def _months_between(first: str, later: str) -> int:
    return (int(later[:4]) - int(first[:4])) * 12 + int(later[5:7]) - int(first[5:7])


def milestones(session: Session, hired: dict[int, date], *, today: date) -> dict[int, dict[str, int | None]]:
    """Per RM: months from the hire month to the first sale, and to the first full month at or
    above 100% of the revenue target (None: not yet, or before the ledger's window)."""
    ids = list(hired)
    if not ids:
        return {}
    this_month = month_key(today)
    months = [shift_month(this_month, -n) for n in range(LEDGER_MONTHS, 0, -1)]
    completion = monthly_completion(session, ids, months)
    first_sale = _first_sale_month(session, ids)
    out: dict[int, dict[str, int | None]] = {}
    for uid, day in hired.items():
        hire_month = month_key(day)
        sale = first_sale.get(uid)
        target = next((m for m in months if m > hire_month and completion[uid].get(m, 0) >= 1.0), None)
        out[uid] = {
            "months_to_first_sale": _months_between(hire_month, sale)
            if sale and sale >= hire_month
            else None,
            "months_to_target": _months_between(hire_month, target) if target else None,
        }
    return out


def _median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def cohort_view(session: Session, *, lead: User, today: date) -> dict[str, Any]:
    if lead.role != Role.team_lead:
        raise forbidden()
    team = team_member_ids(session, lead=lead)
    team_hired = {
        uid: h
        for uid, h in rm_hire_dates(session, team).items()
        if tenure_months(h, today) < NEWCOMER_WINDOW_MONTHS
    }
    names = {
        u.id: u.display_name
        for u in session.exec(select(User).where(col(User.id).in_(list(team_hired)))).all()
    }
    found = milestones(session, team_hired, today=today)
    readiness = readiness_for(session, list(team_hired))
    pairs = {
        p.mentee_id: p
        for p in session.exec(
            select(Mentorship)
            .where(col(Mentorship.mentee_id).in_(list(team_hired)))
            .order_by(col(Mentorship.id))
        ).all()
    }  # the latest pair per newcomer
    act = mentoring.activity(session, pair_ids=[p.id for p in pairs.values() if p.id is not None])
    checkins = dict(
        session.exec(
            select(Reminder.user_id, func.count())
            .where(
                col(Reminder.user_id).in_(list(team_hired)),
                Reminder.kind == ReminderKind.mentor_checkin,
                col(Reminder.fired_at).is_not(None),
            )
            .group_by(col(Reminder.user_id))
        ).all()
    )
    mentor_names = {
        u.id: u.display_name
        for u in session.exec(
            select(User).where(col(User.id).in_([p.mentor_id for p in pairs.values()]))
        ).all()
    }
    newcomers = []
    for uid in sorted(team_hired, key=lambda i: (team_hired[i], i), reverse=True):
        pair = pairs.get(uid)
        newcomers.append(
            {
                "rm_id": uid,
                "display_name": names.get(uid, ""),
                "hire_date": team_hired[uid].isoformat(),
                "cohort": cohort_of(team_hired[uid]),
                "months_in_post": tenure_months(team_hired[uid], today),
                **found[uid],
                "readiness": readiness.get(uid),
                "mentor": None
                if pair is None
                else {
                    "mentorship_id": pair.id,
                    "display_name": mentor_names.get(pair.mentor_id, ""),
                    "active": pair.ended_on is None,
                    "checkins": int(checkins.get(uid, 0)),
                    **act.get(pair.id or 0, {}),
                },
            }
        )
    # Earlier cohorts, bank-wide (aggregates only): RMs hired inside the ledger's window.
    everyone = {
        uid: h for uid, h in rm_hire_dates(session).items() if tenure_months(h, today) < LEDGER_MONTHS
    }
    bank = milestones(session, everyone, today=today)
    by_cohort: dict[str, list[int]] = {}
    for uid, h in everyone.items():
        by_cohort.setdefault(cohort_of(h), []).append(uid)
    cohorts = []
    for name in sorted(by_cohort, reverse=True):
        ids = by_cohort[name]
        sale = [v for v in (bank[i]["months_to_first_sale"] for i in ids) if v is not None]
        target = [v for v in (bank[i]["months_to_target"] for i in ids) if v is not None]
        cohorts.append(
            {
                "cohort": name,
                "rms": len(ids),
                "median_months_to_first_sale": _median(sale),
                "median_months_to_target": _median(target),
                "reached_target": len(target),
            }
        )
    return {"as_of": today.isoformat(), "newcomers": newcomers, "cohorts": cohorts}
