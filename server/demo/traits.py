"""What the demo bank's customers are like: occupations, employers, incomes and interests of
individuals, contacts' roles and preferences, corporate and life events, supply-chain labels and
customer tags. Plain data, read by `server.demo.generator`."""

from __future__ import annotations

OCCUPATIONS: list[tuple[str, str]] = [
    # (occupation, typical employer kind: corporate = works at a company, own = self-employed)
    ("工程师", "corporate"),
    ("教师", "public"),
    ("医生", "public"),
    ("公务员", "public"),
    ("企业高管", "corporate"),
    ("财务经理", "corporate"),
    ("销售经理", "corporate"),
    ("程序员", "corporate"),
    ("律师", "own"),
    ("会计", "corporate"),
    ("护士", "public"),
    ("私营企业主", "own"),
    ("个体工商户", "own"),
    ("自由职业", "own"),
    ("退休", "none"),
    ("设计师", "corporate"),
    ("项目经理", "corporate"),
]
PUBLIC_EMPLOYERS = ["市第一人民医院", "市实验中学", "市税务局", "区人民法院", "市第二中学", "市中心医院"]
INCOME_BANDS = ["<10万", "10-30万", "30-50万", "50-100万", "100-300万", ">300万"]
INTERESTS = [
    "高尔夫",
    "茶艺",
    "书法",
    "摄影",
    "马拉松",
    "亲子教育",
    "海外旅游",
    "红酒",
    "钓鱼",
    "养生",
    "收藏",
    "投资理财",
    "健身",
    "音乐会",
    "读书",
    "自驾游",
    "羽毛球",
    "烹饪",
]
CONTACT_ROLES: list[tuple[str, str, int]] = [
    # (title, role, influence)
    ("董事长", "decision_maker", 5),
    ("总经理", "decision_maker", 5),
    ("财务总监", "decision_maker", 4),
    ("副总经理", "influencer", 4),
    ("财务经理", "influencer", 3),
    ("出纳", "user", 2),
    ("办公室主任", "gatekeeper", 2),
    ("采购总监", "influencer", 3),
]
CONTACT_PREFERENCES = [
    "偏好面谈，重视效率",
    "关注融资成本，对利率敏感",
    "喜欢喝茶，周末常打高尔夫",
    "重视服务响应速度",
    "习惯微信沟通，不喜欢电话",
    "看重银行品牌和稳定性",
    "关注数字化工具和线上渠道",
    "注重风险，决策谨慎",
    "与我行合作多年，关系良好",
    "同时与多家银行合作，需要重点维护",
]
CORPORATE_EVENTS: list[tuple[str, str]] = [
    ("financing", "完成新一轮增资扩股"),
    ("expansion", "新厂房建成投产"),
    ("award", "获评国家高新技术企业"),
    ("award", "入选专精特新“小巨人”企业"),
    ("contract", "中标重大工程项目"),
    ("expansion", "设立海外子公司"),
    ("merger", "完成对上游企业的并购"),
    ("listing", "启动上市辅导"),
    ("management", "管理层换届，新任总经理到岗"),
    ("expansion", "新增生产线，产能提升三成"),
]
LIFE_EVENTS: list[tuple[str, str, int, int]] = [
    # (kind, title, min age, max age at the event)
    ("marriage", "结婚", 23, 35),
    ("child", "孩子出生", 25, 40),
    ("home", "购置新房", 26, 50),
    ("education", "孩子升入小学", 31, 47),
    ("education", "孩子出国留学", 42, 58),
    ("career", "职务晋升", 28, 55),
    ("business", "自主创业", 28, 50),
    ("retirement", "退休", 55, 63),
    ("car", "购置新车", 24, 60),
]
SUPPLY_LABELS = ["原材料供应", "零部件配套", "产品经销", "物流服务", "设备采购", "工程分包", "外包服务"]

TAGS: list[tuple[str, str]] = [
    ("高净值客户", "value"),
    ("贵宾客户", "value"),
    ("潜力客户", "value"),
    ("代发工资客户", "value"),
    ("理财偏好", "behaviour"),
    ("线上活跃", "behaviour"),
    ("长期未联系", "behaviour"),
    ("资金即将到期", "behaviour"),
    ("专精特新", "industry"),
    ("高新技术企业", "industry"),
    ("外贸企业", "industry"),
    ("供应链核心企业", "industry"),
    ("授信关注", "risk"),
    ("新客户", "lifecycle"),
    ("流失预警", "lifecycle"),
    ("有房贷", "behaviour"),
    ("子女教育规划", "behaviour"),
    ("养老规划", "behaviour"),
]
