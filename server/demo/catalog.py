"""The vocabulary of the demo bank: where its branches are, the names people and companies carry,
the products it sells. Plain data, read by `server.demo.generator`."""

from __future__ import annotations

BANK_NAME = "展业银行"

# (code, name, city region code, latitude, longitude): real business districts of real cities.
HEAD_BRANCH = ("HQ0001", "展业银行上海分行营业部", "310000", 31.2397, 121.4998)  # 陆家嘴
BRANCHES: list[tuple[str, str, str, float, float]] = [
    ("SH0101", "上海静安支行", "310000", 31.2290, 121.4480),  # 南京西路
    ("BJ0101", "北京金融街支行", "110000", 39.9150, 116.3590),
    ("HZ0101", "杭州钱江新城支行", "330100", 30.2460, 120.2110),
    ("NJ0101", "南京新街口支行", "320100", 32.0420, 118.7840),
    ("SZ0101", "深圳福田支行", "440300", 22.5410, 114.0540),
    ("GZ0101", "广州天河支行", "440100", 23.1320, 113.3270),
    ("SU0101", "苏州工业园区支行", "320500", 31.3170, 120.6690),
    ("CD0101", "成都天府支行", "510100", 30.5720, 104.0660),
]

# Real districts (GB/T 2260) of each city: where individual customers were registered at birth.
DISTRICTS: dict[str, list[str]] = {
    "110000": ["110101", "110102", "110105", "110106", "110108"],
    "310000": ["310101", "310104", "310105", "310106", "310107", "310110", "310112", "310115"],
    "120000": ["120101", "120102", "120103", "120104"],
    "500000": ["500101", "500103", "500105", "500106"],
    "440100": ["440103", "440104", "440105", "440106"],
    "440300": ["440303", "440304", "440305", "440306"],
    "330100": ["330102", "330105", "330106", "330108"],
    "330200": ["330203", "330205", "330206", "330212"],
    "320100": ["320102", "320104", "320105", "320106"],
    "320500": ["320505", "320506", "320507", "320508"],
    "370200": ["370202", "370203", "370211", "370212"],
    "420100": ["420102", "420103", "420104", "420106"],
    "510100": ["510104", "510105", "510106", "510107"],
    "610100": ["610102", "610103", "610104", "610113"],
    "350200": ["350203", "350205", "350206", "350211"],
    "430100": ["430102", "430103", "430104", "430105"],
}

# Common surnames, roughly by frequency (the first ones repeat more often).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
)
# pypinyin reads these surnames with their common, not their surname, pronunciation.
SURNAME_INITIALS = {"曾": "z"}

GIVEN_MALE = (
    "伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 宇 浩 凯 健 俊 帆 帅 旭 宁 龙 林 阳 "
    "建华 建国 志强 志明 俊杰 子轩 浩然 宇航 文博 明辉 海涛 国庆 晓东 立新 振华 家豪 天佑 博文 一鸣 "
    "子豪 梓涵 宏伟 晨阳 思远 嘉懿 伟东 永刚 建军 海波 小龙 文杰 国华 春生 德明 志刚 新民 光明 卫东 "
    "永强 晓峰 俊峰 鹏飞 云龙 泽宇 皓轩 铭 睿 晟 子墨 景行 承泽 昊天 奕辰 雨泽"
).split()
GIVEN_FEMALE = (
    "芳 娜 敏 静 丽 艳 娟 霞 燕 玲 婷 雪 琳 倩 颖 洁 慧 莉 萍 红 玉 兰 梅 丹 晶 欣 悦 蕾 佳 璐 "
    "秀英 桂英 秀兰 玉兰 淑珍 丽娟 晓燕 海燕 雅婷 欣怡 梓萱 诗涵 雨桐 思琪 佳怡 晓丽 春梅 美玲 雪梅 "
    "子涵 一诺 可馨 若曦 语嫣 文静 婉清 书瑶 梦瑶 晓琳 丽华 玉梅 凤英 桂兰 慧敏 雅琴 月华 海霞 "
    "丹丹 婷婷 静怡 紫涵 安琪 芷若 沐晴 清妍"
).split()

