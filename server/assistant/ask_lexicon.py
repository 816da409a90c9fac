"""The words 问展业 understands, parsed with in server/assistant/ask_parse.py: well-known districts,
everyday words for industries, product categories and products, tiers, sizes, ownership and customer
kinds with their Chinese labels, surnames and titles, the words that point to an intent or a figure,
and Chinese numerals; `Vocabulary` joins them with the regions, industries, products and tags of the
bank."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.reference import INDUSTRIES, REGIONS

DISTRICTS = {
    "浦东": "310000",
    "徐汇": "310000",
    "静安": "310000",
    "黄浦": "310000",
    "长宁": "310000",
    "闵行": "310000",
    "杨浦": "310000",
    "虹口": "310000",
    "普陀": "310000",
    "宝山": "310000",
    "嘉定": "310000",
    "松江": "310000",
    "海淀": "110000",
    "朝阳": "110000",
    "东城": "110000",
    "西城": "110000",
    "丰台": "110000",
    "通州": "110000",
    "南山": "440300",
    "福田": "440300",
    "罗湖": "440300",
    "宝安": "440300",
    "龙岗": "440300",
    "天河": "440100",
    "越秀": "440100",
    "番禺": "440100",
    "海珠": "440100",
    "西湖": "330100",
    "滨江": "330100",
    "余杭": "330100",
    "江干": "330100",
    "萧山": "330100",
    "鼓楼": "320100",
    "江宁": "320100",
    "建邺": "320100",
    "工业园区": "320500",
    "姑苏": "320500",
    "吴中": "320500",
    "渝中": "500000",
    "江北": "500000",
    "滨海新区": "120000",
    "和平": "120000",
    "武昌": "420100",
    "汉口": "420100",
    "江汉": "420100",
    "锦江": "510100",
    "高新区": "510100",
    "雁塔": "610100",
    "思明": "350200",
    "湖里": "350200",
    "岳麓": "430100",
    "芙蓉": "430100",
    "鄞州": "330200",
    "北仑": "330200",
    "市南": "370200",
    "崂山": "370200",
}
# Everyday words for industries: (word, code prefix, label)
INDUSTRY_WORDS: list[tuple[str, str, str]] = [
    ("制造业", "C", "制造业"),
    ("制造企业", "C", "制造业"),
    ("制造", "C", "制造业"),
    ("工厂", "C", "制造业"),
    ("厂", "C", "制造业"),
    ("汽车配件", "C36", "汽车制造业"),
    ("汽车", "C36", "汽车制造业"),
    ("医药", "C27", "医药制造业"),
    ("药企", "C27", "医药制造业"),
    ("化工", "C26", "化学原料和化学制品制造业"),
    ("纺织", "C17", "纺织业"),
    ("服装", "C18", "纺织服装、服饰业"),
    ("电子", "C39", "计算机、通信和其他电子设备制造业"),
    ("电子厂", "C39", "计算机、通信和其他电子设备制造业"),
    ("通用设备", "C34", "通用设备制造业"),
    ("专用设备", "C35", "专用设备制造业"),
    ("金属制品", "C33", "金属制品业"),
    ("钢铁", "C31", "黑色金属冶炼和压延加工业"),
    ("食品", "C13", "农副食品加工业"),
    ("食品加工", "C13", "农副食品加工业"),
    ("饮料", "C15", "酒、饮料和精制茶制造业"),
    ("塑料", "C29", "橡胶和塑料制品业"),
    ("电气", "C38", "电气机械和器材制造业"),
    ("电力", "D44", "电力、热力生产和供应业"),
    ("建筑", "E", "建筑业"),
    ("建筑业", "E", "建筑业"),
    ("建筑公司", "E", "建筑业"),
    ("装修", "E50", "建筑装饰、装修和其他建筑业"),
    ("批发", "F51", "批发业"),
    ("批发业", "F51", "批发业"),
    ("贸易", "F51", "批发业"),
    ("零售", "F52", "零售业"),
    ("零售业", "F52", "零售业"),
    ("物流", "G", "交通运输、仓储和邮政业"),
    ("运输", "G", "交通运输、仓储和邮政业"),
    ("仓储", "G59", "装卸搬运和仓储业"),
    ("住宿", "H61", "住宿业"),
    ("酒店", "H61", "住宿业"),
    ("餐饮", "H62", "餐饮业"),
    ("互联网", "I64", "互联网和相关服务"),
    ("软件", "I65", "软件和信息技术服务业"),
    ("科技", "I", "信息技术服务"),
    ("房地产", "K70", "房地产业"),
    ("地产", "K70", "房地产业"),
    ("商务服务", "L72", "商务服务业"),
    ("研发", "M73", "研究和试验发展"),
    ("环保", "N77", "生态保护和环境治理业"),
    ("教育", "P83", "教育"),
    ("学校", "P83", "教育"),
    ("医院", "Q84", "卫生"),
    ("卫生", "Q84", "卫生"),
    ("医疗", "Q84", "卫生"),
    ("文化", "R87", "文化艺术业"),
    ("农业", "A01", "农业"),
    ("畜牧", "A03", "畜牧业"),
    ("渔业", "A04", "渔业"),
    ("煤炭", "B06", "煤炭开采和洗选业"),
    ("机关", "S92", "国家机构"),
]
CATEGORY_WORDS: list[tuple[str, str, str]] = [
    ("存款", "deposit", "存款"),
    ("定期", "deposit", "定期存款"),
    ("贷款", "loan", "贷款"),
    ("房贷", "loan", "房贷"),
    ("理财", "wealth", "理财"),
    ("基金", "fund", "基金"),
    ("保险", "insurance", "保险"),
    ("代发", "payroll", "代发工资"),
    ("现金管理", "cash_management", "现金管理"),
    ("贸易融资", "trade_finance", "贸易融资"),
    ("保理", "trade_finance", "保理"),
    ("信用卡", "credit_card", "信用卡"),
    ("外汇", "fx", "外汇"),
    ("结售汇", "fx", "结售汇"),
]
PRODUCT_ALIASES: dict[str, str] = {  # everyday word -> product code
    "大额存单": "DEP-LCD",
    "结构性存款": "DEP-AGR",
    "协定存款": "DEP-AGR",
    "通知存款": "DEP-NOTICE",
    "普惠贷款": "LN-SME",
    "快贷": "LN-SME",
    "按揭": "LN-MTG",
    "消费贷": "LN-CONS",
    "经营贷": "LN-BIZ",
    "承兑": "TF-BA",
    "信用证": "TF-LC",
    "资金池": "CM-POOL",
    "代发工资": "PAY-PAYROLL",
    "公务卡": "CC-CORP",
    "重疾险": "INS-CI",
    "年金": "INS-ANN",
    "货币基金": "FD-MMF",
    "债基": "FD-BOND",
    "指数基金": "FD-IDX300",
}
TIER_WORDS = {
    "vip": ("vip", "私行", "贵宾"),
    "high": ("高端", "重要客户", "重要"),
    "mid": ("中端",),
    "mass": ("大众",),
}
SIZE_WORDS = {
    "large": ("大型",),
    "medium": ("中型",),
    "small": ("小型", "小企业", "中小企业"),
    "micro": ("微型", "小微"),
}
OWNERSHIP_WORDS = {
    "central_soe": ("央企",),
    "local_soe": ("国企", "地方国企"),
    "private": ("民营", "民企", "私企"),
    "foreign": ("外资", "外企"),
    "government": ("政府", "事业单位"),
}
KIND_WORDS = {
    "corporate": ("对公", "企业客户", "公司客户", "企业"),
    "individual": ("个人", "对私", "零售客户"),
}
TAG_ALIASES = {"高净值": "高净值客户", "外贸": "外贸企业", "核心企业": "供应链核心企业", "新开户": "新客户"}
LACKS_WORDS = ("没买", "没有买", "未持有", "没开", "没有开", "没办")
SIZE_LABELS = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}
TIER_LABELS = {"vip": "VIP", "high": "高端", "mid": "中端", "mass": "大众"}
OWNERSHIP_LABELS = {
    "central_soe": "央企",
    "local_soe": "国企",
    "private": "民营",
    "foreign": "外资",
    "government": "政府机关",
}
KIND_LABELS = {"corporate": "对公", "individual": "个人"}

SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
TITLES = ("总", "董", "经理", "老板", "主任", "行长", "处长", "局长", "院长", "校长")

OPPORTUNITY_WORDS = ("商机", "共享池", "商机池", "池子")
ALERT_WORDS = ("情报", "预警", "利好", "利空", "舆情", "新闻", "消息", "动态", "政策", "负面")
REMINDER_WORDS = ("提醒", "待办", "日程", "要做", "安排", "要办", "该做", "回访", "待跟进", "没完成", "记事")
FIGURE_WORDS = (
    "完成率",
    "业绩",
    "余额",
    "多少",
    "几个",
    "排名",
    "排第几",
    "第几",
    "收入",
    "中收",
    "规模",
    "总数",
    "数量",
    "总额",
    "增量",
    "差多少",
    "平均",
    "均分",
    "管户数",
    "客户数",
    "户数",
    "知彼度",
    "了解度",
    "完成情况",
    "完成了",
    "怎么样",
    "有几",
)
PRODUCT_WORDS = ("产品", "卖点", "介绍", "怎么卖", "可售", "能卖", "可以卖", "业务介绍")
CUSTOMER_WORDS = ("客户", "企业", "公司", "名单", "谁", "的人", "厂", "户")
COMMAND_WORDS = (
    "查一下",
    "查",
    "找一下",
    "找",
    "搜索",
    "搜一下",
    "搜",
    "打开",
    "看看",
    "给我看看",
    "看一下",
    "的资料",
    "的信息",
    "客户信息",
    "企业信息",
    "资料",
    "信息",
    "那个",
    "那家",
    "做",
    "的",
)
NOT_CONTACTED = (
    "没拜访",
    "未拜访",
    "没见过",
    "没去过",
    "没联系",
    "未联系",
    "没去",
    "还没见",
    "没有拜访",
    "没有联系",
    "不联系",
)
NUMERALS = {
    "一": 1,
    "两": 2,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "十一": 11,
    "十二": 12,
    "半": 0.5,
}

FIGURE_METRICS: list[tuple[tuple[str, ...], str]] = [
    (("排名", "排第几", "第几", "排"), "team_rank"),
    (("知彼度", "了解度"), "knowledge_average"),
    (("差多少", "目标"), "revenue_gap"),
    (("中收",), "fee_income"),
    (("存款增量", "增量"), "deposit_growth"),
    (("存款",), "deposit_balance"),
    (("贷款",), "loan_balance"),
    (("新增客户",), "new_customers"),
    (("客户", "管户", "企业", "个人", "户"), "customer_count"),
    (("完成率", "业绩", "完成", "收入", "任务", "怎么样"), "completion"),
]


@dataclass
class Vocabulary:
    products: dict[str, tuple[int, str, str]]  # word -> (id, code, name)
    tags: list[str]
    terms: dict[str, list[tuple[str, Any, str]]] = field(
        default_factory=dict
    )  # word -> [(key, value, label)]

    @classmethod
    def build(cls, *, products: list[tuple[int, str, str, str]], tags: list[str]) -> Vocabulary:
        """products: (id, code, name, category)."""
        by_code = {code: (pid, code, name) for pid, code, name, _cat in products}
        vocab = cls(products={}, tags=list(tags))
        t = vocab.terms

        def add(word: str, key: str, value: Any, label: str) -> None:
            t.setdefault(word.lower(), []).append((key, value, label))

        for code, region in REGIONS.items():
            name = region["name"]
            add(name, "region", code, name)
            add(name.rstrip("市"), "region", code, name)
        for word, code in DISTRICTS.items():
            label = f"{REGIONS[code]['name']}·{word}"
            add(word, "region", code, label)
            for suffix in ("区", "新区"):
                add(word + suffix, "region", code, label)
        for code, name in INDUSTRIES.items():
            add(name, "industry", code, name)
        for word, prefix, label in INDUSTRY_WORDS:
            add(word, "industry", prefix, label)
            for suffix in ("行业", "企业", "公司", "类"):
                add(word + suffix, "industry", prefix, label)
        for word, category, label in CATEGORY_WORDS:
            add(word, "category", category, label)
        for pid, _code, name, _category in products:
            add(name, "product", pid, name)
        for word, code in PRODUCT_ALIASES.items():
            if code in by_code:
                pid, _c, name = by_code[code]
                add(word, "product", pid, name)
        for tag in tags:
            add(tag, "tag", tag, tag)
        for word, tag in TAG_ALIASES.items():
            if tag in tags:
                add(word, "tag", tag, tag)
        for tier, words in TIER_WORDS.items():
            for word in words:
                add(word, "tier", tier, TIER_LABELS[tier])
                add(word + "客户", "tier", tier, TIER_LABELS[tier])
        for size, words in SIZE_WORDS.items():
            for word in words:
                add(word, "size", size, SIZE_LABELS[size])
                add(word + "企业", "size", size, SIZE_LABELS[size])
        for own, words in OWNERSHIP_WORDS.items():
            for word in words:
                add(word, "ownership", own, OWNERSHIP_LABELS[own])
                add(word + "企业", "ownership", own, OWNERSHIP_LABELS[own])
        for kind, words in KIND_WORDS.items():
            for word in words:
                add(word, "kind", kind, KIND_LABELS[kind])
        return vocab

    @property
    def longest(self) -> int:
        return max(len(w) for w in self.terms)
