"""Each RM's feed: the pool as they may claim it, ranked by fit with their book, with the reasons."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from server.customers.models import Customer
from server.db import row_id
from server.errors import forbidden
from server.opportunities.access import audience_condition, rm_profile
from server.opportunities.cards import summaries
from server.opportunities.claims import has_priority, open_claims
from server.opportunities.feed import last_seq
from server.opportunities.models import Opportunity
from server.opportunities.models import OpportunityStatus as S
from server.opportunities.policy import get_policy
from server.opportunities.schemas import FeedQuery
from server.org.models import Role, User
from server.reference import region_name
from server.timeutil import as_utc, utcnow

SECTION_NAMES = {
    "A": "农林牧渔业",
    "B": "采矿业",
    "C": "制造业",
    "D": "能源供应业",
    "E": "建筑业",
    "F": "批发零售业",
    "G": "交通物流业",
    "H": "住宿餐饮业",
    "I": "信息技术业",
    "J": "金融业",
    "K": "房地产业",
    "L": "商务服务业",
    "M": "科技服务业",
    "N": "环保公共设施业",
    "P": "教育",
    "Q": "卫生",
    "R": "文化体育业",
    "S": "公共管理",
}


SIZE_NAMES = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}
QUALIFICATION_NAMES = {
    "fund_sales": "基金销售",
    "insurance_agent": "保险代理",
    "wealth_management": "理财销售",
    "credit_approval": "授信审批",
    "fx_trading": "外汇交易",
}


def _fit(
    opp: Opportunity,
    *,
    book_total: int,
    by_section: Counter,
    by_section_size: Counter,
    by_region: Counter,
    home_region: str | None,
    qualifications: set[str],
    load: int,
) -> tuple[float, list[str]]:
    """How well this opportunity fits the RM, with the reasons in the RM's language."""
    score = opp.quality_score * 0.2
    reasons: list[tuple[float, str]] = []
    section = (opp.industry_code or "")[:1]
    if section and book_total:
        share = by_section[section] / book_total
        score += 30 * share
        combo = by_section_size[(section, opp.size)] if opp.size else 0
        if combo >= 2:
            score += 15 * combo / book_total + 5
            reasons.append(
                (
                    20 + share,
                    f"你擅长{SECTION_NAMES.get(section, section)}{SIZE_NAMES.get(opp.size or '', '')}企业",
                )
            )
        elif share >= 0.2:
            reasons.append((15 + share, f"你服务的{SECTION_NAMES.get(section, section)}客户较多"))
    if opp.region_code:
        region_share = by_region[opp.region_code] / book_total if book_total else 0
        if region_share >= 0.3 or opp.region_code == home_region:
            score += 15
            reasons.append(
                (10 + region_share, f"你的客户多在{region_name(opp.region_code) or opp.region_code}")
            )
    if opp.required_qualification and opp.required_qualification in qualifications:
        score += 10
        name = QUALIFICATION_NAMES.get(opp.required_qualification, opp.required_qualification)
        reasons.append((8, f"你持有{name}资格"))
    score -= 4 * load
    if load == 0:
        reasons.append((5, "你目前没有在办商机"))
    elif load >= 3:
        reasons.append((1, f"你已有{load}个在办商机"))
    reasons.sort(key=lambda r: -r[0])
    return round(score, 2), [text for _, text in reasons]


def ranked_feed(
    session: Session, *, user: User, query: FeedQuery, now: datetime | None = None
) -> dict[str, Any]:
    """The pool as this RM may claim it, ordered by fit. A handful of set-based queries in all:
    the candidates, the RM's book mix, the RM's load."""
    now = now or utcnow()
    if user.role != Role.rm:
        raise forbidden("The pool feed is for relationship managers.")
    policy = get_policy(session)
    profile = rm_profile(session, user=user)
    qualifications = set(profile.qualifications or []) if profile else set()
    conds: list[Any] = [
        col(Opportunity.status) == S.shared,
        audience_condition(user),
        col(Opportunity.originator_id) != user.id,
    ]
    if policy.require_qualification:
        conds.append(
            or_(
                col(Opportunity.required_qualification).is_(None),
                col(Opportunity.required_qualification).in_(sorted(qualifications) or [""]),
            )
        )
    if query.region:
        conds.append(col(Opportunity.region_code).startswith(query.region))
    if query.industry:
        conds.append(col(Opportunity.industry_code).startswith(query.industry.upper()))
    if query.product_id:
        conds.append(col(Opportunity.product_id) == query.product_id)
    if query.source:
        conds.append(col(Opportunity.source) == query.source.value)
    if query.q:
        pattern = "%" + query.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conds.append(
            or_(
                col(Opportunity.title).like(pattern, escape="\\"),
                col(Opportunity.prospect_name).like(pattern, escape="\\"),
            )
        )
    # The cursor is read before the cards: everything up to it is in the page, so a client may
    # drop events at or below it. Read after, a share committed in between would be lost.
    cursor = last_seq(session)
    candidates = session.exec(
        select(Opportunity).where(*conds).order_by(col(Opportunity.shared_at).desc()).limit(300)
    ).all()
    book = session.exec(
        select(Customer.industry_code, Customer.size, Customer.region_code, func.count())
        .where(Customer.owner_id == user.id)
        .group_by(col(Customer.industry_code), col(Customer.size), col(Customer.region_code))
    ).all()
    by_section: Counter = Counter()
    by_section_size: Counter = Counter()
    by_region: Counter = Counter()
    book_total = 0
    for industry, size, region, n in book:
        section = (industry or "")[:1]
        by_section[section] += n
        by_section_size[(section, size)] += n
        by_region[region] += n
        book_total += n
    load = open_claims(session, rm_id=row_id(user))
    priority = has_priority(session, user=user, profile=profile, today=now.date())
    cards = summaries(session, list(candidates), policy=policy)
    scored = []
    for opp, card in zip(candidates, cards, strict=True):
        score, reasons = _fit(
            opp,
            book_total=book_total,
            by_section=by_section,
            by_section_size=by_section_size,
            by_region=by_region,
            home_region=profile.home_region if profile else None,
            qualifications=qualifications,
            load=load,
        )
        card["fit_score"] = score
        card["reasons"] = reasons
        card["reason"] = reasons[0] if reasons else None
        opens = as_utc(opp.shared_at or now) + timedelta(minutes=policy.priority_window_minutes)
        card["can_claim_now"] = priority or now >= opens
        scored.append(card)
    scored.sort(key=lambda c: (-c["fit_score"], c["id"]))
    return {
        "items": scored[: query.limit],
        "last_seq": cursor,
        "open_claims": load,
        "max_open_claims": policy.max_open_claims,
        "has_priority": priority,
    }
