"""Performance (我可有的业绩) and customer mix (我可驾驭的客户), read from the ledger, the targets and
the book of customers with aggregate queries (one per figure, never one per customer)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, exists, literal_column
from sqlmodel import Session, col, func, select

from server.customers.models import Customer
from server.db import row_id
from server.notebook.models import ReminderSetting
from server.org.models import User
from server.org.teams import team_rm_ids
from server.performance.ledger import ledger_sums
from server.performance.models import PerformanceEntry, PerformanceTarget
from server.reference import industry_name
from server.timeutil import current_month, month_bounds, shift_month, utcnow

KINDS = ("revenue", "new_business", "existing_business", "new_customer", "shared_credit")
CONVERSION_WINDOW_DAYS = 365
MIN_SEGMENT_CUSTOMERS = 3
DEFAULT_ZONE = "Asia/Shanghai"


def local_today(session: Session, *, user: User) -> date:
    """The user's calendar day on their own clock (their reminder time zone; Beijing by default)."""
    setting = session.get(ReminderSetting, user.id)
    return utcnow().astimezone(ZoneInfo(setting.timezone if setting else DEFAULT_ZONE)).date()


def performance(
    session: Session, *, rm: User, month: str | None = None, months: int = 6, today: date | None = None
) -> dict[str, Any]:
    month = month or current_month()
    start, end = month_bounds(month)
    year_start = date(start.year, 1, 1)
    rm_key = row_id(rm)
    team = team_rm_ids(session, rm=rm)
    this_month = ledger_sums(session, team, start, end)
    mine = this_month.get(rm_key, {})
    year = ledger_sums(session, [rm_key], year_start, end).get(rm_key, {})
    target = session.exec(
        select(PerformanceTarget).where(PerformanceTarget.rm_id == rm.id, PerformanceTarget.month == month)
    ).first()
    annual_target = session.exec(
        select(func.sum(PerformanceTarget.revenue_target_cents)).where(
            PerformanceTarget.rm_id == rm.id, col(PerformanceTarget.month).startswith(f"{start.year:04d}-")
        )
    ).one()
    existing_customers = session.exec(
        select(func.count()).select_from(Customer).where(Customer.owner_id == rm.id)
    ).one()
    revenue = mine.get("revenue", 0) + mine.get("shared_credit", 0)
    ranking = sorted(
        team,
        key=lambda r: (
            -(this_month.get(r, {}).get("revenue", 0) + this_month.get(r, {}).get("shared_credit", 0))
        ),
    )
    first_month = shift_month(month, -(months - 1))
    trend_rows = _monthly(session, rm_key, month_bounds(first_month)[0], end)
    trend = []
    for n in range(months):
        m = shift_month(first_month, n)
        data = trend_rows.get(m, {})
        trend.append(
            {
                "month": m,
                "revenue_cents": data.get("revenue", 0) + data.get("shared_credit", 0),
                "new_business_cents": data.get("new_business", 0),
                "existing_business_cents": data.get("existing_business", 0),
            }
        )
    annual = int(annual_target or 0)
    year_revenue = year.get("revenue", 0) + year.get("shared_credit", 0)
    return {
        "month": month,
        "customers": {"new": mine.get("new_customer:count", 0), "existing": int(existing_customers)},
        "business": {
            "new_cents": mine.get("new_business", 0),
            "existing_cents": mine.get("existing_business", 0),
        },
        "revenue": {
            "target_cents": target.revenue_target_cents if target else None,
            "achieved_cents": revenue,
            "shared_credit_cents": mine.get("shared_credit", 0),
            "completion": round(revenue / target.revenue_target_cents, 4)
            if target and target.revenue_target_cents
            else None,
        },
        "annual": {
            "target_cents": annual or None,
            "achieved_cents": year_revenue,
            "progress": round(year_revenue / annual, 4) if annual else None,
            # 时间进度: the days of the year gone by the user's today (inclusive), within the month asked.
            "year_elapsed": round(
                (
                    max(year_start, min(end, (today or local_today(session, user=rm)) + timedelta(days=1)))
                    - year_start
                ).days
                / (date(start.year + 1, 1, 1) - year_start).days,
                4,
            ),
        },
        "team_rank": {"rank": ranking.index(rm_key) + 1, "team_size": len(team)},
        "trend": trend,
    }


def _monthly(session: Session, rm_id: int, start: date, end: date) -> dict[str, dict[str, int]]:
    rows = session.exec(
        select(
            col(PerformanceEntry.booked_on), col(PerformanceEntry.kind), col(PerformanceEntry.amount_cents)
        ).where(
            PerformanceEntry.rm_id == rm_id,
            PerformanceEntry.booked_on >= start,
            PerformanceEntry.booked_on < end,
        )
    ).all()  # one RM's ledger for six months: small, bucketed here rather than with dialect date functions
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for booked_on, kind, amount in rows:
        out[f"{booked_on.year:04d}-{booked_on.month:02d}"][kind] += int(amount)
    return out


# --- customer mix -----------------------------------------------------------------------------------

