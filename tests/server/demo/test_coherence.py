"""The demo bank agrees with itself: holdings respect their products' terms, every customer (VIPs
above all) holds something, products carry the seed's selling content, intel contracts fit the firms
that sign them, time progress follows the user's local day, and every feature is alive on first
start for the demo logins (the pool, a running war room, notes and reminders)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from server.customers.models import CorporateProfile, Customer
from server.demo import catalog, industries
from server.demo.features import seed_features
from server.demo.feeds import BUYERS, goods_of, local_term, policy_items, tender_items, top_pairs
from server.intel.lexicon import INDUSTRY_KEYWORDS
from server.notebook.models import Note, Reminder
from server.opportunities.models import Opportunity
from server.org.models import User
from server.performance.service import performance
from server.products.models import Holding, Product, ProductCase
from server.reference import INDUSTRIES
from server.warrooms.models import WarRoom, WarRoomEvent, WarRoomMember, WarRoomTarget

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEMO_RMS = ("rm_newcomer", "rm_general", "rm_excellent", "rm_super", "rm_veteran")


def _yuan_cents(number: str, unit: str) -> int:
    return round(float(number) * (10_000 if unit == "万" else 1) * 100)


def test_stated_minimums_are_the_ones_the_generator_keeps():
    """The catalogue's minimums are the ones the products' own terms state (万元起存 / 元起购)."""
    for product in catalog.PRODUCTS:
        terms = product["terms"]
        pair = re.search(r"个人(\d+(?:\.\d+)?)(万)?元、单位(\d+(?:\.\d+)?)(万)?元起[存购]", terms)
        single = re.search(r"(\d+(?:\.\d+)?)(万)?元起[存购]", terms)
        if pair:
            stated = (_yuan_cents(pair[1], pair[2]), _yuan_cents(pair[3], pair[4]))
        elif single:
            stated = (_yuan_cents(single[1], single[2]),) * 2
        elif "留存额度" in terms:  # 协定存款: the agreed base amount is its floor
            floor = re.search(r"留存额度(\d+)万元", terms)
            stated = (_yuan_cents(floor[1], "万"),) * 2
        else:
            stated = (0, 0)
        assert catalog.MINIMUMS.get(product["code"], (0, 0)) == stated, product["code"]
        ceiling = re.search(r"最高(\d+)万元", product["terms"])
        if ceiling and product["category"] in ("loan", "credit_card"):
            assert catalog.MAXIMUMS[product["code"]] == _yuan_cents(ceiling.group(1), "万"), product["code"]


def test_every_holding_respects_its_products_terms(bank_session):
    s = bank_session
    products = {p.id: p for p in s.exec(select(Product)).all()}
    by_code = {p["code"]: p for p in catalog.PRODUCTS}
    rows = s.exec(
        select(Holding, Customer.kind).join(Customer, col(Customer.id) == Holding.customer_id)
    ).all()
    assert rows
    below, above = [], []
    for holding, kind in rows:
        if holding.status != "active":
            assert holding.balance_cents == holding.loan_balance_cents == 0
            continue
        spec = by_code[products[holding.product_id].code]
        minimum = catalog.product_minimum_cents(spec, corporate=kind == "corporate")
        if holding.balance_cents and holding.balance_cents < minimum:
            below.append((spec["code"], holding.balance_cents, minimum))
        if spec.get("max_cents") and holding.loan_balance_cents > spec["max_cents"]:
            above.append((spec["code"], holding.loan_balance_cents))
    assert not below, below[:5]
    assert not above, above[:5]
    # The rule has teeth: the bank does hold 大额存单, all of them at 20万 or more.
    lcd = [h for h, _ in rows if products[h.product_id].code == "DEP-LCD" and h.status == "active"]
    assert lcd and min(h.balance_cents for h in lcd) >= 20_0000_00


def test_every_customer_and_every_vip_holds_an_active_product(bank_session):
    s = bank_session
    active = defaultdict(int)
    for customer_id in s.exec(select(Holding.customer_id).where(Holding.status == "active")).all():
        active[customer_id] += 1
    customers = s.exec(select(Customer.id, Customer.tier)).all()
    vips = [cid for cid, tier in customers if tier == "vip"]
    assert vips
    assert [cid for cid in vips if not active[cid]] == []
    assert [cid for cid, _ in customers if not active[cid]] == []


def test_purchases_climb_the_typical_ladders(bank_session):
    """The next purchase follows from the last one, as in a real bank's data: a mortgage is followed
    by critical illness cover most often, a small firm's account by an inclusive SME loan."""
    s = bank_session
    codes = dict(s.exec(select(Product.id, Product.code)).all())
    sizes = dict(s.exec(select(Customer.id, Customer.size)).all())
    bought: dict[int, list[tuple[date, int, str]]] = defaultdict(list)
    for customer_id, product_id, opened_on in s.exec(
        select(col(Holding.customer_id), col(Holding.product_id), col(Holding.opened_on))
    ).all():
        bought[customer_id].append((opened_on, product_id, codes[product_id]))
    after: dict[str, Counter[str]] = defaultdict(Counter)
    second_of_small_firms: Counter[str] = Counter()
    for customer_id, rows in bought.items():
        order = [code for _, _, code in sorted(rows)]
        for a, b in zip(order, order[1:], strict=False):
            after[a][b] += 1
        if sizes[customer_id] in ("small", "micro") and len(order) > 1:
            assert order[0] == "DEP-CA"  # a firm starts with its settlement account
            second_of_small_firms[order[1]] += 1
    assert after["LN-MTG"].most_common(1)[0][0] == "INS-CI", after["LN-MTG"]
    assert second_of_small_firms.most_common(1)[0][0] == "LN-SME", second_of_small_firms


