"""The demo bank's own intel feeds, served by the app (no internet needed), registered only when
DEMO_MODE is on. Their content is written at request time from the customer book, so whatever demo
bank is loaded, the news names its real companies, industries and cities:

    /demo-feeds/policy.xml    RSS 2.0: regional and national industry policy, an LPR cut, a crackdown
    /demo-feeds/weather.xml   Atom: storm warnings for cities with construction/transport/farm customers
    /demo-feeds/tenders.json  JSON: tenders won, contracts signed, a penalty (地利)

Each answers with an ETag and honours If-None-Match (304), like a well-behaved real feed.
`register_demo_sources(session, base_url=...)` adds the three sources (once); the demo loader calls it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

from flask import Blueprint, Response, current_app, request
from sqlalchemy import func
from sqlmodel import Session, col, select

from server import db
from server.customers.models import CorporateProfile, Customer, CustomerKind
from server.demo import industries
from server.intel.lexicon import INDUSTRY_KEYWORDS
from server.intel.models import Category, IntelSource, SourceKind
from server.reference import INDUSTRIES, WEATHER_SENSITIVE_SECTIONS, region_name

bp = Blueprint("intel_demo", __name__, url_prefix="/demo-feeds")

DEMO_SOURCES = (
    ("演示·政策与市场", SourceKind.feed, "/demo-feeds/policy.xml", "policy"),
    ("演示·气象预警", SourceKind.feed, "/demo-feeds/weather.xml", "weather"),
    ("演示·招投标与合同", SourceKind.json, "/demo-feeds/tenders.json", "tender_contract"),
)


def _term_for(code: str) -> str:
    """The everyday word for an industry (汽车零部件 for C36), else its GB/T 4754 name."""
    for term, codes in INDUSTRY_KEYWORDS.items():
        if codes == (code,):
            return term
    return INDUSTRIES.get(code, code)


# Who buys a maker's goods, by the goods (the word in the firm's name) or else by its industry: a
# contract fits the firm that signs it (a medical-device maker supplies hospitals, not 工程机械).
BUYERS: dict[str, str] = {
    "医疗器械": "省人民医院",
    "智能装备": "头部家电企业",
    "专用设备": "大型制造集团",
    "新能源汽车": "电池供应商",
    "C13": "连锁商超集团",
    "C15": "全国经销商",
    "C17": "品牌服装企业",
    "C18": "连锁服装品牌",
    "C26": "下游制造企业",
    "C27": "医药流通企业",
    "C29": "家电企业",
    "C31": "建筑央企",
    "C33": "装备制造企业",
    "C34": "装备制造企业",
    "C35": "大型制造集团",
    "C36": "整车厂",
    "C38": "电网公司",
    "C39": "通信设备厂商",
}


def goods_of(name: str, industry: str) -> str:
    """What a maker supplies: the industry word in its own name (…医疗器械有限公司 → 医疗器械), else
    the everyday word for its industry."""
    for word in sorted(industries.INDUSTRY_WORDS.get(industry, []), key=len, reverse=True):
        if word in name:
            return word
    return _term_for(industry)


def _today() -> datetime:
    now = datetime.now(UTC)
    return now.replace(hour=1, minute=0, second=0, microsecond=0)


def top_pairs(session: Session, limit: int) -> list[tuple[str, str]]:
    rows = session.exec(
        select(Customer.industry_code, Customer.region_code, func.count())
        .where(Customer.kind == CustomerKind.corporate, col(Customer.industry_code).is_not(None))
        .group_by(col(Customer.industry_code), col(Customer.region_code))
        .order_by(func.count().desc(), col(Customer.industry_code), col(Customer.region_code))
        .limit(limit)
    ).all()
    return [(i, r) for i, r, _ in rows if i and r]


def local_term(session: Session, industry: str, region: str) -> str:
    """The word for an industry in a city as its firms there carry it in their names (医疗器械 where
    the C35 firms make medical devices), among the words the intel matcher knows; else the
    industry's everyday word."""
    names = session.exec(
        select(Customer.name)
        .where(Customer.kind == CustomerKind.corporate)
        .where(Customer.industry_code == industry, Customer.region_code == region)
        .order_by(col(Customer.id))
        .limit(500)
    ).all()
    known = [
        w for w in industries.INDUSTRY_WORDS.get(industry, []) if INDUSTRY_KEYWORDS.get(w) == (industry,)
    ]
    counts = {w: sum(w in name for name in names) for w in known}
    best = max(known, key=lambda w: (counts[w], -known.index(w)), default=None)
    return best if best is not None and counts[best] else _term_for(industry)


def policy_items(session: Session) -> list[dict]:
    day = _today()
    items = []
    pairs = top_pairs(session, 3)
    for n, (industry, region) in enumerate(pairs):
        city, term = region_name(region), local_term(session, industry, region)
        items.append(
            {
                "title": f"{city}出台支持{term}企业高质量发展若干措施",
                "summary": f"{city}设立专项资金，对{term}企业技术改造给予最高30%补贴，并落实减税降费政策。",
                "published": day - timedelta(hours=n),
                "category": "policy",
            }
        )
    if pairs:
        term = local_term(session, *pairs[0])
        items.append(
            {
                "title": f"多部门联合发文：加大对{term}产业链的金融支持",
                "summary": f"鼓励金融机构扩大{term}行业中长期贷款投放，支持企业扩产。",
                "published": day - timedelta(hours=5),
                "category": "policy",
            }
        )
    items.append(
        {
            "title": "1年期贷款市场报价利率(LPR)下调10个基点",
            "summary": "本月LPR下调，企业贷款利率随之下降，融资成本进一步降低。",
            "published": day - timedelta(hours=6),
            "category": "market",
        }
    )
    if len(pairs) > 1:
        industry, region = pairs[1]
        items.append(
            {
                "title": f"{region_name(region)}开展{local_term(session, industry, region)}行业环保专项督察",
                "summary": "部分企业被责令限产整改，违规企业将被处罚。",
                "published": day - timedelta(hours=8),
                "category": "industry",
            }
        )
    return items


