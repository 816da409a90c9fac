"""Intel matching at bank scale: 10,000 new items against 1,000,000 corporate customers.

Customers (with short names, credit codes, supply-chain links, tags, loans held) are bulk-inserted
into a fresh SQLite file built by the real migrations; the index is built from the database the way
a worker builds it (CustomerIndex.build); then every item is matched through the index on one core.
A reference run with 10,000 customers in the same process gives the ratio. Finally the whole
pipeline (ingest → enrich → match → INSERT alerts → inbox) runs on a sample of items against the
1,000,000-customer database, giving items/s.

    .venv/bin/python bench/intel_match.py [--customers 1000000] [--items 10000] [--pipeline 1000]

Item mix (per 100): 35 name a company in full, 15 by short name, 5 by credit code, 25 regional
industry policy, 1 national industry policy (reaches every customer of the industry), 5 weather
warnings, 2 tag news, 2 LPR news (loan holders), 10 noise."""

from __future__ import annotations

import argparse
import gc
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import fresh_sqlite, peak_rss_mb  # noqa: E402

CHARS = (
    "安邦宝博昌辰诚达德鼎东恒宏华汇佳嘉金锦晶康凯蓝利联龙隆美明南宁鹏强庆瑞润森盛世顺泰天通万伟"
    "鑫新信兴星旭亚阳耀益永宇远源跃云泽正中卓高海和浩弘嘉骏力骏坤磊立良林铭宁屹睿尚思腾拓旺威"
)
WORDS = {
    "C36": ("汽车配件", "汽车部件"),
    "C38": ("电气", "电池"),
    "C39": ("电子", "微电子"),
    "C27": ("医药", "制药"),
    "C26": ("化工",),
    "C34": ("机械",),
    "C13": ("食品",),
    "E47": ("建设", "建工"),
    "E48": ("路桥", "市政工程"),
    "F51": ("贸易", "商贸"),
    "F52": ("商业",),
    "G54": ("物流", "运输"),
    "G59": ("仓储",),
    "I65": ("软件", "信息技术"),
    "K70": ("置业", "地产"),
    "A01": ("农业", "种业"),
    "A03": ("牧业",),
    "H62": ("餐饮",),
}
NEWS_TERM = {
    "C36": "汽车零部件",
    "C38": "锂电池",
    "C39": "集成电路",
    "C27": "医药",
    "C26": "化工",
    "C34": "机床",
    "C13": "食品加工",
    "E47": "房屋建筑",
    "E48": "基础设施",
    "F51": "批发",
    "F52": "零售",
    "G54": "货运",
    "G59": "仓储",
    "I65": "软件",
    "K70": "房地产",
    "A01": "粮食",
    "A03": "生猪",
    "H62": "餐饮",
}
TAGS = ("专精特新", "高新技术企业", "外贸企业", "小巨人", "绿色工厂")
USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_code(region: str, n: int) -> str:
    from server.validators import uscc_check_char

    body = ""
    for _ in range(9):
        n, r = divmod(n, 31)
        body = USCC[r] + body
    first17 = "91" + region + body
    return first17 + uscc_check_char(first17)


