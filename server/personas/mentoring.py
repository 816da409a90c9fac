"""Mentoring (导师): every RM in their first six months whose persona is newcomer (新进) gets a mentor —
an excellent (优秀) or super (超级) RM of the same team, the one with the fewest mentees (excellent
before super on a tie: super RMs have no time), then a weekly check-in reminder for both and notes
they share (their team lead reads them too)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from server.customers.service import team_member_ids
from server.db import row_id
from server.errors import Problem, not_found, unprocessable
from server.org.models import Persona, RmProfile, Role, User
from server.personas.features import tenure_months
from server.personas.models import MentoringNote, Mentorship
from server.timeutil import iso, utcnow

MENTORED_MONTHS = 6
MENTOR_PERSONAS = (Persona.excellent, Persona.super)
CHECKIN_DAYS = 7


def active_pairs(session: Session) -> list[Mentorship]:
    return list(session.exec(select(Mentorship).where(col(Mentorship.ended_on).is_(None))).all())


def pair_newcomers(session: Session, *, today: date) -> dict[str, int]:
    """Ends pairs whose reason is gone and pairs every unpaired newcomer; safe to run any time."""
    rms: dict[int, tuple[User, RmProfile]] = {
        row_id(u): (u, p)
        for u, p in session.exec(
            select(User, RmProfile)
            .join(RmProfile, col(RmProfile.user_id) == User.id)
            .where(User.role == Role.rm)
        ).all()
    }

    def mentee_ok(uid: int) -> bool:
        u, p = rms[uid]
        return (
            u.is_active
            and u.team_id is not None
            and p.persona == Persona.newcomer
            and tenure_months(p.hire_date, today) < MENTORED_MONTHS
        )

    def mentor_ok(uid: int, team_id: int | None) -> bool:
        u, p = rms[uid]
        return u.is_active and u.team_id == team_id and p.persona in MENTOR_PERSONAS

    ended = 0
    load: dict[int, int] = {}
    paired: set[int] = set()
    for pair in active_pairs(session):
        reason = None
        if pair.mentee_id not in rms or not mentee_ok(pair.mentee_id):
            u, p = rms.get(pair.mentee_id, (None, None))
            reason = (
                "six_months"
                if p is not None and tenure_months(p.hire_date, today) >= MENTORED_MONTHS
                else "persona_changed"
            )
            if u is not None and (not u.is_active or u.team_id != pair.team_id):
                reason = "team_changed"
        elif pair.mentor_id not in rms or not mentor_ok(pair.mentor_id, pair.team_id):
            reason = "mentor_changed"
        if reason:
            pair.ended_on, pair.end_reason = today, reason
            session.add(pair)
            ended += 1
        else:
            paired.add(pair.mentee_id)
            load[pair.mentor_id] = load.get(pair.mentor_id, 0) + 1
    made = 0
    waiting = sorted(
        (uid for uid in rms if uid not in paired and mentee_ok(uid)), key=lambda i: (rms[i][1].hire_date, i)
    )
    for uid in waiting:
        team_id = rms[uid][0].team_id
        mentors = [m for m in rms if m != uid and mentor_ok(m, team_id)]
        if not mentors:
            continue  # no excellent or super RM in the team: the home page names the team lead
        best = min(
            mentors, key=lambda m: (load.get(m, 0), 0 if rms[m][1].persona == Persona.excellent else 1, m)
        )
        load[best] = load.get(best, 0) + 1
        session.add(Mentorship(mentee_id=uid, mentor_id=best, team_id=team_id or 0, started_on=today))
        made += 1
    session.flush()
    return {"paired": made, "ended": ended}


def _person(session: Session, uid: int) -> dict[str, Any]:
    user = session.get(User, uid)
    profile = session.get(RmProfile, uid)
    return {
        "id": uid,
        "display_name": user.display_name if user else "",
        "persona": profile.persona if profile else None,
    }


def _notes_count(session: Session, pair_id: int) -> int:
    return int(
        session.exec(
            select(func.count()).select_from(MentoringNote).where(MentoringNote.mentorship_id == pair_id)
        ).one()
    )


def pair_of(session: Session, *, rm_id: int) -> dict[str, Any]:
    """The RM's active mentor (as a mentee) and mentees (as a mentor)."""
    mine = session.exec(
        select(Mentorship).where(Mentorship.mentee_id == rm_id, col(Mentorship.ended_on).is_(None))
    ).first()
    mentees = session.exec(
        select(Mentorship)
        .where(Mentorship.mentor_id == rm_id, col(Mentorship.ended_on).is_(None))
        .order_by(col(Mentorship.id))
    ).all()
    return {
        "mentor": None
        if mine is None
        else {
            "mentorship_id": mine.id,
            "started_on": iso(mine.started_on),
            "notes": _notes_count(session, mine.id or 0),
            **_person(session, mine.mentor_id),
        },
        "mentees": [
            {
                "mentorship_id": m.id,
                "started_on": iso(m.started_on),
                "notes": _notes_count(session, m.id or 0),
                **_person(session, m.mentee_id),
            }
            for m in mentees
        ],
    }