# 字号 (trade names) are two characters, one from each list.
TRADE_FIRST = "恒盛华鑫瑞德宏泰嘉信金源达通利丰兴隆昌安永新天海正远博联创佳康旭锦润汇宇辰凯科众祥和益诚"
TRADE_SECOND = "达盛华通源泰丰瑞兴利昌鑫祥和安宇辉腾远业峰成达凯泽邦诺晟航驰美越拓维联荣升晖阳杰"
FOREIGN_TRADE = [
    "艾森",
    "德朗",
    "美达",
    "宝伦",
    "凯斯",
    "博朗",
    "施耐",
    "霍尔",
    "丰田",
    "三和",
    "汉斯",
    "莱茵",
]
CENTRAL_SOE_STEM = ["冶", "核", "航", "电", "铁", "建", "交", "能", "化", "粮", "船", "煤", "通", "联", "信"]
LOCAL_SOE_STEM = ["城投", "交投", "国资", "产投", "水务", "能源", "文旅", "地铁", "港务", "国控"]

# Words that say what a company does, per GB/T 4754 division.
INDUSTRY_WORDS: dict[str, list[str]] = {
    "A01": ["农业科技", "生态农业", "种业"],
    "A03": ["牧业", "畜禽养殖"],
    "A04": ["水产", "渔业"],
    "B06": ["煤业", "矿业"],
    "C13": ["食品", "粮油"],
    "C15": ["酒业", "饮品", "茶业"],
    "C17": ["纺织", "丝绸"],
    "C18": ["服饰", "制衣"],
    "C26": ["化工", "新材料"],
    "C27": ["医药", "生物制药", "药业"],
    "C29": ["塑胶", "橡塑制品"],
    "C31": ["钢铁", "特钢"],
    "C33": ["五金", "金属制品"],
    "C34": ["机械", "精密机械", "动力设备"],
    "C35": ["智能装备", "专用设备", "医疗器械"],
    "C36": ["汽车零部件", "汽车配件", "新能源汽车"],
    "C38": ["电气", "电器", "储能科技"],
    "C39": ["电子", "通信设备", "半导体", "光电科技"],
    "D44": ["能源", "热电", "新能源"],
    "E47": ["建设", "建筑工程"],
    "E48": ["路桥", "市政工程"],
    "E50": ["装饰工程", "建筑装饰"],
    "F51": ["贸易", "商贸", "进出口"],
    "F52": ["百货", "商业连锁", "超市"],
    "G54": ["物流", "运输"],
    "G58": ["国际货运代理", "供应链管理"],
    "G59": ["仓储", "冷链物流"],
    "H61": ["酒店管理", "酒店"],
    "H62": ["餐饮管理", "餐饮"],
    "I64": ["网络科技", "互联网科技"],
    "I65": ["软件", "信息技术", "数据科技"],
    "K70": ["置业", "房地产开发"],
    "L72": ["企业管理咨询", "商务服务", "人力资源"],
    "M73": ["研究院", "检测技术"],
    "M75": ["科技", "技术服务"],
    "N77": ["环保科技", "环境工程"],
    "P83": ["教育科技", "培训"],
    "Q84": ["医疗管理", "健康管理"],
    "R87": ["文化传媒", "影视文化"],
}
# Government bodies and public institutions (政府/事业单位), prefixed with the city.
GOVERNMENT_BODIES: list[tuple[str, str]] = [
    ("S92", "市财政局"),
    ("S92", "市住房公积金管理中心"),
    ("S92", "市公共资源交易中心"),
    ("S92", "市医疗保障局"),
    ("S92", "市人力资源和社会保障局"),
    ("S92", "市机关事务管理局"),
    ("Q84", "市第一人民医院"),
    ("Q84", "市中医院"),
    ("Q84", "市妇幼保健院"),
    ("P83", "市第一中学"),
    ("P83", "职业技术学院"),
    ("P83", "市实验小学"),
]
# Industries a city is known for get more of its companies.
INDUSTRY_WEIGHTS: dict[str, int] = {
    "C36": 5,
    "C39": 6,
    "C34": 5,
    "F51": 8,
    "F52": 4,
    "I65": 6,
    "E47": 4,
    "K70": 3,
    "C38": 4,
    "G54": 3,
    "L72": 4,
    "C27": 3,
    "C26": 3,
    "C13": 3,
}

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