def generate_customers(url: str, count: int, seed: int) -> list[tuple[int, str, str, str, str, str]]:
    """Bulk insert through the DB-API (executemany, one transaction); returns (id, name, short,
    region, industry, credit code) for building items."""
    import sqlite3

    from server.reference import REGIONS

    rng = random.Random(seed)
    regions = list(REGIONS)
    codes = list(WORDS)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    out = []
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "INSERT INTO branch (id, code, name, city, region_code, latitude, longitude) "
        "VALUES (1, 'HQ', '总行', '上海', '310000', 0, 0)"
    )
    conn.executemany(
        "INSERT INTO user (id, username, display_name, password_hash, role, branch_id, is_active, failed_logins,"
        " created_at) VALUES (?, ?, ?, 'x', 'rm', 1, 1, 0, ?)",
        [(i, f"rm{i}", f"客户经理{i}", now) for i in range(1, 501)],
    )
    conn.execute(
        "INSERT INTO product (id, code, name, category, segment, terms, selling_points, advantages) "
        "VALUES (1, 'LOAN1', '流动资金贷款', 'loan', 'corporate', '1年', '[]', '[]')"
    )
    conn.executemany(
        "INSERT INTO tag (id, name, category) VALUES (?, ?, 'value')",
        [(i + 1, t) for i, t in enumerate(TAGS)],
    )
    used: set[str] = set()
    batch_c, batch_p, batch_t, batch_h, batch_l = [], [], [], [], []
    for cid in range(1, count + 1):
        region = rng.choice(regions)
        industry = rng.choice(codes)
        city = REGIONS[region]["name"].removesuffix("市")
        word = rng.choice(WORDS[industry])
        while True:
            trade = rng.choice(CHARS) + rng.choice(CHARS) + (rng.choice(CHARS) if rng.random() < 0.6 else "")
            name = f"{city}{trade}{word}有限公司"
            if name not in used:
                used.add(name)
                break
        code = credit_code(region, cid)
        short = f"{trade}{word}"
        out.append((cid, name, short, region, industry, code))
        batch_c.append((cid, name, rng.randint(1, 500), region, REGIONS[region]["name"], industry, now, now))
        batch_p.append((cid, code, short))
        if rng.random() < 0.05:
            batch_t.append((cid, rng.randint(1, len(TAGS))))
        if rng.random() < 0.10:
            batch_h.append((cid,))
        if cid > 1 and rng.random() < 0.2:
            batch_l.append((cid, rng.randint(1, cid - 1)))
        if len(batch_c) >= 50000 or cid == count:
            conn.executemany(
                "INSERT INTO customer (id, kind, name, name_initials, owner_id, branch_id, region_code, region_name,"
                " industry_code, tier, version, created_at, updated_at)"
                " VALUES (?, 'corporate', ?, 'x', ?, 1, ?, ?, ?, 'mass', 1, ?, ?)",
                batch_c,
            )
            conn.executemany(
                "INSERT INTO corporate_profile (customer_id, credit_code, short_name) VALUES (?, ?, ?)",
                batch_p,
            )
            conn.executemany("INSERT INTO customer_tag (customer_id, tag_id) VALUES (?, ?)", batch_t)
            conn.executemany(
                "INSERT INTO holding (customer_id, product_id, balance_cents, loan_balance_cents, fee_income_cents,"
                " opened_on, status) VALUES (?, 1, 0, 1000000000, 0, '2025-01-01', 'active')",
                batch_h,
            )
            conn.executemany(
                "INSERT INTO customer_link (from_customer_id, to_customer_id, kind) VALUES (?, ?, 'supplier')",
                batch_l,
            )
            batch_c, batch_p, batch_t, batch_h, batch_l = [], [], [], [], []
    conn.commit()
    conn.close()
    return out


def make_items(customers: list, count: int, seed: int) -> list[tuple[str, str, str]]:
    from server.reference import REGIONS

    rng = random.Random(seed)
    items = []
    projects = ("城市更新道路工程", "产业园配套", "智慧物流园", "医院改扩建", "轨道交通配套", "年度供货")
    for n in range(count):
        roll = rng.randrange(100)
        cid, name, short, region, industry, code = rng.choice(customers)
        city = REGIONS[rng.choice(list(REGIONS))]["name"]
        if roll < 35:
            items.append(
                (
                    f"{name}中标{city}{rng.choice(projects)}项目第{n}标段",
                    f"中标金额{rng.randint(1, 90) * 100}万元，工期{rng.choice((6, 12, 18))}个月。",
                    "tender_contract",
                )
            )
        elif roll < 50:
            items.append(
                (f"{short}签订第{n}号供货合同", f"合同金额{rng.randint(5, 50)}00万元。", "tender_contract")
            )
        elif roll < 55:
            items.append(
                (
                    f"一企业完成增资扩股{n}",
                    f"统一社会信用代码为{code}的企业新增注册资本1亿元。",
                    "corporate_event",
                )
            )
        elif roll < 80:
            term = NEWS_TERM[rng.choice(list(NEWS_TERM))]
            items.append((f"{city}出台支持{term}企业发展措施（{n}）", "设立专项资金给予补贴。", "policy"))
        elif roll < 81:
            term = NEWS_TERM[rng.choice(list(NEWS_TERM))]
            items.append((f"国务院部署推动{term}产业高质量发展（{n}）", "加大政策支持力度。", "policy"))
        elif roll < 86:
            items.append((f"{city}气象台发布暴雨橙色预警（{n}）", "请做好防范。", "weather"))
        elif roll < 88:
            items.append((f"{rng.choice(TAGS)}企业名单公布（{n}）", "入选企业获奖励。", "policy"))
        elif roll < 90:
            items.append((f"1年期LPR下调10个基点（{n}）", "贷款利率下降。", "market"))
        else:
            items.append((f"国际油价连续上涨（{n}）", "布伦特原油期货上涨2%。", "market"))
    return items


