"""Demo data for the workbench on top of a loaded demo bank: resources per branch (rooms, a car, the
gift budget, a loan quota, pricing authority, experts), target profiles and anonymised success cases
for every product, and the knowledge degree of every customer. Idempotent: a second run adds nothing
and only rescoring happens again."""

from __future__ import annotations

from sqlmodel import Session, col, select

from server.db import row_id
from server.knowledge import scores as knowledge_scores
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

# Success cases (成功案例) per product category, several each, anonymised (no customer names).
CASES: dict[str, list[tuple[str, str, str]]] = {
    "loan": [
        ("某汽车零部件制造企业(中型)", "旺季备货资金紧张,客户经理两周内完成授信审批。", "授信 800 万元,带动结算沉淀 1200 万元"),
        ("某连锁餐饮企业(小型)", "新开门店装修资金缺口,以纳税数据线上授信。", "3 天放款 150 万元,新增代发 60 人"),
        ("某建筑装饰企业(中型)", "项目回款周期长,配套应收账款质押贷款。", "融资 1500 万元,工程款回笼归集本行"),
    ],
    "trade_finance": [
        ("某电子元器件批发企业(大型)", "上游要求预付款,以订单融资缓解账期错配。", "融资 3000 万元,新增国际结算量"),
        ("某纺织品出口企业(中型)", "海外买家要求远期付款,开立信用证并押汇。", "押汇 600 万元,结汇量增长四成"),
    ],
    "cash_management": [
        ("某连锁零售集团", "下属 40 家门店资金分散,上线资金池统一归集。", "日均存款增加 5000 万元"),
        ("某市属国有集团", "子公司账户分散在多家银行,搭建名义资金池。", "集团归集率提升至 85%"),
    ],
    "payroll": [
        ("某软件企业(300 人)", "由他行转入代发,配套员工理财与信用卡。", "新增个人客户 280 户"),
        ("某民营医院(500 人)", "排班复杂、发薪批次多,按科室批量代发。", "新增个人存款 1800 万元"),
    ],
    "wealth": [
        ("某私营企业主(50 岁)", "企业分红后资金闲置,按稳健偏好配置。", "AUM 增加 200 万元"),
        ("某退休教师家庭", "定期存款到期,在 R2 以内分散配置。", "收益较定期提高约 0.8 个百分点"),
    ],
    "fund": [
        ("某医生家庭", "子女教育金规划,分批定投。", "定投 3 年,年化收益稳定"),
        ("某互联网从业者(35 岁)", "个人养老金账户开户后配置养老目标基金。", "每年足额缴存 1.2 万元"),
    ],
    "insurance": [
        ("某高管家庭", "家庭保障缺口分析后配置年金与重疾。", "保费 30 万元/年"),
        ("某制造企业(200 人)", "员工工伤与医疗保障不足,配置团体意外险。", "覆盖全员,年保费 12 万元"),
    ],
    "deposit": [
        ("某事业单位", "闲置资金按期限错配配置定期存款。", "新增存款 2000 万元"),
        ("某拆迁安置家庭", "一次性补偿款到账,配置大额存单分期限到期。", "新增大额存单 300 万元"),
    ],
    "credit_card": [
        ("某新入职白领", "代发客户配套办卡,首年免年费。", "月均消费 6000 元"),
        ("某外贸企业差旅团队", "公务卡统一办理,报销流程线上化。", "办卡 45 张,月均消费 20 万元"),
    ],
    "fx": [
        ("某外贸服装企业", "人民币升值预期下锁定远期结汇。", "规避汇兑损失约 40 万元"),
        ("某跨境电商企业", "多币种收款分散,统一即期结汇。", "年结汇量 1.5 亿元"),
    ],
}  # fmt: skip


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
        if product_id not in with_cases:
            for label, story, result in CASES.get(product.category, []):
                session.add(
                    ProductCase(product_id=product_id, customer_label=label, story=story, result=result)
                )
                added["product_cases"] += 1
    session.commit()
    knowledge_scores.recompute_all(session)
    return added
