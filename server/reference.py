"""Reference data the bank's systems share: GB/T 4754-2017 industry divisions used here and
GB/T 2260 administrative regions of the cities where the bank has branches."""

from __future__ import annotations

# Code = section letter + two-digit division (e.g. C36 汽车制造业).
INDUSTRIES: dict[str, str] = {
    "A01": "农业",
    "A03": "畜牧业",
    "A04": "渔业",
    "B06": "煤炭开采和洗选业",
    "C13": "农副食品加工业",
    "C15": "酒、饮料和精制茶制造业",
    "C17": "纺织业",
    "C18": "纺织服装、服饰业",
    "C26": "化学原料和化学制品制造业",
    "C27": "医药制造业",
    "C29": "橡胶和塑料制品业",
    "C31": "黑色金属冶炼和压延加工业",
    "C33": "金属制品业",
    "C34": "通用设备制造业",
    "C35": "专用设备制造业",
    "C36": "汽车制造业",
    "C38": "电气机械和器材制造业",
    "C39": "计算机、通信和其他电子设备制造业",
    "D44": "电力、热力生产和供应业",
    "E47": "房屋建筑业",
    "E48": "土木工程建筑业",
    "E50": "建筑装饰、装修和其他建筑业",
    "F51": "批发业",
    "F52": "零售业",
    "G54": "道路运输业",
    "G58": "多式联运和运输代理业",
    "G59": "装卸搬运和仓储业",
    "H61": "住宿业",
    "H62": "餐饮业",
    "I64": "互联网和相关服务",
    "I65": "软件和信息技术服务业",
    "K70": "房地产业",
    "L72": "商务服务业",
    "M73": "研究和试验发展",
    "M75": "科技推广和应用服务业",
    "N77": "生态保护和环境治理业",
    "P83": "教育",
    "Q84": "卫生",
    "R87": "文化艺术业",
    "S92": "国家机构",
}

# Sections whose business weather hits hardest (agriculture, construction, transport).
WEATHER_SENSITIVE_SECTIONS = ("A", "E", "G")

REGIONS: dict[str, dict] = {
    "110000": {"name": "北京市", "lat": 39.9042, "lng": 116.4074},
    "310000": {"name": "上海市", "lat": 31.2304, "lng": 121.4737},
    "120000": {"name": "天津市", "lat": 39.3434, "lng": 117.3616},
    "500000": {"name": "重庆市", "lat": 29.5630, "lng": 106.5516},
    "440100": {"name": "广州市", "lat": 23.1291, "lng": 113.2644},
    "440300": {"name": "深圳市", "lat": 22.5431, "lng": 114.0579},
    "330100": {"name": "杭州市", "lat": 30.2741, "lng": 120.1551},
    "330200": {"name": "宁波市", "lat": 29.8683, "lng": 121.5440},
    "320100": {"name": "南京市", "lat": 32.0603, "lng": 118.7969},
    "320500": {"name": "苏州市", "lat": 31.2990, "lng": 120.5853},
    "370200": {"name": "青岛市", "lat": 36.0671, "lng": 120.3826},
    "420100": {"name": "武汉市", "lat": 30.5928, "lng": 114.3055},
    "510100": {"name": "成都市", "lat": 30.5728, "lng": 104.0668},
    "610100": {"name": "西安市", "lat": 34.3416, "lng": 108.9398},
    "350200": {"name": "厦门市", "lat": 24.4798, "lng": 118.0894},
    "430100": {"name": "长沙市", "lat": 28.2282, "lng": 112.9388},
}


def industry_name(code: str | None) -> str | None:
    return INDUSTRIES.get(code) if code else None


def region_name(code: str | None) -> str | None:
    region = REGIONS.get(code) if code else None
    return region["name"] if region else None
