"""Parsing what an RM types into an intent and filters (问展业), with jieba and the app's own
vocabularies: regions (and well-known districts), industries (GB/T 4754 names and everyday words),
products and categories, tags, tiers, sizes, ownership, and Chinese dates and durations.

Steps:
1. Normalise (full-width to half-width, lower case) and segment with jieba, after adding every
   vocabulary term to jieba's dictionary so that 大额存单 or 专精特新 stay one word.
2. Longest match of token n-grams against the vocabularies (tags first, so 流失预警 is a tag and not
   an alert); dates and durations by pattern (下月, 本周, 近30天, 三个月没拜访, 十二月...).
3. The intent from the words left over (商机 → opportunities; 情报/预警/利空 → alerts; 提醒/待办/日程 →
   reminders; 完成率/多少/排名 → figure; 产品/卖点 without customer words → products), else a list of
   customers when there are customer filters, else one customer by name (a surname with 总/董/经理, a
   two- or three-character person name, or an unknown company word).
Every filter comes back with a Chinese label, so the UI shows it as a removable chip. The word tables
and the `Vocabulary` built from them are in server/assistant/ask_lexicon.py."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import jieba

from server.assistant.ask_lexicon import (
    ALERT_WORDS,
    COMMAND_WORDS,
    CUSTOMER_WORDS,
    FIGURE_METRICS,
    FIGURE_WORDS,
    LACKS_WORDS,
    NOT_CONTACTED,
    NUMERALS,
    OPPORTUNITY_WORDS,
    PRODUCT_WORDS,
    REMINDER_WORDS,
    SURNAMES,
    TITLES,
    Vocabulary,
)

INTENTS = ("customers", "customer", "figure", "opportunities", "alerts", "reminders", "products")


@dataclass
class Filter:
    key: str
    value: Any
    label: str

    def public(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value, "label": self.label}


@dataclass
class Parsed:
    intent: str
    filters: list[Filter] = field(default_factory=list)
    text: str = ""
    name: str | None = None  # the customer's or contact's name, for intent "customer"
    metric: str | None = None  # for intent "figure"

    def get(self, key: str) -> Filter | None:
        return next((f for f in self.filters if f.key == key), None)


_JIEBA_LOCK = threading.Lock()
_JIEBA_WORDS: set[str] = set()


def _ensure_jieba(vocab: Vocabulary) -> None:
    extra = (
        set(vocab.terms)
        | set(NOT_CONTACTED)
        | set(OPPORTUNITY_WORDS + ALERT_WORDS + REMINDER_WORDS + FIGURE_WORDS + PRODUCT_WORDS)
    )
    missing = extra - _JIEBA_WORDS
    if not missing:
        return
    with _JIEBA_LOCK:
        jieba.setLogLevel(60)
        for word in sorted(missing):
            jieba.add_word(word, freq=200000)
        _JIEBA_WORDS.update(missing)


def _normalise(text: str) -> str:
    out = []
    for ch in text.strip():
        code = ord(ch)
        if code == 0x3000:
            ch = " "
        elif 0xFF01 <= code <= 0xFF5E:
            ch = chr(code - 0xFEE0)
        out.append(ch)
    return "".join(out).lower()


def _number(token: str) -> float | None:
    if token.isdigit():
        return float(token)
    if token in NUMERALS:
        return float(NUMERALS[token])
    return None


_DURATION = re.compile(
    r"(近|最近|过去)?([0-9]+|[一两二三四五六七八九十半]+)(个)?(天|日|周|星期|个月|月|年)(内|以内|之内)?"
)


def _days(amount: float, unit: str) -> int:
    return int(round(amount * {"天": 1, "日": 1, "周": 7, "星期": 7, "个月": 30, "月": 30, "年": 365}[unit]))


def _month_range(year: int, month: int) -> tuple[date, date]:
    start = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return start, nxt - timedelta(days=1)


def _dates(text: str, today: date) -> tuple[tuple[date, date, str] | None, str]:
    """A date range named in the text, and the text without it."""
    monday = today - timedelta(days=today.weekday())
    fixed: list[tuple[tuple[str, ...], tuple[date, date]]] = [
        (("今天", "今日"), (today, today)),
        (("明天",), (today + timedelta(days=1), today + timedelta(days=1))),
        (("昨天",), (today - timedelta(days=1), today - timedelta(days=1))),
        (("下周", "下星期", "下个星期"), (monday + timedelta(days=7), monday + timedelta(days=13))),
        (("上周", "上星期", "上个星期"), (monday - timedelta(days=7), monday - timedelta(days=1))),
        (("本周", "这周", "这星期", "这个星期", "本星期"), (monday, monday + timedelta(days=6))),
        (("下个月", "下月"), _month_range(today.year + (today.month == 12), today.month % 12 + 1)),
        (("上个月", "上月"), _month_range(today.year - (today.month == 1), (today.month - 2) % 12 + 1)),
        (("本月", "这个月", "当月", "这月"), _month_range(today.year, today.month)),
        (("年底前", "年底", "年末", "年前"), (today, date(today.year, 12, 31))),
        (
            ("本季度", "这个季度", "本季"),
            (
                date(today.year, (today.month - 1) // 3 * 3 + 1, 1),
                _month_range(today.year, (today.month - 1) // 3 * 3 + 3)[1],
            ),
        ),
        (("今年", "本年"), (date(today.year, 1, 1), date(today.year, 12, 31))),
    ]
    for words, (start, end) in fixed:
        for word in words:
            if word in text:
                return (start, end, word), text.replace(word, " ", 1)
    m = re.search(r"([0-9]{1,2}|十二|十一|十|[一二三四五六七八九])月(份)?(?!内)", text)
    if m and not re.search(r"个月", text[max(0, m.start() - 1) : m.end()]):
        month = int(_number(m.group(1)) or 0)
        if 1 <= month <= 12:
            year = today.year if month >= today.month else today.year + 1
            start, end = _month_range(year, month)
            return (start, end, f"{month}月"), text[: m.start()] + " " + text[m.end() :]
    m = _DURATION.search(text)
    if m and (m.group(1) or m.group(5)):
        amount = _number(m.group(2))
        if amount:
            days = _days(amount, m.group(4))
            return (today, today + timedelta(days=days), f"{days}天内"), text[: m.start()] + " " + text[
                m.end() :
            ]
    return None, text


def _not_contacted(text: str) -> tuple[Filter | None, str]:
    hit = next((w for w in NOT_CONTACTED if w in text), None)
    if hit is None:
        return None, text
    at = text.index(hit)
    before = text[:at]
    m = re.search(
        r"([0-9]+|[一两二三四五六七八九十半]+)(个)?(天|日|周|星期|个月|月|年)$",
        before.rstrip("都还一直从来也"),
    )
    if m:
        amount = _number(m.group(1)) or 0
        days = _days(amount, m.group(3))
        label = f"{days}天未联系"
        rest = before[: m.start()] + " " + text[at + len(hit) :]
        return Filter("not_contacted_days", days, label), rest
    if "长期" in before or "很久" in before or "好久" in before:
        return Filter("not_contacted_days", 90, "90天未联系"), text.replace(hit, " ")
    return Filter("never_contacted", True, "从未拜访"), text.replace(hit, " ")


def _match_terms(vocab: Vocabulary, tokens: list[str]) -> tuple[list[Filter], list[str]]:
    """Longest n-gram matches (tags before everything else); the tokens left unmatched."""
    filters: list[Filter] = []
    left: list[str] = []
    i = 0
    while i < len(tokens):
        match = None
        for n in range(min(4, len(tokens) - i), 0, -1):
            word = "".join(tokens[i : i + n])
            hits = vocab.terms.get(word)
            if hits:
                match = (n, hits)
                break
        if match is None:
            left.append(tokens[i])
            i += 1
            continue
        n, hits = match
        hits = sorted(hits, key=lambda h: h[0] != "tag")
        key, value, label = hits[0]
        if not any(f.key == key and f.value == value for f in filters):
            filters.append(Filter(key, value, label))
        i += n
    return filters, left


def _has(text: str, words: tuple[str, ...]) -> bool:
    return any(w in text for w in words)


def _person(text: str) -> tuple[str | None, bool]:
    """A person's name or "surname + title" in what is left: (name, is_contact)."""
    m = re.search(f"([{''.join(sorted(SURNAMES))}])({'|'.join(TITLES)})", text)
    if m:
        return m.group(1) + m.group(2), True
    clean = re.sub(r"[^\u4e00-\u9fff]", "", text)
    if 2 <= len(clean) <= 3 and clean[0] in SURNAMES:
        return clean, False
    return None, False


