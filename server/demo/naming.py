"""The names people and companies carry in the demo bank: surnames (and how pypinyin misreads
some), given names, 字号 (trade names), foreign trade names and the stems of state-owned enterprises'
names. Plain data, read by `server.demo.generator`."""

from __future__ import annotations

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
