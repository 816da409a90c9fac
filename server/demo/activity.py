"""Everyday activity over the demo bank, so every feature is alive on first start: opportunities
waiting in the pool, a running war room (members, targets, chat) and notes with reminders due today
and tomorrow on the demo RMs' local clock.

Everything goes through the features' own domain functions (as an RM would do it in the app), so
the rows obey the same rules as real ones: history, audit, grants, events, reminders. Picks follow
the seed; times follow `now` (the load time), like the rest of the bank."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from server.customers.models import Customer
from server.db import row_id
from server.notebook import service as notebook
from server.notebook.models import Note
from server.notebook.schemas import NoteCreate
from server.opportunities import lifecycle as opportunities
from server.opportunities.models import OpportunitySource, Visibility
from server.opportunities.schemas import OpportunityCreate
from server.org.models import RmProfile, User
from server.products.models import Holding, Product
from server.timeutil import utcnow
from server.warrooms import board, chat, membership, rooms
from server.warrooms.models import RoomKind, RoomMode, WarRoom
from server.warrooms.schemas import MessageIn, RoomCreate, TargetIn

DEMO_ZONE = ZoneInfo("Asia/Shanghai")  # the demo bank's RMs work on Beijing time
DEMO_IP = "10.0.0.1"

# (originator, customer tier/size filter, product code, title, note). Busy RMs hand on customers they
# have no time for: what the general RM (experienced, short of customers) claims on first start.
SHARES: list[tuple[str, str, str, str]] = [
    ("rm_super", "DEP-LCD", "{name}有闲置资金待配置", "客户上月回款较多，可推荐大额存单，我这边跟进不过来。"),
    (
        "rm_super",
        "LN-WC",
        "{name}旺季备货需要流动资金",
        "客户提过旺季备货，资金缺口约数百万元，适合流动资金贷款。",
    ),
    (
        "rm_excellent",
        "PAY-PAYROLL",
        "{name}考虑更换代发银行",
        "财务负责人对现代发行服务不满，可上门介绍代发及配套员工服务。",
    ),
    ("rm_excellent", "FD-PENSION", "{name}咨询养老规划", "客户临近退休，关心养老规划，适合养老目标基金。"),
]
ROOM_CHAT = [
    ("rm_excellent", "各位，本周先把三家目标客户的需求摸清楚，周五碰一次方案。"),
    ("rm_general", "收到，我负责第二家，明天上午约了财务总监。"),
    ("rm_newcomer", "我来整理客户资料和往来记录，有问题请教各位。"),
    ("rm_excellent", "好的，有需要用支行贵宾室的提前在资源里预约。"),
]
# (owner, day offset, local time, body, tags, todo)
NOTES: list[tuple[str, int, time | None, str, list[str], bool]] = [
    ("rm_general", 0, time(16, 30), "回电话确认客户对流动资金贷款的额度需求", ["跟进"], True),
    ("rm_general", 1, time(9, 30), "上门拜访：带上代发工资方案和费率表", ["拜访"], True),
    ("rm_general", 0, None, "客户财务总监偏好微信沟通，周三下午有空", ["客户偏好"], False),
    ("rm_newcomer", 0, time(17, 0), "把本周拜访记录补录进系统", ["待办"], True),
    ("rm_newcomer", 1, time(10, 0), "向导师请教授信材料的准备要点", ["学习"], True),
    ("rm_excellent", 0, time(15, 0), "大额存单到期客户续作提醒", ["到期"], True),
    ("rm_excellent", 1, time(11, 0), "作战室方案碰头会", ["作战室"], True),
    ("rm_super", 0, time(18, 0), "给重点客户发送季度资产配置建议", ["维护"], True),
    ("rm_super", 1, time(9, 0), "支行晨会分享授信方案经验", ["分享"], False),
    ("rm_veteran", 1, time(14, 0), "整理本月业务台账", ["待办"], True),
]


def _users(session: Session) -> dict[str, User]:
    names = {n for n, *_ in SHARES} | {n for n, _ in ROOM_CHAT} | {n for n, *_ in NOTES}
    return {u.username: u for u in session.exec(select(User).where(col(User.username).in_(names))).all()}


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=DEMO_ZONE).astimezone(ZoneInfo("UTC"))


def _customers_of(session: Session, owner: User, *, kind: str | None, limit: int) -> list[Customer]:
    query = select(Customer).where(Customer.owner_id == owner.id)
    if kind:
        query = query.where(Customer.kind == kind)
    return list(session.exec(query.order_by(col(Customer.id)).limit(limit)).all())


def seed_activity(session: Session, *, seed: int = 7, now: datetime | None = None) -> dict[str, int]:
    """Adds the activity once (a second run adds nothing) and returns what it added. Its notes mark
    that it ran: other demo steps add opportunities and rooms of their own (won history, the
    veteran's story), and those must not make the first start look empty."""
    if session.exec(select(Note.id).limit(1)).first() is not None:
        return {"opportunities": 0, "war_rooms": 0, "notes": 0}
    now = now or utcnow()
    rng = random.Random(f"{seed}:activity")
    users = _users(session)
    if len(users) < 5:
        return {"opportunities": 0, "war_rooms": 0, "notes": 0}
    added = {"opportunities": _share_opportunities(session, users, rng, now)}
    added["war_rooms"] = _war_room(session, users, now)
    added["notes"] = _notes(session, users, now)
    return added


def _share_opportunities(session: Session, users: dict[str, User], rng: random.Random, now: datetime) -> int:
    products = {p.code: p for p in session.exec(select(Product)).all()}
    general = users["rm_general"]
    profile = session.get(RmProfile, general.id)
    quals = set(profile.qualifications) if profile else set()
    used: set[int] = set()
    n = 0
    for originator_name, code, title, note in SHARES:
        originator, product = users[originator_name], products.get(code)
        if product is None or (
            product.required_qualification and product.required_qualification not in quals
        ):
            continue  # only what the claimer may sell
        segment = {"corporate": "corporate", "individual": "individual"}.get(product.segment)
        candidates = [
            c for c in _customers_of(session, originator, kind=segment, limit=200) if c.id not in used
        ]
        # Not a customer who already holds the product: the opportunity is new business.
        held = set(session.exec(select(Holding.customer_id).where(Holding.product_id == product.id)).all())
        candidates = [c for c in candidates if c.id not in held] or candidates
        if not candidates:
            continue
        customer = candidates[int(rng.random() * len(candidates))]
        used.add(row_id(customer))
        amount = {"deposit": 3_000_000_00, "loan": 5_000_000_00, "payroll": 1_200_000_00}.get(
            product.category, 500_000_00
        )
        opportunities.create_opportunity(
            session,
            user=originator,
            data=OpportunityCreate(
                title=title.format(name=customer.name)[:128],
                customer_id=row_id(customer),
                product_id=row_id(product),
                estimated_amount_cents=amount,
                expected_date=(now + timedelta(days=20 + n * 7)).date(),
                source=OpportunitySource.rm_referral,
                note=note,
                visibility=Visibility.branch,
            ),
            ip=DEMO_IP,
            now=now - timedelta(hours=3 + 5 * n),
        )
        n += 1
    return n


def _war_room(session: Session, users: dict[str, User], now: datetime) -> int:
    owner = users["rm_excellent"]
    members = [users["rm_general"], users["rm_newcomer"]]
    targets = _customers_of(session, owner, kind="corporate", limit=3)
    local_today = now.astimezone(DEMO_ZONE).date()
    room: WarRoom = rooms.create_room(
        session,
        user=owner,
        data=RoomCreate(
            title="年末存款冲刺·重点企业客户",
            kind=RoomKind.project_marketing,
            mode=RoomMode.joint,
            goal_amount_cents=30_000_000_00,
            goal_customers=len(targets) + 1,
            deadline=local_today + timedelta(days=25),
            invite_user_ids=[row_id(u) for u in members],
            customer_ids=[row_id(c) for c in targets],
        ),
        ip=DEMO_IP,
    )
    room_id = row_id(room)
    for member in members:
        membership.respond(session, room_id=room_id, user=member, accept=True, ip=DEMO_IP)
    board.add_target(
        session,
        room_id=room_id,
        user=members[0],
        data=TargetIn(prospect_name="园区新入驻企业（待建档）", amount_cents=5_000_000_00),
        ip=DEMO_IP,
    )
    for username, text in ROOM_CHAT:
        chat.post_message(session, room_id=room_id, user=users[username], data=MessageIn(text=text))
    return 1


def _notes(session: Session, users: dict[str, User], now: datetime) -> int:
    local_today = now.astimezone(DEMO_ZONE).date()
    for username, offset, at, body, tags, todo in NOTES:
        remind_at = _local(local_today + timedelta(days=offset), at) if at else None
        notebook.create_note(
            session,
            user=users[username],
            data=NoteCreate(body=body, tags=tags, todo=todo, remind_at=remind_at),
        )
    return len(NOTES)