def _strip_commands(text: str) -> str:
    for word in sorted(COMMAND_WORDS, key=len, reverse=True):
        text = text.replace(word, " ")
    return re.sub(r"\s+", " ", text).strip()


_FILLER = "|".join(
    map(
        re.escape,
        sorted(
            CUSTOMER_WORDS
            + (
                "有哪些",
                "哪些",
                "列出",
                "所有",
                "我的",
                "我管的",
                "我",
                "名下",
                "里",
                "中",
                "还",
                "在",
                "有",
                "持有",
            )
            + (
                "开了",
                "拥有",
                "需要跟进",
                "跟进",
                "需要",
                "要",
                "给",
                "到期",
                "没买过",
                "没买",
                "从来",
                "一直",
                "都",
                "人",
            ),
            key=len,
            reverse=True,
        ),
    )
)


def parse(text: str, *, vocab: Vocabulary, today: date) -> Parsed:
    raw = _normalise(text)[:100]
    _ensure_jieba(vocab)
    filters: list[Filter] = []
    rest = raw
    contact_filter, rest = _not_contacted(rest)
    date_range, rest = _dates(rest, today)
    tokens = [t for t in jieba.lcut(rest) if t.strip()]
    matched, left_tokens = _match_terms(vocab, tokens)
    left = "".join(left_tokens)
    filters.extend(matched)
    if contact_filter:
        filters.append(contact_filter)
    for f in list(filters):  # "重要" alone is a tier only when it describes customers
        if (
            f.key == "kind"
            and f.value == "corporate"
            and any(g.key in ("industry", "size", "ownership") for g in filters)
        ):
            filters.remove(f)  # 企业 after an industry or a size says nothing more
    keys = {f.key for f in filters}

    def with_dates(intent: str, **extra: Any) -> Parsed:
        out = Parsed(intent, filters, raw, **extra)
        if date_range:
            start, end, label = date_range
            out.filters.append(Filter("date", {"from": start.isoformat(), "to": end.isoformat()}, label))
        return out

    if re.search(r"(有限公司|有限责任公司|集团|股份公司)$", raw):
        return Parsed("customer", [], raw, name=_strip_commands(raw))  # a company's registered name
    if _has(raw, OPPORTUNITY_WORDS):
        return with_dates("opportunities")
    if _has(left, ALERT_WORDS) and "tag" not in keys:
        return with_dates("alerts")
    if _has(left, REMINDER_WORDS) and not (keys & {"category", "product", "tag"}) or "生日" in left:
        return with_dates("reminders")
    person, is_contact = _person(_strip_commands(left))
    if is_contact:
        return Parsed("customer", filters, raw, name=person)
    if _has(left, FIGURE_WORDS) and not _has(left, ("名单", "哪些", "谁")):
        metric = next((m for words, m in FIGURE_METRICS if _has(raw, words)), "completion")
        return with_dates("figure", metric=metric)
    productish = keys & {"product", "category"}
    if _has(left, PRODUCT_WORDS) or re.search(r"\br[1-5]\b|r[1-5]的", raw):
        if not _has(left, ("客户", "名单", "谁")):
            risk = re.search(r"r([1-5])", raw)
            if risk:
                filters.append(Filter("risk_level", f"R{risk.group(1)}", f"R{risk.group(1)}"))
            return Parsed("products", filters, raw)
    if (
        productish
        and not date_range
        and not (keys - {"product", "category", "size", "kind"})
        and not contact_filter
    ):
        words = _strip_commands(left)
        if not _has(left, CUSTOMER_WORDS + ("持有", "有", "开了", "买", "没买")) and not words:
            return Parsed("products", filters, raw)
    if person and not filters and not date_range:
        return Parsed("customer", filters, raw, name=person)
    unknown = _strip_commands(re.sub(_FILLER, " ", left))
    if filters or date_range or contact_filter or "到期" in raw:
        if (
            len(re.sub(r"[^\u4e00-\u9fff]", "", unknown)) >= 2
            and len(filters) == 1
            and filters[0].key == "industry"
            and not date_range
            and not contact_filter
        ):
            return Parsed("customer", [], raw, name=_strip_commands(raw))  # 天成物流: a company's name
        if date_range is None and "到期" in raw:
            date_range = (today, today + timedelta(days=30), "30天内")
        out = with_dates("customers")
        if date_range:
            # A date on a customer list means something matures then (of the category named, if any).
            out.filters[-1] = Filter("matures", out.filters[-1].value, f"{date_range[2]}到期")
        else:
            lacks = _has(raw, LACKS_WORDS)
            for i, f in enumerate(out.filters):
                if f.key in ("category", "product"):
                    key = ("lacks_" if lacks else "holds_") + f.key
                    out.filters[i] = Filter(key, f.value, ("未持有" if lacks else "持有") + f.label)
        return out
    name = _strip_commands(left) or raw.strip()
    return Parsed("customer", [], raw, name=name)
