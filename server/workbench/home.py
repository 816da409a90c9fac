"""The home page adapts to the persona (ARCHITECTURE glossary): each persona gets the cards that
remove its bottleneck. A card is {"type", "title", "items", ...}; the PWA renders by type.

- newcomer (新进, keen but inexperienced): learning path and the mentor the pairing gave them.
- general (一般, experienced but short of customers): opportunities in the pool to claim.
- excellent (优秀, many customers, short of time): today's reminders and neglected top customers.
- super (超级, too much business): one-tap tools.
- a team lead whose team has a veteran (老油): oversight prompts.
Every RM also gets the persona card (why the classifier put them there, server/personas) and a
summary card (this month's completion, knowledge degree, evaluations pending)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists
from sqlmodel import Session, col, func, select

from server.customers import service as customers
from server.customers.models import Customer, CustomerVisit
from server.db import row_id
from server.knowledge import service as knowledge
from server.mirror import service as mirror
from server.notebook.models import Note, Reminder
from server.opportunities.models import Opportunity
from server.org.models import Persona, RmProfile, Role, Team, User
from server.performance import service as performance
from server.personas import mentoring
from server.personas import service as personas
from server.workbench.customer360 import due_next_steps

NEGLECT_DAYS = 60
VETERAN_SILENCE_DAYS = 90

LEARNING_PATH = [
    {"code": "products", "title": "熟悉我的可售产品:每个产品的三个卖点", "route": "/workbench/products"},
    {
        "code": "knowledge",
        "title": "知彼:用拜访问题清单把客户了解度提到 60 分",
        "route": "/customers",
    },
    {"code": "mirror", "title": "照镜子:完成本月自评并邀请客户评价", "route": "/workbench/mirror"},
    {"code": "calculators", "title": "练习贷款、存款、外汇计算器", "route": "/workbench/resources"},
]

ONE_TAP_TOOLS = [
    {"code": "log_visit", "title": "记录拜访", "route": "/customers"},
    {"code": "loan_calculator", "title": "贷款计算器", "route": "/workbench/resources?tool=loan"},
    {"code": "deposit_calculator", "title": "存款计算器", "route": "/workbench/resources?tool=deposit"},
    {"code": "fx_calculator", "title": "外汇计算器", "route": "/workbench/resources?tool=fx"},
    {"code": "book_room", "title": "预约会议室", "route": "/workbench/resources"},
    {"code": "rating_link", "title": "邀请客户评价", "route": "/workbench/mirror"},
]


def _neglected_top_customers(session: Session, *, rm: User, now: datetime, days: int, limit: int = 5):
    since = now - timedelta(days=days)
    conditions: list[ColumnElement[bool]] = [
        col(Customer.owner_id) == rm.id,
        col(Customer.tier).in_(("vip", "high")),
        ~exists().where(
            and_(col(CustomerVisit.customer_id) == Customer.id, col(CustomerVisit.occurred_at) >= since)
        ),
    ]
    conditions.append(
        ~exists().where(and_(col(Note.customer_id) == Customer.id, col(Note.created_at) >= since))
    )
    rows = session.exec(
        select(Customer).where(*conditions).order_by(Customer.tier, Customer.name).limit(limit)
    ).all()
    total = session.exec(select(func.count()).select_from(Customer).where(*conditions)).one()
    return int(total), [{"id": c.id, "name": c.name, "tier": c.tier} for c in rows]


def _user_day(session: Session, *, user: User, now: datetime) -> tuple[datetime, datetime]:
    """Start and end (UTC) of the user's today in the user's own zone: never the UTC day."""
    from server.notebook.service import get_settings

    zone = ZoneInfo(get_settings(session, user_id=row_id(user)).timezone or "Asia/Shanghai")
    local = now.astimezone(zone)
    start = datetime(local.year, local.month, local.day, tzinfo=zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def _todays_reminders(session: Session, *, rm: User, now: datetime) -> list[dict[str, Any]]:
    start, end = _user_day(session, user=rm, now=now)
    items = [
        {
            "kind": "next_step",
            "title": f"{s['customer_name']}:{s['next_step']}",
            "due_at": s["due_at"],
            "customer_id": s["customer_id"],
            "note_id": None,
        }
        for s in due_next_steps(session, user=rm, until=end)
        if s["due_at"] >= _iso(end - timedelta(days=7))
    ]
    for r in session.exec(
        select(Reminder)
        .where(Reminder.user_id == rm.id, Reminder.due_at < end, Reminder.due_at >= start)
        .order_by(col(Reminder.due_at))
        .limit(10)
    ).all():
        text = r.title or r.body
        if not text and r.note_id is not None:
            note = session.get(Note, r.note_id)
            text = note.body if note is not None else ""
        items.append(
            {
                "kind": r.kind,
                "title": (text or "")[:40],
                "due_at": _iso(r.due_at),
                "customer_id": r.customer_id,
                "note_id": r.note_id,
            }
        )
    items.sort(key=lambda i: i["due_at"] or "")
    return items[:10]


def _iso(value: datetime) -> str:
    from server.timeutil import iso

    return iso(value) or ""


def _mentor(session: Session, *, rm: User) -> dict[str, Any] | None:
    """The newcomer's mentor from the pairing (server/personas/mentoring.py); the team lead while
    the team has no excellent or super RM to pair with."""
    mentor = mentoring.pair_of(session, rm_id=row_id(rm))["mentor"]
    if mentor is not None:
        return mentor
    if rm.team_id is None:
        return None
    lead = session.exec(
        select(User).join(Team, col(Team.lead_id) == User.id).where(Team.id == rm.team_id)
    ).first()
    return {"id": lead.id, "display_name": lead.display_name, "persona": "team_lead"} if lead else None


def _claimable(session: Session, *, rm: User) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Opportunity)
        .where(
            Opportunity.status == "shared",
            col(Opportunity.visibility).in_(("branch", "bank", "team")),
            (col(Opportunity.branch_id) == rm.branch_id) | (col(Opportunity.visibility) == "bank"),
            Opportunity.originator_id != rm.id,
        )
        .order_by(col(Opportunity.shared_at).desc())
        .limit(5)
    ).all()
    return [
        {
            "id": o.id,
            "title": o.title,
            "estimated_amount_cents": o.estimated_amount_cents,
            "industry_code": o.industry_code,
        }
        for o in rows
        if o.visibility != "team" or o.team_id == rm.team_id
    ]


def _oversight(session: Session, *, lead: User, now: datetime) -> list[dict[str, Any]]:
    members = customers.team_member_ids(session, lead=lead)
    if not members:
        return []
    veterans = session.exec(
        select(User)
        .join(RmProfile, col(RmProfile.user_id) == User.id)
        .where(col(User.id).in_(members), RmProfile.persona == Persona.veteran)
        .order_by(col(User.id))
    ).all()
    prompts = []
    since = now - timedelta(days=VETERAN_SILENCE_DAYS)
    for veteran in veterans:  # veterans are a handful per team
        silent = session.exec(
            select(func.count())
            .select_from(Customer)
            .where(
                Customer.owner_id == veteran.id,
                col(Customer.tier).in_(("vip", "high")),
                ~exists().where(
                    and_(
                        col(CustomerVisit.customer_id) == Customer.id, col(CustomerVisit.occurred_at) >= since
                    )
                ),
            )
        ).one()
        result = performance.performance(session, rm=veteran, months=1)
        completion = result["revenue"]["completion"]
        know = knowledge.owners_summary(session, owner_ids=[row_id(veteran)])
        text = [f"{veteran.display_name}:{silent} 位重要客户 {VETERAN_SILENCE_DAYS} 天未拜访"]
        if completion is not None:
            text.append(f"本月完成率 {completion:.0%}")
        text.append(f"知彼度均分 {know['average']}")
        prompts.append(
            {
                "rm_id": veteran.id,
                "display_name": veteran.display_name,
                "silent_top_customers": int(silent),
                "completion": completion,
                "knowledge_average": know["average"],
                "prompt": ",".join(text),
            }
        )
    return prompts


def home(session: Session, *, user: User, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    cards: list[dict[str, Any]] = []
    persona: str
    if user.role == Role.team_lead:
        persona = "team_lead"
        prompts = _oversight(session, lead=user, now=now)
        if prompts:
            cards.append({"type": "oversight", "title": "老油客户经理督导提示", "items": prompts})
        members = customers.team_member_ids(session, lead=user)
        cards.append(
            {
                "type": "team_knowledge",
                "title": "团队知彼度",
                "items": knowledge.average_by_owner(session, owner_ids=members),
            }
        )
        cards.append(
            {
                "type": "evaluations",
                "title": "待评价",
                "items": mirror.pending_evaluations(session, user=user),
            }
        )
        return {"persona": persona, "cards": cards}
    if user.role != Role.rm:
        return {"persona": user.role, "cards": []}
    profile = session.get(RmProfile, user.id)
    persona = profile.persona if profile else Persona.general
    # Why this persona, in Chinese, from the monthly classification (or the lead's override).
    cards.append(
        {"type": "persona", "title": "我的画像", **personas.persona_summary(session, rm_id=row_id(user))}
    )
    result = performance.performance(session, rm=user, months=1)
    know = knowledge.owners_summary(session, owner_ids=[row_id(user)])
    cards.append(
        {
            "type": "summary",
            "title": "本月概览",
            "revenue": result["revenue"],
            "team_rank": result["team_rank"],
            "knowledge_average": know["average"],
            "pending_evaluations": len(mirror.pending_evaluations(session, user=user)),
        }
    )
    if persona == Persona.newcomer:
        cards.append({"type": "learning", "title": "新人成长路径", "items": LEARNING_PATH})
        cards.append({"type": "mentor", "title": "我的导师", "mentor": _mentor(session, rm=user)})
    elif persona == Persona.general:
        cards.append(
            {
                "type": "opportunities",
                "title": "可认领商机",
                "items": _claimable(session, rm=user),
                "available": True,  # the card's contract with the PWA (the pool always ships)
            }
        )
    elif persona == Persona.excellent:
        cards.append(
            {"type": "reminders", "title": "今日提醒", "items": _todays_reminders(session, rm=user, now=now)}
        )
        total, items = _neglected_top_customers(session, rm=user, now=now, days=NEGLECT_DAYS)
        cards.append(
            {
                "type": "neglected",
                "title": f"重要客户 {NEGLECT_DAYS} 天未联系",
                "total": total,
                "items": items,
            }
        )
    elif persona == Persona.super:
        cards.append({"type": "tools", "title": "一键工具", "items": ONE_TAP_TOOLS})
        cards.append(
            {"type": "reminders", "title": "今日提醒", "items": _todays_reminders(session, rm=user, now=now)}
        )
    else:  # veteran: the plain workbench; oversight goes to the team lead
        cards.append(
            {"type": "reminders", "title": "今日提醒", "items": _todays_reminders(session, rm=user, now=now)}
        )
    mentees = mentoring.pair_of(session, rm_id=row_id(user))["mentees"]
    if mentees:  # an excellent or super RM who mentors newcomers
        cards.append({"type": "mentees", "title": "我带的新人", "items": mentees})
    return {"persona": persona, "cards": cards}