# Qualifications an RM may hold; products needing one may only be sold by holders.
QUALIFICATIONS = {
    "credit": "信贷业务资格",
    "fund_sales": "基金销售从业资格",
    "insurance_agent": "保险代理从业资格",
    "wealth": "理财销售资格（AFP/CFP）",
    "fx": "外汇业务资格",
}

# (code, name, category, segment, terms, qualification, risk level, selling points, advantages,
#  target profile, size weight). Rates and terms are typical of Chinese banks in 2025-2026.
PRODUCTS: list[dict] = [
    {
        "code": "DEP-CA",
        "name": "单位活期存款",
        "category": "deposit",
        "segment": "corporate",
        "terms": "随存随取，按人民银行活期基准利率计息，按季结息",
        "qualification": None,
        "risk_level": None,
        "selling_points": ["资金随用随取", "对接网银与银企直联", "免费开通电子回单"],
        "advantages": ["结算网点多、到账快", "可叠加协定存款提升收益"],
        "target": "所有对公结算客户",
    },
    {
        "code": "DEP-TD",
        "name": "单位定期存款",
        "category": "deposit",
        "segment": "corporate",
        "terms": "期限3个月至3年，1万元起存，三年期年利率约1.75%",
        "qualification": None,
        "risk_level": None,
        "selling_points": ["收益确定，保本保息", "期限灵活可选", "可办理定期存单质押融资"],
        "advantages": ["存款保险保障", "支持提前支取部分本金"],
        "target": "有闲置资金、偏好稳健的企业",
    },
    {
        "code": "DEP-AGR",
        "name": "单位协定存款",
        "category": "deposit",
        "segment": "corporate",
        "terms": "约定基本留存额度50万元，超出部分按协定利率（约1.0%）计息，期限一年",
        "qualification": None,
        "risk_level": None,
        "selling_points": ["活期的流动性，高于活期的收益", "自动计息无需操作", "与结算账户一体"],
        "advantages": ["不影响日常支付", "可与资金池配合使用"],
        "target": "日均存款较高的结算大户",
    },
    {
        "code": "DEP-LCD",
        "name": "个人大额存单",
        "category": "deposit",
        "segment": "individual",
        "terms": "20万元起存，期限1个月至3年，三年期年利率约2.0%，可转让",
        "qualification": None,
        "risk_level": None,
        "selling_points": ["利率高于普通定期", "可转让、可质押", "存款保险保障"],
        "advantages": ["手机银行可购买和转让", "到期自动转存可选"],
        "target": "资产20万元以上、稳健型个人客户",
    },
    {
        "code": "DEP-STD",
        "name": "个人整存整取定期存款",
        "category": "deposit",
        "segment": "individual",
        "terms": "50元起存，期限3个月至5年，一年期年利率约1.2%",
        "qualification": None,
        "risk_level": None,
        "selling_points": ["本金安全", "起存门槛低", "到期可自动转存"],
        "advantages": ["网点和手机银行都能办", "可部分提前支取"],
        "target": "老年客户和稳健型储户",
    },
    {
        "code": "DEP-NOTICE",
        "name": "七天通知存款",
        "category": "deposit",
        "segment": "both",
        "terms": "个人5万元、单位50万元起存，提前7天通知支取，年利率约0.8%",
        "qualification": None,
        "risk_level": None,
        "selling_points": ["短期闲置资金增值", "可设置自动滚存", "收益高于活期"],
        "advantages": ["支取灵活", "适合短期资金周转"],
        "target": "有短期闲置资金的客户",
    },
    {
        "code": "LN-WC",
        "name": "流动资金贷款",
        "category": "loan",
        "segment": "corporate",
        "terms": "期限1年以内，利率参考一年期LPR（3.0%）加点，可随借随还",
        "qualification": "credit",
        "risk_level": None,
        "selling_points": ["满足日常经营周转", "额度循环使用", "审批快，最快3个工作日放款"],
        "advantages": ["可线上提款还款", "支持信用、抵押、担保多种方式"],
        "target": "经营稳定、有周转需求的企业",
    },
    {
        "code": "LN-FA",
        "name": "固定资产贷款",
        "category": "loan",
        "segment": "corporate",
        "terms": "期限3至10年，利率参考五年期以上LPR（3.5%）加点，按项目进度放款",
        "qualification": "credit",
        "risk_level": None,
        "selling_points": ["支持厂房、设备和技改投资", "还款计划与项目现金流匹配", "期限长、额度高"],
        "advantages": ["可配套项目结算和代发", "银团贷款经验丰富"],
        "target": "有扩产、技改项目的中大型企业",
    },
    {
        "code": "LN-SME",
        "name": "普惠小微快贷",
        "category": "loan",
        "segment": "corporate",
        "terms": "最高500万元，期限1年，纯信用，年利率3.2%起，线上申请",
        "qualification": "credit",
        "risk_level": None,
        "selling_points": ["纯信用免抵押", "线上申请，最快当天到账", "按日计息，随借随还"],
        "advantages": ["享受普惠金融优惠利率", "依据纳税和结算数据授信"],
        "target": "纳税记录良好的小微企业",
    },
    {
        "code": "LN-MTG",
        "name": "个人住房按揭贷款",
        "category": "loan",
        "segment": "individual",
        "terms": "最长30年，首套房利率约3.05%（五年期以上LPR减点），等额本息或等额本金",
        "qualification": "credit",
        "risk_level": None,
        "selling_points": ["利率执行当地首套优惠", "审批快、放款及时", "支持公积金组合贷"],
        "advantages": ["与主流开发商合作楼盘多", "提前还款灵活"],
        "target": "购置自住住房的个人",
    },
    {
        "code": "LN-CONS",
        "name": "个人消费贷款",
        "category": "loan",
        "segment": "individual",
        "terms": "最高30万元，期限1至5年，年利率3.1%起，用于装修、教育、旅游等",
        "qualification": "credit",
        "risk_level": None,
        "selling_points": ["线上申请，额度即时可见", "纯信用无需抵押", "按日计息"],
        "advantages": ["代发工资客户享优惠利率", "可分期或随借随还"],
        "target": "收入稳定的工薪客户",
    },
    {
        "code": "LN-BIZ",
        "name": "个人经营贷款",
        "category": "loan",
        "segment": "individual",
        "terms": "最高1000万元，期限最长10年，房产抵押，年利率3.0%起",
        "qualification": "credit",
        "risk_level": None,
        "selling_points": ["额度高、期限长", "循环使用，随借随还", "支持先息后本"],
        "advantages": ["抵押物评估快", "经营流水要求灵活"],
        "target": "个体工商户和小微企业主",
    },
    {
        "code": "WM-CASH",
        "name": "天天利现金管理理财",
        "category": "wealth",
        "segment": "both",
        "terms": "1元起购，T+0快速赎回（每日限额5万元），七日年化约1.6%，风险等级R1",
        "qualification": "wealth",
        "risk_level": "R1",
        "selling_points": ["收益高于活期", "赎回实时到账", "1元起购"],
        "advantages": ["可设置工资自动转入", "净值稳定、波动极小"],
        "target": "管理日常零钱和短期资金的客户",
    },
    {
        "code": "WM-FIX180",
        "name": "稳盈180天固收理财",
        "category": "wealth",
        "segment": "both",
        "terms": "1万元起购，封闭180天，业绩比较基准2.3%-2.8%，风险等级R2",
        "qualification": "wealth",
        "risk_level": "R2",
        "selling_points": ["投向高等级债券，波动低", "业绩比较基准高于定期存款", "到期自动兑付"],
        "advantages": ["理财子公司专业投研", "历史产品均达到业绩基准下限"],
        "target": "稳健型、半年内不用钱的客户",
    },
    {
        "code": "WM-PLUS",
        "name": "固收+一年持有期理财",
        "category": "wealth",
        "segment": "individual",
        "terms": "1万元起购，持有满一年可赎回，业绩比较基准3.0%-4.5%，风险等级R3",
        "qualification": "wealth",
        "risk_level": "R3",
        "selling_points": ["债券打底，少量权益增强收益", "持有一年后每日可赎回", "收益弹性更高"],
        "advantages": ["回撤控制严格", "适合作为资产配置的稳健仓位"],
        "target": "平衡型客户，愿意承担小幅波动",
    },
    {
        "code": "FD-MMF",
        "name": "货币市场基金",
        "category": "fund",
        "segment": "both",
        "terms": "0.01元起购，T+1赎回到账，七日年化约1.5%，风险等级R1",
        "qualification": "fund_sales",
        "risk_level": "R1",
        "selling_points": ["流动性好", "几乎无波动", "免申购赎回费"],
        "advantages": ["可作为定投和组合的现金管理工具", "手机银行一键购买"],
        "target": "追求流动性的客户",
    },
    {
        "code": "FD-BOND",
        "name": "纯债债券基金",
        "category": "fund",
        "segment": "both",
        "terms": "1000元起购，持有7天以上免赎回费，近三年年化约3.5%，风险等级R2",
        "qualification": "fund_sales",
        "risk_level": "R2",
        "selling_points": ["收益稳健，波动较小", "分散配置利率债和信用债", "费率低"],
        "advantages": ["基金经理管理经验10年以上", "适合与权益基金搭配"],
        "target": "稳健型投资者",
    },
    {
        "code": "FD-IDX300",
        "name": "沪深300指数增强基金",
        "category": "fund",
        "segment": "individual",
        "terms": "10元起购，支持定投，申购费1.2%（手机银行一折），风险等级R4",
        "qualification": "fund_sales",
        "risk_level": "R4",
        "selling_points": ["分享核心资产长期增长", "定投摊薄成本", "指数增强力争超额收益"],
        "advantages": ["透明低费", "历史超额收益稳定"],
        "target": "进取型客户和长期定投客户",
    },
    {
        "code": "FD-PENSION",
        "name": "养老目标2045三年持有期FOF",
        "category": "fund",
        "segment": "individual",
        "terms": "10元起购，持有三年，可纳入个人养老金账户，风险等级R3",
        "qualification": "fund_sales",
        "risk_level": "R3",
        "selling_points": ["随年龄自动降低权益比例", "个人养老金可享税收递延", "专业机构一站式配置"],
        "advantages": ["每年最高1.2万元税前扣除", "适合长期养老规划"],
        "target": "35至50岁、有养老规划需求的客户",
    },
    {
        "code": "INS-ANN",
        "name": "增额终身寿险",
        "category": "insurance",
        "segment": "individual",
        "terms": "趸交或3/5/10年交，保额按约定利率复利递增，合同写明现金价值",
        "qualification": "insurance_agent",
        "risk_level": None,
        "selling_points": ["现金价值写入合同，确定增长", "可减保取现，灵活用钱", "可指定受益人，财富传承"],
        "advantages": ["合作保险公司偿付能力充足", "可搭配养老和子女教育规划"],
        "target": "高净值家庭、养老和传承需求客户",
    },
    {
        "code": "INS-CI",
        "name": "重大疾病保险",
        "category": "insurance",
        "segment": "individual",
        "terms": "保障至70岁或终身，覆盖120种重疾，确诊即赔，20年交费",
        "qualification": "insurance_agent",
        "risk_level": None,
        "selling_points": ["确诊即赔付", "轻症、中症多次赔付", "保费豁免"],
        "advantages": ["理赔服务快", "健康告知简明"],
        "target": "家庭经济支柱",
    },
    {
        "code": "INS-GROUP",
        "name": "团体意外及医疗保险",
        "category": "insurance",
        "segment": "corporate",
        "terms": "一年期，10人起投，意外身故伤残及住院医疗，保费按人按年",
        "qualification": "insurance_agent",
        "risk_level": None,
        "selling_points": ["提升员工福利", "保费可列支成本", "投保理赔全程线上"],
        "advantages": ["与代发工资联动，一次办齐", "人员增减按日计费"],
        "target": "员工20人以上的企业",
    },
    {
        "code": "PAY-PAYROLL",
        "name": "代发工资",
        "category": "payroll",
        "segment": "corporate",
        "terms": "企业网银批量代发，免收代发手续费，员工办理工资卡享专属权益",
        "qualification": None,
        "risk_level": None,
        "selling_points": ["批量代发准时到账", "免费代发", "员工专享理财和贷款优惠"],
        "advantages": ["支持个税申报数据对接", "员工上门开卡服务"],
        "target": "所有有员工的企业和机关事业单位",
    },
    {
        "code": "CM-POOL",
        "name": "集团现金管理（资金池）",
        "category": "cash_management",
        "segment": "corporate",
        "terms": "按年收取服务费，支持实体资金池和名义资金池，跨行账户统一管理",
        "qualification": None,
        "risk_level": None,
        "selling_points": ["集团资金统一可视", "上收下拨自动归集", "降低整体融资成本"],
        "advantages": ["支持银企直联和ERP对接", "跨行账户管理"],
        "target": "有多个子公司的集团企业",
    },
    {
        "code": "TF-BA",
        "name": "银行承兑汇票",
        "category": "trade_finance",
        "segment": "corporate",
        "terms": "期限最长1年，保证金比例30%-100%，手续费万分之五",
        "qualification": "credit",
        "risk_level": None,
        "selling_points": ["延期支付，节约资金", "银行信用，收款方接受度高", "可贴现快速变现"],
        "advantages": ["电子票据全程线上", "贴现利率有竞争力"],
        "target": "上下游结算频繁的企业",
    },
    {
        "code": "TF-FACTOR",
        "name": "供应链保理融资",
        "category": "trade_finance",
        "segment": "corporate",
        "terms": "依托核心企业应收账款，融资比例最高90%，期限与账期匹配",
        "qualification": "credit",
        "risk_level": None,
        "selling_points": ["应收账款提前变现", "无需额外抵押", "线上确权放款"],
        "advantages": ["与核心企业系统直连", "上游供应商批量准入"],
        "target": "核心企业的上游供应商",
    },
    {
        "code": "TF-LC",
        "name": "进口信用证",
        "category": "trade_finance",
        "segment": "corporate",
        "terms": "即期或远期信用证，开证手续费0.15%，可配套押汇融资",
        "qualification": "fx",
        "risk_level": None,
        "selling_points": ["银行信用保障交易安全", "远期信用证延期付款", "可叠加进口押汇"],
        "advantages": ["海外代理行网络广", "单据审核专业高效"],
        "target": "有进口业务的外贸企业",
    },
    {
        "code": "FX-SPOT",
        "name": "即期结售汇",
        "category": "fx",
        "segment": "both",
        "terms": "美元、欧元、日元等主要币种，实时报价，企业网银7×24小时交易",
        "qualification": "fx",
        "risk_level": None,
        "selling_points": ["汇率报价有竞争力", "线上实时成交", "资金当日到账"],
        "advantages": ["大额可申请点差优惠", "专业外汇顾问服务"],
        "target": "外贸企业和有换汇需求的个人",
    },
    {
        "code": "FX-FWD",
        "name": "远期结售汇",
        "category": "fx",
        "segment": "corporate",
        "terms": "期限最长1年，锁定未来汇率，可择期交割，占用授信或缴纳保证金",
        "qualification": "fx",
        "risk_level": None,
        "selling_points": ["锁定汇率，规避汇率风险", "交割日期灵活", "匹配订单收付汇周期"],
        "advantages": ["汇率避险方案量身定制", "中小企业避险首单优惠"],
        "target": "有稳定外汇收付的进出口企业",
    },
    {
        "code": "CC-PLAT",
        "name": "白金信用卡",
        "category": "credit_card",
        "segment": "individual",
        "terms": "额度最高10万元，最长56天免息期，年消费满6笔免次年年费",
        "qualification": None,
        "risk_level": None,
        "selling_points": ["机场贵宾厅和道路救援", "消费积分兑换里程", "分期手续费优惠"],
        "advantages": ["代发客户快速审批", "境外消费返现"],
        "target": "中高收入的个人客户",
    },
    {
        "code": "CC-CORP",
        "name": "公务卡",
        "category": "credit_card",
        "segment": "corporate",
        "terms": "单位统一申请，个人持卡，用于公务支出报销，免年费",
        "qualification": None,
        "risk_level": None,
        "selling_points": ["公务消费透明可查", "减少现金报销", "免息期缓解垫资"],
        "advantages": ["对接单位财务报销系统", "批量办卡上门服务"],
        "target": "机关事业单位和国有企业",
    },
]

