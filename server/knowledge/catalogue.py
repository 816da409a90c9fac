"""The knowledge-degree (知彼度) catalogue: which facts an RM should know about a customer, grouped in
dimensions, each fact with a weight (how much knowing it is worth) and the question to ask when it is
missing. Weights and half-lives here are the defaults; an admin may override them (see config).

Fact keys are unique across both customer kinds, so a fact row alone says which kind it scores for.
`derived` facts are read from the customer's profile (columns, contacts, links, events); the others
are learned on visits and calls."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FactDef:
    key: str
    label: str  # zh-CN, shown to the RM
    weight: float
    question: str  # zh-CN: what to ask on the next visit
    derived: bool = False


@dataclass(frozen=True)
class DimensionDef:
    code: str
    label: str
    weight: float
    half_life_days: float  # a fact this old counts half; twice this old a quarter
    facts: tuple[FactDef, ...]


def _f(key: str, label: str, weight: float, question: str, derived: bool = False) -> FactDef:
    return FactDef(key, label, weight, question, derived)


CORPORATE: tuple[DimensionDef, ...] = (
    DimensionDef(
        "basic",
        "基本信息",
        20,
        730,
        (
            _f("industry", "所属行业", 3, "公司主营业务属于哪个行业?", True),
            _f("size", "企业规模", 2, "公司的规模(人数、营收档次)如何?", True),
            _f("ownership", "企业性质", 2, "公司是国企、央企、民营还是外资?", True),
            _f("location", "所在地区", 1, "公司注册和经营在哪个城市?", True),
            _f("address", "经营地址", 2, "公司的实际经营地址在哪里?", True),
            _f("registered_capital", "注册资本", 2, "公司注册资本是多少?", True),
            _f("founded_on", "成立时间", 1, "公司是哪一年成立的?", True),
            _f("office_phone", "联系电话", 2, "公司对接人的联系电话是多少?", True),
        ),
    ),
    DimensionDef(
        "decision_makers",
        "关键决策人",
        25,
        365,
        (
            _f("decision_maker", "关键决策人", 5, "谁是公司融资和结算的最终拍板人?", True),
            _f("finance_head", "财务负责人", 4, "财务总监(财务负责人)是谁?怎么联系?", True),
            _f("dm_preferences", "决策人偏好", 3, "决策人有什么兴趣爱好和沟通偏好?", True),
            _f("contact_network", "多位联系人", 2, "除了现在的对接人,还能认识公司哪些关键人?", True),
            _f("decision_process", "决策流程", 3, "公司选择合作银行的决策流程是怎样的?"),
        ),
    ),
    DimensionDef(
        "company_profile",
        "企业画像",
        35,
        180,
        (
            _f("business_scope", "经营范围", 2, "公司主要做哪些业务?", True),
            _f("main_products", "主要产品", 3, "公司的主要产品和服务是什么?", True),
            _f("revenue", "年营业收入", 4, "公司去年营业收入大约多少?", True),
            _f("employees", "员工人数", 1, "公司现在有多少员工?", True),
            _f("suppliers", "主要供应商", 3, "公司的主要供应商有哪些?", True),
            _f("buyers", "主要下游客户", 3, "公司的主要下游客户有哪些?", True),
            _f("funding_need", "资金需求", 5, "未来半年有没有融资或资金周转的需求?"),
            _f("other_banks", "他行合作情况", 4, "公司目前在哪些银行开户和融资?"),
            _f("settlement", "结算与代发习惯", 3, "公司的结算、代发工资主要走哪家银行?"),
        ),
    ),
    DimensionDef(
        "history",
        "企业历史",
        20,
        1095,
        (
            _f("milestones", "发展历程", 3, "公司发展中有哪些重要节点?", True),
            _f("financing_history", "融资历史", 3, "公司过去有过哪些融资(贷款、股权、债券)?", True),
            _f("shareholders", "股东结构", 2, "公司的主要股东是谁?", True),
            _f("bank_history", "与我行合作历史", 2, "公司和我行过去合作过哪些业务,体验如何?"),
        ),
    ),
)

INDIVIDUAL: tuple[DimensionDef, ...] = (
    DimensionDef(
        "basic",
        "基本信息",
        25,
        730,
        (
            _f("gender", "性别", 1, "(资料补全)客户的性别?", True),
            _f("birth_date", "生日", 2, "客户的生日是哪天?", True),
            _f("mobile", "手机号码", 2, "客户常用的手机号码是多少?", True),
            _f("home_region", "常住地区", 1, "客户常住在哪个城市?", True),
            _f("occupation", "职业", 3, "客户从事什么职业?", True),
            _f("employer", "工作单位", 2, "客户在哪里工作?", True),
            _f("income_band", "收入区间", 3, "客户的年收入大约在什么区间?", True),
            _f("risk_appetite", "风险偏好", 3, "客户能接受多大的投资风险(风险测评)?", True),
        ),
    ),
    DimensionDef(
        "relationships",
        "社会关系",
        25,
        365,
        (
            _f("family", "家庭成员", 4, "客户的家庭成员有哪些(配偶、子女、父母)?", True),
            _f("referrals", "转介绍关系", 3, "客户愿意介绍哪些朋友认识?", True),
            _f("colleagues", "同事与圈子", 2, "客户常来往的同事和圈子有哪些?", True),
            _f("family_finance", "家庭理财决策人", 3, "家里的理财主要由谁做决定?"),
        ),
    ),
    DimensionDef(
        "personal_profile",
        "个人画像",
        30,
        180,
        (
            _f("interests", "兴趣爱好", 3, "客户平时有什么兴趣爱好?", True),
            _f("channel_preference", "沟通渠道偏好", 2, "客户喜欢什么时间、用什么方式联系?"),
            _f("product_preference", "产品偏好", 3, "客户更偏好哪类产品(存款、理财、保险、基金)?"),
            _f("investment_experience", "投资经验", 3, "客户过去投资过哪些产品,盈亏体验如何?"),
            _f("financial_goals", "理财目标", 4, "客户近几年的理财目标是什么(养老、子女教育、购房)?"),
        ),
    ),
    DimensionDef(
        "history",
        "成长历史",
        20,
        1095,
        (
            _f("life_events", "人生大事", 3, "客户近几年有哪些人生大事(结婚、生子、乔迁、退休)?", True),
            _f("family_milestones", "家庭里程碑", 2, "家里近期有没有升学、婚嫁等安排?", True),
            _f("education", "教育背景", 2, "客户毕业于哪所学校、学什么专业?"),
            _f("career_path", "职业经历", 2, "客户之前在哪些单位工作过?"),
        ),
    ),
)

CATALOGUE: dict[str, tuple[DimensionDef, ...]] = {"corporate": CORPORATE, "individual": INDIVIDUAL}


def all_fact_keys() -> dict[str, tuple[str, str]]:
    """fact key -> (customer kind, dimension code)."""
    out: dict[str, tuple[str, str]] = {}
    for kind, dims in CATALOGUE.items():
        for dim in dims:
            for fact in dim.facts:
                assert fact.key not in out, f"duplicate fact key {fact.key}"
                out[fact.key] = (kind, dim.code)
    return out


FACT_KEYS = all_fact_keys()
