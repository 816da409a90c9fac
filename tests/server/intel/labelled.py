"""A labelled set for intel matching, built deterministically.

The builder makes a small bank of corporate customers (names, short names, industries, cities,
supply-chain links, tags) and then writes news items *about* chosen customers or chosen
(industry, city) groups. Each item's truth — which customers it concerns — is recorded as the item
is written, from the builder's own data, never by asking the matcher:

* an item naming a company (full name, short name, or credit code) concerns that company and its
  supply-chain partners;
* regional industry policy concerns the customers of that industry in that city; national industry
  policy all customers of the industry;
* a weather warning concerns the customers in that city whose industry weather hits (A, E, G);
* an item naming a tag concerns the customers with the tag;
* noise (a non-customer's news, even one with a customer's industry words and city) concerns nobody.

Every (item, customer) pair is labelled, so precision counts every alert the matcher makes."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

CITIES = {
    "310000": "上海",
    "330100": "杭州",
    "320100": "南京",
    "440300": "深圳",
    "510100": "成都",
    "420100": "武汉",
}
# industry code -> (word in company names, how the news names the industry)
INDUSTRY_WORDS = {
    "C36": ("汽车配件", "汽车零部件"),
    "E48": ("路桥建设", "基础设施建设"),
    "G54": ("物流", "道路货运"),
    "C39": ("电子", "集成电路"),
    "C27": ("医药", "生物医药"),
    "F51": ("贸易", "大宗商品贸易"),
    "A01": ("农业", "粮食种植"),
}
TRADES = (
    "宏远 华星 瑞丰 恒通 嘉禾 鼎盛 永泰 金桥 新元 博达 联创 万和 天成 富安 长青 海纳 中科 德润 "
    "明辉 汇丰 凯瑞 宝隆 鑫源 润泽 启航 同创 正泰 兴业 广誉 远洋 盛世 安达 佳信 鸿运 卓越 华锦 "
    "信达 精工 泰和 东升 昌盛 益康"
).split()
SENSITIVE = ("A", "E", "G")


@dataclass
class Company:
    key: int
    name: str
    short_name: str
    region: str
    industry: str
    partners: set[int] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    credit_code: str | None = None  # filled in when stored


@dataclass
class Item:
    title: str
    summary: str
    category: str
    truth: set[int]  # company keys
    kind: str


@dataclass
class LabelledSet:
    companies: list[Company]
    items: list[Item]
    links: list[tuple[int, int, str]]

    def pairs(self) -> int:
        return len(self.items) * len(self.companies)


def build_companies(seed: int = 4754) -> tuple[list[Company], list[tuple[int, int, str]]]:
    rng = random.Random(seed)
    companies: list[Company] = []
    trades = iter(rng.sample(TRADES, len(TRADES)))
    pool = list(TRADES)
    key = 0
    for region, city in CITIES.items():
        for industry, (word, _news) in INDUSTRY_WORDS.items():
            for _n in range(2):
                trade = next(trades, None) or rng.choice(pool)
                name = f"{city}{trade}{word}有限公司"
                if any(c.name == name for c in companies):
                    trade = rng.choice(pool) + rng.choice("一二三")
                    name = f"{city}{trade}{word}有限公司"
                companies.append(Company(key, name, f"{trade}{word}", region, industry))
                key += 1
    # Short names shared by companies in two cities (the same trade name registered twice).
    for a, b in ((0, 14), (20, 34), (50, 64)):
        ca, cb = companies[a], companies[b]
        cb.short_name = ca.short_name if ca.industry == cb.industry else cb.short_name
        if ca.industry == cb.industry:
            cb.name = f"{CITIES[cb.region]}{ca.short_name}有限公司"
    links = []
    keys = [c.key for c in companies]
    for _n in range(12):
        a, b = rng.sample(keys, 2)
        if b in companies[a].partners:
            continue
        kind = rng.choice(("supplier", "buyer"))
        companies[a].partners.add(b)
        companies[b].partners.add(a)
        links.append((a, b, kind))
    for c in rng.sample(companies, 8):
        c.tags.add("专精特新")
    for c in rng.sample(companies, 6):
        c.tags.add("高新技术企业")
    return companies, links


def build_items(companies: list[Company], seed: int = 2017) -> list[Item]:
    rng = random.Random(seed)
    by_key = {c.key: c for c in companies}
    shorts: dict[str, list[Company]] = {}
    for c in companies:
        shorts.setdefault(c.short_name, []).append(c)
    items: list[Item] = []

    def named(c: Company) -> set[int]:
        return {c.key} | c.partners

    projects = ("城市更新道路工程", "产业园区配套", "智慧物流园", "医院改扩建", "轨道交通配套")
    for c in rng.sample(companies, 8):
        other = CITIES[rng.choice([r for r in CITIES if r != c.region])]
        amount = rng.choice(("1.2亿元", "8600万元", "3.5亿元", "2,400万元"))
        items.append(
            Item(
                f"{c.name}中标{other}{rng.choice(projects)}项目",
                f"中标金额{amount}，工期{rng.choice((6, 12, 18))}个月，预付款比例{rng.choice((10, 20, 30))}%。",
                "tender_contract",
                named(c),
                "named_full",
            )
        )
    unique_short = [c for c in companies if len(shorts[c.short_name]) == 1]
    for c in rng.sample(unique_short, 6):
        items.append(
            Item(
                f"{c.short_name}与客户签订年度供货合同",
                f"据悉，{c.short_name}本次合同金额{rng.randint(20, 90) * 100}万元，交付期12个月。",
                "tender_contract",
                named(c),
                "named_short",
            )
        )
    for group in shorts.values():
        if len(group) == 2:
            c = group[1]
            items.append(
                Item(
                    f"{CITIES[c.region]}企业{c.short_name}完成新一轮增资",
                    f"{CITIES[c.region]}市{c.short_name}宣布完成增资，投资建设新生产基地，总投资5亿元。",
                    "corporate_event",
                    named(c),
                    "named_ambiguous_short",
                )
            )
    for c in rng.sample(companies, 3):
        items.append(
            Item(
                "一企业完成增资扩股",
                f"统一社会信用代码为{{credit:{c.key}}}的企业完成增资扩股，新增注册资本2亿元。",
                "corporate_event",
                named(c),
                "named_credit_code",
            )
        )
    pairs = sorted({(c.industry, c.region) for c in companies})
    for industry, region in rng.sample(pairs, 5):
        news = INDUSTRY_WORDS[industry][1]
        truth = {c.key for c in companies if c.industry == industry and c.region == region}
        items.append(
            Item(
                f"{CITIES[region]}出台支持{news}企业发展若干措施",
                "设立专项资金，对符合条件的企业给予补贴和贴息。",
                "policy",
                truth,
                "regional_policy",
            )
        )
    for industry in rng.sample(sorted(INDUSTRY_WORDS), 2):
        news = INDUSTRY_WORDS[industry][1]
        items.append(
            Item(
                f"国务院常务会议部署推动{news}产业高质量发展",
                "会议要求加大政策支持力度，鼓励金融机构扩大中长期信贷投放。",
                "policy",
                {c.key for c in companies if c.industry == industry},
                "national_policy",
            )
        )
    for region in rng.sample(sorted(CITIES), 3):
        items.append(
            Item(
                f"{CITIES[region]}市气象台发布暴雨橙色预警",
                "预计未来24小时将出现强降雨，请相关单位做好防范。",
                "weather",
                {c.key for c in companies if c.region == region and c.industry[0] in SENSITIVE},
                "weather",
            )
        )
    items.append(
        Item(
            "2026年度专精特新中小企业名单公布",
            "入选企业可享受专项资金奖励。",
            "policy",
            {c.key for c in companies if "专精特新" in c.tags},
            "tag",
        )
    )
    # Hard cases the matcher is expected to miss: a shared short name with no city to tell which, and
    # an industry named in words outside the lexicon (新能源车 for 汽车零部件).
    shared = next(group for group in shorts.values() if len(group) == 2)
    items.append(
        Item(
            f"{shared[0].short_name}获得银团贷款支持",
            "公司将用于扩大产能。",
            "corporate_event",
            named(shared[0]),
            "hard_ambiguous_short",
        )
    )
    region = rng.choice(sorted(CITIES))
    items.append(
        Item(
            f"{CITIES[region]}加大对新能源车配套企业的扶持",
            "对配套企业给予奖励。",
            "policy",
            {c.key for c in companies if c.industry == "C36" and c.region == region},
            "hard_synonym",
        )
    )
    # Noise: news of companies that are not customers, even with a customer's city and trade words.
    for n, c in enumerate(rng.sample(companies, 4)):
        fake = ("远景", "蓝海", "星河", "云帆")[n]
        word = INDUSTRY_WORDS[c.industry][0]
        items.append(
            Item(
                f"{CITIES[c.region]}{fake}{word}有限公司中标市政配套项目",
                "中标金额5000万元。",
                "tender_contract",
                set(),
                "noise_company",
            )
        )
    items.append(Item("国际油价连续三日上涨", "布伦特原油期货价格上涨2%。", "market", set(), "noise"))
    items.append(Item("央行开展1000亿元逆回购操作", "维护银行体系流动性合理充裕。", "market", set(), "noise"))
    assert all(k in by_key for item in items for k in item.truth)
    return items


def build(seed: int = 4754) -> LabelledSet:
    companies, links = build_companies(seed)
    return LabelledSet(companies, build_items(companies), links)