DIMENSIONS: dict[str, Any] = {
    "gender": Customer.gender,
    "size": Customer.size,
    "ownership": Customer.ownership,
    "industry": func.substr(Customer.industry_code, literal_column("1"), literal_column("1")),
    "region": Customer.region_name,
    "tier": Customer.tier,
}
LABELS = {
    "gender": {"M": "男", "F": "女"},
    "size": {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"},
    "ownership": {
        "government": "政府机关",
        "central_soe": "央企",
        "local_soe": "地方国企",
        "private": "民营",
        "foreign": "外资",
    },
    "tier": {"vip": "私行/VIP", "high": "高价值", "mid": "中价值", "mass": "大众"},
}
SECTIONS = {
    "A": "农林牧渔",
    "B": "采矿",
    "C": "制造业",
    "D": "能源",
    "E": "建筑",
    "F": "批发零售",
    "G": "交通物流",
    "H": "住宿餐饮",
    "I": "信息技术",
    "K": "房地产",
    "L": "商务服务",
    "M": "科研",
    "N": "环境",
    "P": "教育",
    "Q": "卫生",
    "R": "文化",
    "S": "公共管理",
}


def _label(dimension: str, value: Any) -> str:
    if value is None:
        return "未知"
    if dimension == "industry":
        return SECTIONS.get(value, industry_name(value) or value)
    return LABELS.get(dimension, {}).get(value, str(value))


def _shares(session: Session, owner_ids: list[int], dimension: str) -> dict[Any, int]:
    expr = DIMENSIONS[dimension]
    where: list[ColumnElement[bool]] = [col(Customer.owner_id).in_(owner_ids)]
    if dimension == "gender":
        where.append(col(Customer.kind) == "individual")
    elif dimension in ("size", "ownership", "industry"):
        where.append(col(Customer.kind) == "corporate")
    return dict(session.exec(select(expr, func.count()).where(*where).group_by(expr)).all())


def customer_mix(session: Session, *, rm: User) -> dict[str, Any]:
    team = team_rm_ids(session, rm=rm)
    out: dict[str, Any] = {"dimensions": []}
    for dimension in DIMENSIONS:
        mine = _shares(session, [row_id(rm)], dimension)
        theirs = _shares(session, team, dimension)
        mine_total, team_total = sum(mine.values()), sum(theirs.values())
        keys = sorted(set(mine) | set(theirs), key=lambda k: -(theirs.get(k, 0)))
        out["dimensions"].append(
            {
                "dimension": dimension,
                "items": [
                    {
                        "value": k,
                        "label": _label(dimension, k),
                        "customers": mine.get(k, 0),
                        "share": round(mine.get(k, 0) / mine_total, 4) if mine_total else 0,
                        "team_share": round(theirs.get(k, 0) / team_total, 4) if team_total else 0,
                    }
                    for k in keys
                ],
            }
        )
    out["government_share"] = _flag_share(out, "ownership", "government")
    out["central_soe_share"] = _flag_share(out, "ownership", "central_soe")
    out["best_segments"] = best_segments(session, rm=rm)
    out["team_size"] = len(team)
    return out


def _flag_share(out: dict[str, Any], dimension: str, value: str) -> dict[str, float]:
    items = next(d["items"] for d in out["dimensions"] if d["dimension"] == dimension)
    hit = next((i for i in items if i["value"] == value), None)
    return {"share": hit["share"] if hit else 0, "team_share": hit["team_share"] if hit else 0}


def best_segments(
    session: Session, *, rm: User, today: date | None = None, limit: int = 3
) -> list[dict[str, Any]]:
    """Segments (industry section x tier) where the RM converts best: the share of the RM's customers
    in the segment with new business in the last 12 months. Segments with fewer than 3 customers
    are left out (too few to tell)."""
    since = (today or date.today()) - timedelta(days=CONVERSION_WINDOW_DAYS)
    # Literals, not bound parameters: PostgreSQL must see the GROUP BY expression as the selected one.
    section = func.coalesce(
        func.substr(Customer.industry_code, literal_column("1"), literal_column("1")), literal_column("'-'")
    )
    converted = case(
        (
            exists().where(
                and_(
                    col(PerformanceEntry.customer_id) == Customer.id,
                    col(PerformanceEntry.kind) == "new_business",
                    col(PerformanceEntry.booked_on) >= since,
                )
            ),
            1,
        ),
        else_=0,
    )
    rows = session.exec(
        # sqlmodel's select() is typed for at most four columns; five work the same at run time.
        select(Customer.kind, section, Customer.tier, func.count(), func.sum(converted))  # type: ignore[call-overload]
        .where(Customer.owner_id == rm.id)
        .group_by(col(Customer.kind), section, col(Customer.tier))
        .having(func.count() >= MIN_SEGMENT_CUSTOMERS)
    ).all()
    segments = []
    for kind, sec, tier, count, won in rows:
        rate = int(won or 0) / int(count)
        name = (SECTIONS.get(sec, "其他") if kind == "corporate" else "个人") + "·" + _label("tier", tier)
        segments.append(
            {
                "kind": kind,
                "industry_section": None if sec == "-" else sec,
                "tier": tier,
                "label": name,
                "customers": int(count),
                "converted": int(won or 0),
                "conversion": round(rate, 4),
            }
        )
    segments.sort(key=lambda s: (-s["conversion"], -s["customers"], s["label"]))
    return segments[:limit]
