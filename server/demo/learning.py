"""The demo bank's history for experience transfer (经验资产): what colleagues did before a customer
said yes — won and lost opportunities with their steps, won war rooms, contacts before a product was
opened, regular contacts with top customers — so case cards and playbooks have something to show, and
one helper task from the super RM to the newcomer (through the helpers service: grant, audit, inbox).

Written as history rows (the past cannot go through today's domain functions); picks follow the seed,
times are counted back from `now`. Weighted toward small firms and mass-market people, like the
newcomer's book, so the newcomer's cards are close to home."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from server.customers.models import Customer, CustomerVisit
from server.db import row_id
from server.demo.activity import DEMO_IP, DEMO_ZONE
from server.helpers import service as helpers
from server.helpers.models import HelperTask, HelperTaskKind
from server.helpers.schemas import TaskCreate
from server.intel.models import Category, IntelAlert, IntelItem, Sentiment
from server.learning.playbooks import top_customers
from server.opportunities.models import Opportunity, OpportunityActivity, OpportunityTransition
from server.org.models import Persona, RmProfile, Role, User
from server.products.models import Holding, Product
from server.timeutil import utcnow
from server.warrooms.models import (
    MemberRole,
    MemberStatus,
    RoomKind,
    RoomMode,
    RoomStatus,
    TargetStage,
    WarRoom,
    WarRoomEvent,
    WarRoomMember,
    WarRoomTarget,
)

MARK = "demo:history"  # source_ref of the opportunities written here: the idempotency check
WON, LOST, ROOMS, VISIT_SEQUENCES = 60, 20, 4, 160
# Contacts with each top customer in the last half year, by persona: the best keep closer.
ALERTS_PER_RM = 4
# Hours from an alert to the visit, by persona.
ALERT_FOLLOW_UP_HOURS = {
    "super": (4, 30),
    "excellent": (8, 48),
    "general": (24, 120),
    "veteran": (48, 400),
    "newcomer": (36, 200),
}
TOP_CONTACTS = {"super": 6, "excellent": 5, "general": 3, "veteran": 1, "newcomer": 2}


def seed_learning_history(session: Session, *, seed: int = 7, now: datetime | None = None) -> dict[str, int]:
    if (
        session.exec(select(Opportunity.id).where(Opportunity.source_ref == MARK).limit(1)).first()
        is not None
    ):
        return {"opportunities": 0, "war_rooms": 0, "visits": 0, "helper_tasks": 0}
    now = now or utcnow()
    rng = random.Random(f"{seed}:learning")
    rms = list(
        session.exec(
            select(User, RmProfile)
            .join(RmProfile, col(RmProfile.user_id) == User.id)
            .where(User.role == Role.rm)
        ).all()
    )
    if not rms:
        return {"opportunities": 0, "war_rooms": 0, "visits": 0, "helper_tasks": 0}
    persona = {row_id(u): str(p.persona) for u, p in rms}
    experienced = [u for u, p in rms if p.persona != Persona.newcomer]
    by_team: dict[int | None, list[User]] = {}
    for u, _p in rms:
        by_team.setdefault(u.team_id, []).append(u)
    products = list(session.exec(select(Product).order_by(col(Product.id))).all())
    added = {"opportunities": 0, "war_rooms": 0, "visits": 0, "helper_tasks": 0}

    # Small and micro firms and mass/mid people first, like a newcomer's book.
    pool = list(
        session.exec(
            select(Customer)
            .where(col(Customer.owner_id).in_([row_id(u) for u in experienced]))
            .where((col(Customer.size).in_(["small", "micro"])) | (col(Customer.tier).in_(["mass", "mid"])))
            .order_by(col(Customer.id))
            .limit(3000)
        ).all()
    )
    visits: list[CustomerVisit] = []
    owner_of = {row_id(u): u for u in experienced}
    for i in range(min(WON + LOST, len(pool))):
        customer = pool[int(rng.random() * len(pool))]
        owner = owner_of[customer.owner_id]
        team = [u for u in by_team.get(owner.team_id, []) if u.id != owner.id] or [owner]
        originator = rng.choice(team) if rng.random() < 0.6 else owner
        segment = "corporate" if customer.kind == "corporate" else "individual"
        fit = [p for p in products if p.segment in (segment, "both")] or products
        product = rng.choice(fit)
        won = i < WON
        start = now - timedelta(days=rng.randint(40, 540))
        gaps = [rng.randint(1, 4), rng.randint(2, 8), rng.randint(3, 12), rng.randint(5, 20)]
        close_at = start + timedelta(days=sum(gaps) + rng.randint(1, 5))
        opp = Opportunity(
            title=f"{product.name}",
            customer_id=customer.id,
            customer_kind=segment,
            industry_code=customer.industry_code,
            size=customer.size,
            tier=customer.tier,
            region_code=customer.region_code,
            product_id=product.id,
            source="rm_referral",
            source_ref=MARK,
            originator_id=row_id(originator),
            owner_id=row_id(owner),
            branch_id=owner.branch_id,
            team_id=owner.team_id,
            status="won" if won else "lost",
            shared_at=start,
            claimed_at=start + timedelta(days=gaps[0]),
            closed_at=close_at,
            won_amount_cents=rng.randint(5, 300) * 10_000_00 if won else None,
            created_at=start,
            updated_at=close_at,
        )
        session.add(opp)
        session.flush()
        opp_id = row_id(opp)
        at = start
        session.add(
            OpportunityTransition(opportunity_id=opp_id, actor_id=originator.id, to_status="shared", at=at)
        )
        at += timedelta(days=gaps[0])
        session.add(
            OpportunityTransition(
                opportunity_id=opp_id, actor_id=owner.id, from_status="shared", to_status="claimed", at=at
            )
        )
        for kind, gap in zip(("call", "visit", "proposal"), gaps[1:], strict=False):
            at += timedelta(days=gap)
            if kind == "proposal" and not won and rng.random() < 0.5:
                break  # many lost ones never got to a proposal
            session.add(OpportunityActivity(opportunity_id=opp_id, actor_id=row_id(owner), kind=kind, at=at))
            if kind == "visit":
                visits.append(
                    CustomerVisit(
                        customer_id=row_id(customer),
                        rm_id=row_id(owner),
                        channel="visit",
                        occurred_at=at,
                        outcome="面谈需求",
                    )
                )
        session.add(
            OpportunityTransition(
                opportunity_id=opp_id,
                actor_id=owner.id,
                from_status="claimed",
                to_status="won" if won else "lost",
                at=close_at,
            )
        )
        added["opportunities"] += 1

    # Won war rooms: a project and its main target's path through the funnel, with the members.
    for n in range(ROOMS):
        owner = rng.choice(
            [u for u in experienced if persona[row_id(u)] in ("super", "excellent")] or experienced
        )
        mine = [c for c in pool if c.owner_id == owner.id and c.kind == "corporate"]
        if not mine:
            continue
        customer = rng.choice(mine)
        start = now - timedelta(days=rng.randint(60, 400))
        room = WarRoom(
            title=f"重点客户攻坚 {n + 1}",
            kind=RoomKind.project_marketing,
            mode=RoomMode.joint,
            status=RoomStatus.won,
            owner_id=row_id(owner),
            branch_id=owner.branch_id,
            team_id=owner.team_id,
            created_at=start,
            updated_at=start + timedelta(days=40),
        )
        session.add(room)
        session.flush()
        target = WarRoomTarget(
            room_id=row_id(room),
            customer_id=row_id(customer),
            stage=TargetStage.won,
            amount_cents=rng.randint(50, 500) * 10_000_00,
            added_by=row_id(owner),
        )
        session.add(target)
        mates = [u for u in by_team.get(owner.team_id, []) if u.id != owner.id][:2]
        session.add(
            WarRoomMember(
                room_id=row_id(room),
                user_id=row_id(owner),
                role=MemberRole.owner,
                status=MemberStatus.active,
                joined_at=start,
            )
        )
        for mate in mates:
            session.add(
                WarRoomMember(
                    room_id=row_id(room),
                    user_id=row_id(mate),
                    role=MemberRole.member,
                    status=MemberStatus.active,
                    joined_at=start,
                )
            )
        session.flush()
        at = start
        stages = ["to_contact", "contacted", "negotiating", "approval", "won"]
        for seq, stage in enumerate(stages, start=1):
            at += timedelta(days=rng.randint(2, 9))
            author = rng.choice([owner, *mates])
            session.add(
                WarRoomEvent(
                    room_id=row_id(room),
                    seq=seq,
                    kind="target.added" if seq == 1 else "target.updated",
                    payload={"target": {"id": target.id, "stage": stage}},
                    author_id=author.id,
                    created_at=at,
                )
            )
        room.last_seq = len(stages)
        added["war_rooms"] += 1

    # Contacts before a product was opened (the visit-sequence cases).
    since = (now - timedelta(days=540)).date()
    opened = list(
        session.exec(
            select(col(Holding.customer_id), col(Holding.opened_on))
            .join(Customer, col(Customer.id) == Holding.customer_id)
            .where(Holding.opened_on >= since, col(Customer.owner_id).in_(list(owner_of)))
            .order_by(col(Holding.id))
            .limit(4000)
        ).all()
    )
    owners = dict(
        session.exec(
            select(Customer.id, Customer.owner_id).where(col(Customer.id).in_({c for c, _ in opened}))
        ).all()
    )
    for customer_id, day in rng.sample(opened, min(VISIT_SEQUENCES, len(opened))):
        at = datetime.combine(day, time(10, 0), tzinfo=DEMO_ZONE)
        for _ in range(rng.randint(2, 4)):
            at -= timedelta(days=rng.randint(3, 25))
            visits.append(
                CustomerVisit(
                    customer_id=customer_id,
                    rm_id=owners[customer_id],
                    channel=rng.choice(["visit", "call", "meeting", "wechat"]),
                    occurred_at=at,
                    outcome="了解需求",
                )
            )

    # Regular contacts with top customers (the best keep closer), and past intel alerts followed by a
    # visit (the best go sooner): the playbook's figures.
    tops = top_customers(session, rm_ids=[row_id(u) for u, _p in rms])
    for owner_id, customer_ids in tops.items():
        kind = persona.get(owner_id, "general")
        for customer_id in customer_ids:
            for _ in range(TOP_CONTACTS.get(kind, 2)):
                if rng.random() < 0.7:
                    when = now - timedelta(days=rng.randint(1, 179), hours=rng.randint(0, 8))
                    visits.append(
                        CustomerVisit(
                            customer_id=customer_id,
                            rm_id=owner_id,
                            channel=rng.choice(["visit", "call"]),
                            occurred_at=when,
                            outcome="例行维护",
                        )
                    )
        low, high = ALERT_FOLLOW_UP_HOURS.get(kind, (24, 120))
        for n, customer_id in enumerate(customer_ids[:ALERTS_PER_RM]):
            alerted = now - timedelta(days=rng.randint(10, 170), hours=rng.randint(0, 12))
            item = IntelItem(
                fingerprint=f"demo-history-{owner_id}-{n}",
                category=Category.industry,
                title=f"行业动态 {n + 1}",
            )
            session.add(item)
            session.flush()
            session.add(
                IntelAlert(
                    item_id=row_id(item),
                    customer_id=customer_id,
                    rm_id=owner_id,
                    category=Category.industry,
                    score=70,
                    reason="该客户所在行业有新动态",
                    sentiment=Sentiment.neutral,
                    created_at=alerted,
                    read_at=alerted,
                )
            )
            visits.append(
                CustomerVisit(
                    customer_id=customer_id,
                    rm_id=owner_id,
                    channel="visit",
                    occurred_at=alerted + timedelta(hours=rng.randint(low, high)),
                    outcome="就情报跟进",
                )
            )
    session.add_all(visits)
    added["visits"] = len(visits)
    session.commit()
    added["helper_tasks"] = _helper_task(session, now=now)
    return added


def _helper_task(session: Session, *, now: datetime) -> int:
    users = {
        u.username: u
        for u in session.exec(select(User).where(col(User.username).in_(["rm_super", "rm_newcomer"]))).all()
    }
    if len(users) < 2 or session.exec(select(HelperTask.id).limit(1)).first() is not None:
        return 0
    boss, helper = users["rm_super"], users["rm_newcomer"]
    customer = session.exec(
        select(Customer)
        .where(Customer.owner_id == boss.id, Customer.kind == "corporate")
        .order_by(col(Customer.id))
    ).first()
    if customer is None:
        return 0
    today = now.astimezone(DEMO_ZONE).date()
    tasks: list[dict[str, Any]] = [
        {"kind": HelperTaskKind.collect_documents, "title": "收集近两年财务报表与纳税证明", "days": 3},
        {"kind": HelperTaskKind.book_meeting, "title": "约财务总监下周面谈授信方案", "days": 6},
    ]
    for t in tasks:
        helpers.create_task(
            session,
            user=boss,
            data=TaskCreate(
                helper_id=row_id(helper),
                customer_id=row_id(customer),
                kind=t["kind"],
                title=t["title"],
                due_on=today + timedelta(days=t["days"]),
                credit_cents=500_00,
            ),
            ip=DEMO_IP,
            now=now,
        )
    return len(tasks)