def weather_items(session: Session) -> list[dict]:
    day = _today()
    rows = session.exec(
        select(Customer.region_code, func.count())
        .where(Customer.kind == CustomerKind.corporate, col(Customer.region_code).is_not(None))
        .where(func.substr(Customer.industry_code, 1, 1).in_(WEATHER_SENSITIVE_SECTIONS))
        .group_by(Customer.region_code)
        .order_by(func.count().desc(), col(Customer.region_code))
        .limit(2)
    ).all()
    hazards = ("暴雨", "台风")
    return [
        {
            "title": f"{region_name(region)}气象台发布{hazards[n]}橙色预警",
            "summary": f"预计未来24小时{region_name(region)}将出现{hazards[n]}天气，户外施工、道路运输和农业生产请做好防范。",
            "published": day - timedelta(hours=n),
            "category": "weather",
        }
        for n, (region, _count) in enumerate(rows)
    ]


def tender_items(session: Session) -> list[dict]:
    day = _today()
    rows = session.exec(
        select(Customer.name, Customer.region_code, Customer.industry_code, CorporateProfile.short_name)
        .join(CorporateProfile, CorporateProfile.customer_id == Customer.id)  # type: ignore[arg-type]
        .where(Customer.kind == CustomerKind.corporate)
        .order_by(col(Customer.id))
        .limit(40)
    ).all()
    builders = [r for r in rows if (r[2] or "")[:1] == "E"][:2]
    makers = [r for r in rows if (r[2] or "")[:1] == "C"][:2]
    others = [r for r in rows if r not in builders and r not in makers]
    items = []
    for n, (name, region, _industry, _short) in enumerate(builders):
        items.append(
            {
                "title": f"{name}中标{region_name(region)}城市更新道路工程项目",
                "summary": f"中标金额{2 + n}.{4 - n}亿元，工期18个月，预付款比例10%。",
                "published": (day - timedelta(hours=n)).isoformat(),
                "category": "tender_contract",
            }
        )
    for n, (name, _region, industry, short) in enumerate(makers):
        who = short if short and n == 1 else name
        goods = goods_of(name, industry or "")
        buyer = BUYERS.get(goods) or BUYERS.get(industry or "", "下游龙头企业")
        items.append(
            {
                "title": f"{who}与{buyer}签订年度{goods}供货合同",
                "summary": f"合同金额{8600 - 2300 * n}万元，交付期12个月，预付款30%。",
                "published": (day - timedelta(hours=3 + n)).isoformat(),
                "category": "tender_contract",
            }
        )
    if others:
        name = others[0][0]
        items.append(
            {
                "title": f"{name}因环保问题被处以罚款",
                "summary": "当地生态环境局作出行政处罚决定，责令限期整改。",
                "published": (day - timedelta(hours=7)).isoformat(),
                "category": "corporate_event",
            }
        )
    return items


def _respond(body: str, mimetype: str) -> Response:
    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:20] + '"'
    if request.headers.get("If-None-Match") == etag:
        response = Response(status=304)
    else:
        response = Response(body, mimetype=mimetype)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/policy.xml")
def policy_feed() -> Response:
    items = policy_items(db.session())
    entries = "".join(
        f"<item><title>{escape(i['title'])}</title><description>{escape(i['summary'])}</description>"
        f"<link>{escape(request.host_url)}demo-feeds/policy/{n}</link><guid>demo-policy-{n}</guid>"
        f"<category>{i['category']}</category><pubDate>{format_datetime(i['published'])}</pubDate></item>"
        for n, i in enumerate(items)
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>演示银行·政策与市场</title>'
        f"<link>{escape(request.host_url)}</link><description>demo</description>{entries}</channel></rss>"
    )
    return _respond(body, "application/rss+xml")


@bp.get("/weather.xml")
def weather_feed() -> Response:
    items = weather_items(db.session())
    entries = "".join(
        f"<entry><id>urn:demo:weather:{n}</id><title>{escape(i['title'])}</title>"
        f"<summary>{escape(i['summary'])}</summary><updated>{i['published'].isoformat()}</updated></entry>"
        for n, i in enumerate(items)
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>演示银行·气象预警</title><id>urn:demo:weather</id><updated>{_today().isoformat()}</updated>"
        f"{entries}</feed>"
    )
    return _respond(body, "application/atom+xml")


@bp.get("/tenders.json")
def tenders_feed() -> Response:
    items = tender_items(db.session())
    return _respond(json.dumps({"items": items}, ensure_ascii=False), "application/json")


def register_demo_sources(session: Session, *, base_url: str | None = None) -> list[int]:
    """Adds the demo feeds as intel sources (skipping any already registered); returns their ids."""
    base = (base_url or current_app.config["SETTINGS"].PUBLIC_URL).rstrip("/")
    ids = []
    for name, kind, path, category in DEMO_SOURCES:
        url = base + path
        source = session.exec(select(IntelSource).where(IntelSource.url == url)).first()
        if source is None:
            source = IntelSource(
                name=name,
                kind=kind,
                url=url,
                category=Category(category),
                poll_minutes=15,
                min_fetch_seconds=30,
            )
            session.add(source)
            session.flush()
        ids.append(source.id)
    session.commit()
    return ids  # type: ignore[return-value]