def test_products_carry_the_seeds_selling_content(bank_session):
    s = bank_session
    cases = defaultdict(int)
    for product_id in s.exec(select(ProductCase.product_id)).all():
        cases[product_id] += 1
    for p in s.exec(select(Product)).all():
        assert len(p.selling_points) == 3, p.code  # 三大卖点
        assert 12 <= len(p.advantages) <= 20 and len(set(p.advantages)) == len(p.advantages), p.code
        assert not set(p.selling_points) & set(p.advantages), p.code
        assert cases[p.id] >= 2, p.code  # 多个产品成功案例


def _fits(goods: str, industry: str) -> bool:
    return goods in industries.INDUSTRY_WORDS.get(industry, []) or INDUSTRY_KEYWORDS.get(goods) == (industry,)


def test_contracts_fit_the_industry_of_the_firm_that_signs_them(bank_session):
    s = bank_session
    firms = s.exec(
        select(Customer.name, Customer.industry_code, CorporateProfile.short_name).join(
            CorporateProfile, col(CorporateProfile.customer_id) == Customer.id
        )
    ).all()
    makers = [(n, i, short) for n, i, short in firms if (i or "").startswith("C")]
    assert makers
    for name, industry, _ in makers:
        goods = goods_of(name, industry)
        assert _fits(goods, industry), (name, industry, goods)
        own = [w for w in industries.INDUSTRY_WORDS.get(industry, []) if w in name]
        if own:  # a firm named for what it makes supplies that
            assert goods in own, (name, goods)
    # The medical-device maker of the report supplies a hospital, not 工程机械 to a carmaker.
    assert goods_of("杭州恒达医疗器械有限公司", "C35") == "医疗器械" and "医院" in BUYERS["医疗器械"]
    # And so does every contract the demo feed publishes.
    signed = [i for i in tender_items(s) if "供货合同" in i["title"]]
    assert signed
    by_label = {n: i for n, i, _ in makers} | {short: i for _, i, short in makers if short}
    for item in signed:
        who = next(w for w in sorted(by_label, key=len, reverse=True) if item["title"].startswith(w))
        goods = re.search(r"签订年度(.+)供货合同", item["title"]).group(1)
        assert _fits(goods, by_label[who]), item["title"]


def test_policy_news_names_the_industry_as_the_citys_firms_carry_it(bank_session):
    s = bank_session
    pairs = top_pairs(s, 3)
    assert pairs
    for industry, region in pairs:
        term = local_term(s, industry, region)
        assert INDUSTRY_KEYWORDS.get(term) == (industry,) or term == INDUSTRIES.get(industry), term
        names = s.exec(
            select(Customer.name).where(Customer.industry_code == industry, Customer.region_code == region)
        ).all()
        named = {
            w for w in industries.INDUSTRY_WORDS.get(industry, []) if INDUSTRY_KEYWORDS.get(w) == (industry,)
        }
        carried = {w for w in named if any(w in n for n in names)}
        if carried:
            assert term in carried, (industry, region, term, carried)
    titles = [i["title"] for i in policy_items(s)]
    assert any(local_term(s, *pairs[0]) in t for t in titles)