# What a product takes, in cents, as its terms state it (起存/起购 minimums; 最高 ceilings for loans and
# card limits): holdings in the demo bank respect them. code -> (individual minimum, corporate minimum).
MINIMUMS: dict[str, tuple[int, int]] = {
    "DEP-TD": (1_0000_00, 1_0000_00),
    "DEP-AGR": (50_0000_00, 50_0000_00),
    "DEP-LCD": (20_0000_00, 20_0000_00),
    "DEP-STD": (50_00, 50_00),
    "DEP-NOTICE": (5_0000_00, 50_0000_00),
    "WM-CASH": (1_00, 1_00),
    "WM-FIX180": (1_0000_00, 1_0000_00),
    "WM-PLUS": (1_0000_00, 1_0000_00),
    "FD-MMF": (1, 1),
    "FD-BOND": (1000_00, 1000_00),
    "FD-IDX300": (10_00, 10_00),
    "FD-PENSION": (10_00, 10_00),
}
MAXIMUMS: dict[str, int] = {
    "LN-SME": 500_0000_00,
    "LN-CONS": 30_0000_00,
    "LN-BIZ": 1000_0000_00,
    "CC-PLAT": 10_0000_00,
}

# Advantages (优点) every product of a category shares, and those of the bank itself: with each
# product's own, the shelf shows up to 20 per product, as the seed's 我的可售产品 describes.
CATEGORY_ADVANTAGES: dict[str, list[str]] = {
    "deposit": ["受存款保险制度保障", "利率按人民银行及市场利率定价自律机制执行", "到期提醒短信及时送达",
                "存单可办理质押融资", "可开具存款证明", "网点、手机银行、网银均可办理", "资金到账实时查询"],
    "loan": ["授信方案一户一策", "审批流程透明、进度可查", "还款方式多样可选", "可线上申请提款",
             "利率随LPR调整公开透明", "贷后提醒及时，避免逾期", "可与结算、代发等业务打包优惠"],
    "wealth": ["产品经过行内严格准入", "净值每日披露、持仓随时可查", "风险等级清晰标注", "专属理财经理一对一服务",
               "手机银行可随时申赎或查询", "定期发送投资报告"],
    "fund": ["精选头部基金公司产品", "支持定投，平滑波动", "手机银行申购费率优惠", "持仓分析和调仓建议",
             "风险测评后匹配推荐", "赎回款到账及时"],
    "insurance": ["承保机构为大型保险公司", "保单条款清晰，犹豫期内可退", "理赔协助专人跟进", "可做家庭保障缺口分析",
                  "保单可在手机银行查询", "缴费可自动扣款"],
    "payroll": ["批量代发一次完成", "员工工资卡享专属权益", "代发数据加密传输", "支持多种发放周期",
                "配套员工理财与信用卡", "企业财务对账简便"],
    "cash_management": ["集团资金一目了然", "归集下拨规则灵活配置", "银企直联对接财务系统", "提升资金使用效率",
                        "减少外部融资成本", "支持多级账户管理"],
    "trade_finance": ["贸易背景审核高效", "可配套国际结算", "融资期限与账期匹配", "线上提交单据",
                      "专业单证团队把关", "汇率避险方案配套"],
    "credit_card": ["境内外消费均可使用", "积分可兑换礼品和里程", "账单分期灵活", "手机银行实时管理卡片",
                    "失卡保障服务", "消费提醒实时推送"],
    "fx": ["主要币种报价有竞争力", "专业汇率分析每日推送", "交易渠道7×24小时", "结售汇手续便捷",
           "可与贸易融资配套", "资金清算快"],
}  # fmt: skip
BANK_ADVANTAGES = ["全国网点覆盖主要城市", "客户经理专属服务", "手机银行功能齐全", "7×24小时客服热线",
                   "业务办理进度短信通知", "综合金融服务一站式办理", "资金安全有保障"]  # fmt: skip
MAX_ADVANTAGES = 20


def product_minimum_cents(product: dict, *, corporate: bool) -> int:
    individual, company = MINIMUMS.get(product["code"], (0, 0))
    return company if corporate else individual


def product_advantages(product: dict) -> list[str]:
    """The product's own advantages first, then its category's, then the bank's (at most 20)."""
    merged = [*product["advantages"], *CATEGORY_ADVANTAGES.get(product["category"], []), *BANK_ADVANTAGES]
    return list(dict.fromkeys(merged))[:MAX_ADVANTAGES]


for _product in PRODUCTS:
    if _product["code"] in MAXIMUMS:
        _product["max_cents"] = MAXIMUMS[_product["code"]]