def _readable_pair(session: Session, *, user: User, mentorship_id: int) -> Mentorship:
    pair = session.get(Mentorship, mentorship_id)
    if pair is None:
        raise not_found("mentorship")
    if user.id in (pair.mentee_id, pair.mentor_id):
        return pair
    if user.role == Role.team_lead and pair.mentee_id in team_member_ids(session, lead=user):
        return pair
    raise not_found("mentorship")


def notes(session: Session, *, user: User, mentorship_id: int) -> dict[str, Any]:
    pair = _readable_pair(session, user=user, mentorship_id=mentorship_id)
    rows = session.exec(
        select(MentoringNote)
        .where(MentoringNote.mentorship_id == mentorship_id)
        .order_by(col(MentoringNote.created_at).desc())
        .limit(200)
    ).all()
    names = {uid: _person(session, uid)["display_name"] for uid in {pair.mentee_id, pair.mentor_id}}
    return {
        "mentorship_id": pair.id,
        "mentor": _person(session, pair.mentor_id),
        "mentee": _person(session, pair.mentee_id),
        "started_on": iso(pair.started_on),
        "ended_on": iso(pair.ended_on),
        "can_write": user.id in (pair.mentee_id, pair.mentor_id) and pair.ended_on is None,
        "items": [
            {
                "id": n.id,
                "author_id": n.author_id,
                "author": names.get(n.author_id, ""),
                "body": n.body,
                "created_at": iso(n.created_at),
            }
            for n in rows
        ],
    }


def add_note(session: Session, *, user: User, mentorship_id: int, body: str) -> dict[str, Any]:
    pair = _readable_pair(session, user=user, mentorship_id=mentorship_id)
    if user.id not in (pair.mentee_id, pair.mentor_id) or pair.ended_on is not None:
        raise Problem(403, "Forbidden", "Only the pair writes its notes.", code="forbidden")
    text = body.strip()
    if not text:
        raise unprocessable("Write something.", errors=[{"field": "body", "message": "required"}])
    note = MentoringNote(mentorship_id=mentorship_id, author_id=user.id or 0, body=text[:2000])
    session.add(note)
    session.commit()
    return {"id": note.id, "author_id": note.author_id, "body": note.body, "created_at": iso(note.created_at)}


# --- the weekly check-in (the notebook's reminder generator reads this) --------------------------


def checkin_occurrences(session: Session, *, today: date) -> list[tuple[Mentorship, int, date]]:
    """(pair, week number, due day) of this week's check-in of every active pair: the k-th check-in
    falls k weeks after the pairing started. Keyed by pair and week, it is created once and fires once."""
    out = []
    for pair in active_pairs(session):
        k = (today - pair.started_on).days // CHECKIN_DAYS
        if k >= 1:
            out.append((pair, k, pair.started_on + timedelta(days=CHECKIN_DAYS * k)))
    return out


def activity(
    session: Session, *, pair_ids: list[int], since: datetime | None = None
) -> dict[int, dict[str, Any]]:
    """Per pair: notes written (all time and since `since`) and the last note's time."""
    since = since or utcnow() - timedelta(days=30)
    out: dict[int, dict[str, Any]] = {
        pid: {"notes": 0, "recent_notes": 0, "last_note_at": None} for pid in pair_ids
    }
    if not pair_ids:
        return out
    for pid, total, last in session.exec(
        select(MentoringNote.mentorship_id, func.count(), func.max(MentoringNote.created_at))
        .where(col(MentoringNote.mentorship_id).in_(pair_ids))
        .group_by(col(MentoringNote.mentorship_id))
    ).all():
        out[pid]["notes"], out[pid]["last_note_at"] = int(total), iso(last)
    for pid, recent in session.exec(
        select(MentoringNote.mentorship_id, func.count())
        .where(col(MentoringNote.mentorship_id).in_(pair_ids), MentoringNote.created_at >= since)
        .group_by(col(MentoringNote.mentorship_id))
    ).all():
        out[pid]["recent_notes"] = int(recent)
    return out


def seed_demo_notes(session: Session, *, seed: int) -> int:
    """Demo data: the demo newcomer's pair has a few shared notes (idempotent), through `add_note`
    as the pair would write them."""
    mentee = session.exec(select(User).where(User.username == "rm_newcomer")).first()
    if mentee is None:
        return 0
    pair = session.exec(
        select(Mentorship).where(Mentorship.mentee_id == mentee.id, col(Mentorship.ended_on).is_(None))
    ).first()
    if pair is None or _notes_count(session, row_id(pair)):
        return 0
    mentor = session.get(User, pair.mentor_id)
    if mentor is None:
        return 0
    lines = [
        (mentee, "本周拜访了三家小微企业，两家有流动资金需求，授信材料不太会准备。"),
        (mentor, "周四一起过一遍授信资料清单；先把财务报表三张表看懂。"),
        (mentee, "已按清单收齐一家的资料，下周提交。"),
    ]
    for author, body in lines:
        add_note(session, user=author, mentorship_id=row_id(pair), body=body)
    return len(lines)
