"""Demo data for the workbench on top of a loaded demo bank: resources per branch (rooms, a car, the
gift budget, a loan quota, pricing authority, experts), target profiles and anonymised success cases
for every product, and the knowledge degree of every customer. Idempotent: a second run adds nothing
and only rescoring happens again."""

from __future__ import annotations

from sqlmodel import Session, col, select

from server.db import row_id
from server.knowledge import service as knowledge
from server.org.models import Branch, Persona, RmProfile, User
from server.products.models import Product, ProductCase, ProductFit
from server.resources.models import Resource

FITS: dict[str, dict[str, list[str]]] = {
    "loan": {"tiers": ["vip", "high", "mid"], "sizes": ["medium", "small", "micro"]},
    "trade_finance": {"sizes": ["large", "medium"], "industry_prefixes": ["C", "F"]},
    "cash_management": {"sizes": ["large", "medium"]},
    "payroll": {"sizes": ["large", "medium", "small"]},
    "wealth": {"tiers": ["vip", "high"]},
    "fund": {"tiers": ["vip", "high", "mid"]},
    "insurance": {"tiers": ["vip", "high", "mid"]},
    "fx": {"industry_prefixes": ["C", "F", "G"]},
}

CASES: dict[str, tuple[str, str, str]] = {
    "loan": (
        "某汽车零部件制造企业(中型)",
        "旺季备货资金紧张,客户经理两周内完成授信审批。",
        "授信 800 万元,带动结算沉淀 1200 万元",
    ),
    "trade_finance": (
        "某电子元器件批发企业(大型)",
        "上游要求预付款,以订单融资缓解账期错配。",
        "融资 3000 万元,新增国际结算量",
    ),
    "cash_management": (
        "某连锁零售集团",
        "下属 40 家门店资金分散,上线资金池统一归集。",
        "日均存款增加 5000 万元",
    ),
    "payroll": ("某软件企业(300 人)", "由他行转入代发,配套员工理财与信用卡。", "新增个人客户 280 户"),
    "wealth": ("某私营企业主(50 岁)", "企业分红后资金闲置,按稳健偏好配置。", "AUM 增加 200 万元"),
    "fund": ("某医生家庭", "子女教育金规划,分批定投。", "定投 3 年,年化收益稳定"),
    "insurance": ("某高管家庭", "家庭保障缺口分析后配置年金与重疾。", "保费 30 万元/年"),
    "deposit": ("某事业单位", "闲置资金按期限错配配置定期存款。", "新增存款 2000 万元"),
    "credit_card": ("某新入职白领", "代发客户配套办卡,首年免年费。", "月均消费 6000 元"),
    "fx": ("某外贸服装企业", "人民币升值预期下锁定远期结汇。", "规避汇兑损失约 40 万元"),
}


def seed_workbench_demo(session: Session) -> dict[str, int]:
    added = {"resources": 0, "product_fits": 0, "product_cases": 0}
    branches = session.exec(select(Branch).order_by(col(Branch.id))).all()
    have_resources = {r.branch_id for r in session.exec(select(Resource)).all()}
    for branch in branches:
        if branch.id in have_resources:
            continue
        rows = [
            Resource(
                kind="meeting_room", name=f"{branch.name} 3楼洽谈室", branch_id=branch.id, detail={"seats": 8}
            ),
            Resource(
                kind="meeting_room", name=f"{branch.name} 贵宾室", branch_id=branch.id, detail={"seats": 4}
            ),
            Resource(kind="car", name=f"{branch.name} 公务车", branch_id=branch.id, detail={"seats": 5}),
            Resource(
                kind="gift_budget", name="营销礼品额度(年度)", branch_id=branch.id, amount_cents=5_000_000
            ),
            Resource(
                kind="product_quota",
                name="普惠小微贷款额度(年度)",
                branch_id=branch.id,
                amount_cents=5_000_000_000,
            ),
            Resource(
                kind="pricing_authority",
                name="存款利率上浮权限",
                branch_id=branch.id,
                detail={"max_bp": 20, "approver": "支行行长"},
            ),
        ]
        experts = session.exec(
            select(User)
            .join(RmProfile, RmProfile.user_id == User.id)  # type: ignore[arg-type]
            .where(User.branch_id == branch.id, RmProfile.persona == Persona.super)
            .order_by(col(User.id))
            .limit(2)
        ).all()
        rows += [
            Resource(
                kind="expert",
                name=f"{u.display_name}(资深客户经理)",
                branch_id=branch.id,
                expert_user_id=u.id,
                detail={"topics": ["授信方案", "综合金融服务"]},
            )
            for u in experts
        ]
        session.add_all(rows)
        added["resources"] += len(rows)
    products = session.exec(select(Product).order_by(col(Product.id))).all()
    fitted = set(session.exec(select(ProductFit.product_id)).all())
    with_cases = set(session.exec(select(ProductCase.product_id)).all())
    for product in products:
        product_id = row_id(product)
        if product_id not in fitted:
            spec = FITS.get(product.category, {})
            kinds = [product.segment] if product.segment in ("corporate", "individual") else []
            session.add(
                ProductFit(
                    product_id=product_id,
                    kinds=kinds,
                    tiers=spec.get("tiers", []),
                    sizes=spec.get("sizes", []) if product.segment != "individual" else [],
                    industry_prefixes=spec.get("industry_prefixes", [])
                    if product.segment != "individual"
                    else [],
                )
            )
            added["product_fits"] += 1
        if product_id not in with_cases and product.category in CASES:
            label, story, result = CASES[product.category]
            session.add(ProductCase(product_id=product_id, customer_label=label, story=story, result=result))
            added["product_cases"] += 1
    session.commit()
    knowledge.recompute_all(session)
    return added