def run_matching(url: str, items: list) -> dict:
    from sqlmodel import Session

    from server.db import make_engine
    from server.intel.matching import CustomerIndex

    engine = make_engine(url)
    gc.collect()
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    with Session(engine) as session:
        index = CustomerIndex.build(session)
    build_s = time.perf_counter() - started
    rss_index = peak_rss_mb()
    matches = 0
    started_cpu, started = time.process_time(), time.perf_counter()
    for title, summary, category in items:
        _e, _f, result = index.match_groups(title=title, summary=summary, category=category)
        matches += len(result)
    match_s = time.perf_counter() - started
    match_cpu = time.process_time() - started_cpu
    engine.dispose()
    return {
        "index_build_s": build_s,
        "index_rss_mb": rss_index - rss_before,
        "match_s": match_s,
        "match_cpu_s": match_cpu,
        "matches": matches,
        "peak_rss_mb": peak_rss_mb(),
        "index": index,
    }


def run_pipeline(url: str, items: list, index) -> dict:
    from sqlmodel import Session, func, select

    from server.db import make_engine
    from server.intel import pipeline
    from server.intel.models import IntelAlert, IntelSource
    from server.intel.parsing import Entry

    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        source = IntelSource(name="bench", kind="feed", url="http://127.0.0.1/bench", category="policy")
        session.add(source)
        session.commit()
        entries = [Entry(title=t, summary=s, category=c) for t, s, c in items]
        started, started_cpu = time.perf_counter(), time.process_time()
        new = 0
        for start in range(0, len(entries), 500):
            new += pipeline.ingest(session, source=source, entries=entries[start : start + 500])
        result = pipeline.match_pending(session, index=index, limit=len(entries) + 1)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - started_cpu
        alerts = session.exec(select(func.count()).select_from(IntelAlert)).one()
    engine.dispose()
    return {"items": new, "seconds": elapsed, "cpu_seconds": cpu, "alerts": alerts, **result}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--pipeline", type=int, default=200)
    parser.add_argument("--reference", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()

    from server.intel.matching import tokenizer

    tokenizer()  # jieba's own dictionary loads once per process; not part of either figure

    results = {}
    for label, n in (("reference", args.reference), ("full", args.customers)):
        url = fresh_sqlite(args.dir, f"intel_bench_{label}.db")
        started = time.perf_counter()
        customers = generate_customers(url, n, seed=7)
        gen_s = time.perf_counter() - started
        items = make_items(customers, args.items, seed=11)
        del customers
        gc.collect()
        r = run_matching(url, items)
        r["generate_s"] = gen_s
        r["url"] = url
        r["items"] = items
        results[label] = r
        per_item_ms = r["match_s"] / len(items) * 1000
        print(
            f"[{label}] {n:,} customers generated in {gen_s:.1f}s; index built in {r['index_build_s']:.1f}s "
            f"(+{r['index_rss_mb']:.0f} MB RSS); {len(items):,} items matched in {r['match_s']:.2f}s "
            f"wall / {r['match_cpu_s']:.2f}s CPU ({len(items) / r['match_s']:,.0f} items/s, "
            f"{per_item_ms:.2f} ms/item) → {r['matches']:,} (item, customer) matches; "
            f"peak RSS {r['peak_rss_mb']:.0f} MB",
            flush=True,
        )
        if label == "reference":
            del r["index"]
    full, ref = results["full"], results["reference"]
    print(
        f"ratio full/reference matching CPU time: {full['match_cpu_s'] / ref['match_cpu_s']:.2f}× for "
        f"{args.customers / args.reference:.0f}× the customers (goal: {args.items:,} items < 60 s on one core; "
        f"single-threaded CPU time {full['match_cpu_s']:.1f}s: {'met' if full['match_cpu_s'] < 60 else 'NOT met'}; "
        f"wall {full['match_s']:.1f}s on this machine's load)"
    )
    # The whole pipeline on a sample of the same mix, then on named items only (no broad fan-out).
    named = [i for i in full["items"] if i[2] in ("tender_contract", "corporate_event")]
    for label, sample in (
        ("mix", full["items"][: args.pipeline]),
        ("named", named[args.pipeline : args.pipeline * 3]),
    ):
        p = run_pipeline(full["url"], sample, full["index"])
        print(
            f"[pipeline, {label}] {p['items']:,} items ingested + enriched + matched + {p['alerts']:,} alerts written "
            f"({p['notified']:,} notified) against {args.customers:,} customers in {p['seconds']:.1f}s wall / "
            f"{p['cpu_seconds']:.1f}s CPU → {p['items'] / p['cpu_seconds']:,.1f} items/s, "
            f"{p['alerts'] / p['cpu_seconds']:,.0f} alerts/s per core",
            flush=True,
        )


if __name__ == "__main__":
    main()