def test_time_progress_is_the_users_local_day_within_the_period(bank_session):
    s = bank_session
    rm = s.exec(select(User).where(User.username == "rm_general")).one()
    year = date.today().year
    for day in (date(year, 12, 4), date(year, 6, 30), date(year, 12, 30)):
        got = performance(s, rm=rm, month=f"{year}-{day.month:02d}", months=1, today=day)
        elapsed = got["annual"]["year_elapsed"]
        assert 0 < elapsed < 1, (day, elapsed)
        expected = ((day - date(year, 1, 1)).days + 1) / (date(year + 1, 1, 1) - date(year, 1, 1)).days
        assert abs(elapsed - expected) < 1e-4
    last = performance(s, rm=rm, month=f"{year}-12", months=1, today=date(year, 12, 31))
    assert last["annual"]["year_elapsed"] == 1
    # A month already over counts to its end, whatever today is.
    past = performance(s, rm=rm, month=f"{year}-03", months=1, today=date(year, 12, 4))
    assert past["annual"]["year_elapsed"] == round(
        (date(year, 4, 1) - date(year, 1, 1)).days / (date(year + 1, 1, 1) - date(year, 1, 1)).days, 4
    )


def test_the_pool_has_opportunities_waiting_for_the_general_rm(login, bank_session):
    s = bank_session
    waiting = s.exec(select(Opportunity).where(Opportunity.status == "shared")).all()
    assert len(waiting) >= 3
    general = s.exec(select(User).where(User.username == "rm_general")).one()
    assert all(o.originator_id != general.id for o in waiting)
    client = login("rm_general")
    home = client.get("/api/v1/home").get_json()
    cards = {c["type"]: c for c in home["cards"]}
    assert len(cards["opportunities"]["items"]) >= 3  # 有经验，缺客户: something to claim
    feed = client.get("/api/v1/opportunities/feed").get_json()
    assert len(feed["items"]) >= 3


def test_a_running_war_room_with_members_targets_and_chat(login, bank_session):
    s = bank_session
    rooms = s.exec(select(WarRoom).where(WarRoom.status == "active")).all()
    assert rooms
    room = rooms[0]
    members = s.exec(
        select(WarRoomMember).where(WarRoomMember.room_id == room.id, WarRoomMember.status == "active")
    ).all()
    assert len(members) >= 3
    assert len(s.exec(select(WarRoomTarget).where(WarRoomTarget.room_id == room.id)).all()) >= 3
    chat = s.exec(
        select(WarRoomEvent).where(WarRoomEvent.room_id == room.id, WarRoomEvent.kind == "message")
    ).all()
    assert len({e.author_id for e in chat}) >= 3
    assert room.deadline is None or room.deadline > datetime.now(SHANGHAI).date()
    for username in ("rm_general", "rm_excellent", "lead"):
        listing = login(username).get("/api/v1/war-rooms").get_json()
        assert room.id in {r["id"] for r in listing["items"]}, username


def test_notes_and_reminders_due_today_and_tomorrow_on_beijing_time(bank_session):
    s = bank_session
    today = datetime.now(SHANGHAI).date()
    utc = ZoneInfo("UTC")
    for username in DEMO_RMS:
        user = s.exec(select(User).where(User.username == username)).one()
        assert s.exec(select(Note).where(Note.owner_id == user.id)).all(), username
    general = s.exec(select(User).where(User.username == "rm_general")).one()
    due = [
        r.due_at.replace(tzinfo=r.due_at.tzinfo or utc).astimezone(SHANGHAI).date()
        for r in s.exec(
            select(Reminder).where(Reminder.user_id == general.id, Reminder.note_id.is_not(None))
        ).all()
    ]
    assert today in due and today + timedelta(days=1) in due
    # Wall-clock times a person would pick, in Beijing (not 23:30 from a UTC slip).
    for r in s.exec(select(Reminder).where(Reminder.note_id.is_not(None))).all():
        local = r.due_at.replace(tzinfo=r.due_at.tzinfo or utc).astimezone(SHANGHAI).time()
        assert time(8, 0) <= local <= time(19, 0), local


def test_feature_data_is_added_once(demo_bank, bank_session):
    first = demo_bank.config["DEMO_FEATURES"]
    assert first["activity"]["opportunities"] >= 3 and first["activity"]["notes"] >= 5
    with demo_bank.app_context():
        again = seed_features(bank_session, seed=7)
    assert again["activity"] == {"opportunities": 0, "war_rooms": 0, "notes": 0}
    assert again["workbench"] == {"resources": 0, "product_fits": 0, "product_cases": 0}
