"""Enrichment of one item's text: amounts, dates, credit codes, regions, industries, the event it
reports and whether it is favourable (利好) or unfavourable (利空). Pure functions over strings, so
every rule can be tested and read; company names need the customer index (matching.py)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from server.intel.lexicon import (
    EVENT_TERMS,
    FAVOURABLE,
    INDUSTRY_KEYWORDS,
    NEGATIONS,
    UNFAVOURABLE,
    WEATHER_TERMS,
)
from server.reference import REGIONS
from server.validators import is_valid_credit_code

# --- fingerprint ------------------------------------------------------------------------------

_SOURCE_TAG = re.compile(r"^\s*[【\[][^】\]]{1,12}[】\]]")  # 【新华社】 or [快讯] in front of a title
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """NFKC (full-width → half-width), lower case, no punctuation or spaces: how two feeds' copies of
    one headline become the same string."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _SOURCE_TAG.sub("", text)
    return _NON_WORD.sub("", text.lower())


def fingerprint(title: str, summary: str = "") -> str:
    """The identity of an item: its normalised title, plus the start of its summary when the title
    is too short to tell items apart (e.g. "暴雨预警")."""
    key = normalise(title)
    if len(key) < 12:
        key += "|" + normalise(summary)[:200]
    return hashlib.sha256(key.encode()).hexdigest()


# --- amounts and dates ------------------------------------------------------------------------

_UNITS: dict[str, Decimal] = {
    "亿元": Decimal(10**8),
    "亿": Decimal(10**8),
    "万元": Decimal(10**4),
    "万": Decimal(10**4),
    "元": Decimal(1),
}
# 亿/万 alone count as money only when no other unit follows (10万吨 is a weight, 1.2亿美元 is not RMB).
_AMOUNT = re.compile(
    r"(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*(亿元|万元|元|亿(?![\u4e00-\u9fa5])|万(?![\u4e00-\u9fa5]))"
)
_PERCENT_AFTER = r"(?:比例)?(?:为|约为|约|是)?\s*(\d{1,2}(?:\.\d+)?)\s*[%％]"
_ADVANCE = re.compile(r"(?:预付款|预付|首付款)" + _PERCENT_AFTER)
_TERM = re.compile(
    r"(?:工期|合同期|履约期|交付期|建设期|服务期)(?:限)?(?:为|约为|约)?\s*(\d{1,3})\s*(个月|月|天|日|年)"
)
_DATE_CN = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_DATE_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_CREDIT_CODE = re.compile(r"(?<![0-9A-Z])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Z])")


def amounts_cents(text: str) -> list[int]:
    """RMB amounts named in the text, in cents: 1.2亿元 → 12,000,000,000; 3,500万元 → 3,500,000,000."""
    out = []
    for whole, frac, unit in _AMOUNT.findall(unicodedata.normalize("NFKC", text)):
        try:
            value = Decimal(whole.replace(",", "") + (frac or "")) * _UNITS[unit] * 100
        except InvalidOperation:
            continue
        out.append(int(value))
    return out


def advance_ratio(text: str) -> Decimal | None:
    match = _ADVANCE.search(unicodedata.normalize("NFKC", text))
    return Decimal(match.group(1)) / 100 if match else None


def term_months(text: str) -> int | None:
    match = _TERM.search(unicodedata.normalize("NFKC", text))
    if not match:
        return None
    n, unit = int(match.group(1)), match.group(2)
    if unit == "年":
        return n * 12
    if unit in ("天", "日"):
        return max(1, round(n / 30))
    return n


def dates(text: str) -> list[date]:
    out = []
    for y, m, d in _DATE_CN.findall(text) + _DATE_ISO.findall(text):
        try:
            out.append(date(int(y), int(m), int(d)))
        except ValueError:
            continue
    return sorted(set(out))


def credit_codes(text: str) -> list[str]:
    """Unified social credit codes that pass the GB 32100 check character."""
    found = _CREDIT_CODE.findall(unicodedata.normalize("NFKC", text).upper())
    return sorted({code for code in found if is_valid_credit_code(code)})


# --- regions and industries -------------------------------------------------------------------


def _region_terms() -> list[tuple[str, str]]:
    terms = []
    for code, region in REGIONS.items():
        name = region["name"]
        terms.append((name, code))
        short = name.removesuffix("市")
        if len(short) >= 2:
            terms.append((short, code))
    return sorted(terms, key=lambda t: -len(t[0]))


_REGION_TERMS = _region_terms()
_INDUSTRY_TERMS = sorted(INDUSTRY_KEYWORDS.items(), key=lambda t: -len(t[0]))


def regions(text: str) -> list[str]:
    """GB/T 2260 codes of the bank's cities named in the text (上海 or 上海市)."""
    return sorted({code for term, code in _REGION_TERMS if term in text})


def industries(text: str) -> tuple[list[str], list[str]]:
    """(GB/T 4754 division codes, the terms that named them)."""
    codes: set[str] = set()
    terms: list[str] = []
    for term, term_codes in _INDUSTRY_TERMS:
        if term in text and not any(term in longer for longer in terms):
            codes.update(term_codes)
            terms.append(term)
    return sorted(codes), terms


# --- sentiment and event ----------------------------------------------------------------------

_SENTIMENT = re.compile(
    "|".join(re.escape(t) for t in sorted(set(FAVOURABLE) | set(UNFAVOURABLE), key=len, reverse=True))
)
_FAVOURABLE = set(FAVOURABLE)


def sentiment(text: str) -> tuple[str, list[str]]:
    """利好/利空 by counting lexicon terms (longest first, no overlaps); a negation just before a term
    (未中标, 取消补贴) reverses it. Ties are neutral."""
    score = 0
    hits: list[str] = []
    for match in _SENTIMENT.finditer(text):
        term = match.group(0)
        polarity = 1 if term in _FAVOURABLE else -1
        before = text[max(0, match.start() - 2) : match.start()]
        if any(before.endswith(neg) for neg in NEGATIONS):
            polarity = -polarity
            term = before[-1] + term if before.endswith("未") else "否定:" + term
        score += polarity
        hits.append(term)
    if score > 0:
        return "favourable", hits
    if score < 0:
        return "unfavourable", hits
    return "neutral", hits


def event_kind(text: str, category: str) -> str | None:
    if category == "weather" or (any(term in text for term in WEATHER_TERMS) and "预警" in text):
        return "weather_warning"
    for kind, terms in EVENT_TERMS:
        if any(term in text for term in terms):
            if kind == "tender_won" and ("未中标" in text or "流标" in text or "废标" in text):
                continue
            return kind
    return None


def weather_terms(text: str) -> list[str]:
    return [t for t in WEATHER_TERMS if t in text]


@dataclass
class Enrichment:
    amounts_cents: list[int] = field(default_factory=list)
    dates: list[date] = field(default_factory=list)
    credit_codes: list[str] = field(default_factory=list)
    region_codes: list[str] = field(default_factory=list)
    industry_codes: list[str] = field(default_factory=list)
    industry_terms: list[str] = field(default_factory=list)
    sentiment: str = "neutral"
    sentiment_terms: list[str] = field(default_factory=list)
    event_kind: str | None = None
    weather_terms: list[str] = field(default_factory=list)
    advance_ratio: Decimal | None = None
    term_months: int | None = None

    @property
    def amount_cents(self) -> int | None:
        return max(self.amounts_cents) if self.amounts_cents else None


def enrich(text: str, *, category: str, strip: list[str] | None = None) -> Enrichment:
    """Everything but company names. `strip` holds company names already found: their words must not
    count as the item's industry or region (上海华星汽车零部件有限公司中标 is no auto-industry news)."""
    plain = text
    for name in sorted(strip or [], key=len, reverse=True):
        plain = plain.replace(name, "·")
    codes, terms = industries(plain)
    mood, hits = sentiment(text)
    return Enrichment(
        amounts_cents=amounts_cents(text),
        dates=dates(text),
        credit_codes=credit_codes(text),
        region_codes=regions(plain),
        industry_codes=codes,
        industry_terms=terms,
        sentiment=mood,
        sentiment_terms=hits,
        event_kind=event_kind(text, category),
        weather_terms=weather_terms(text),
        advance_ratio=advance_ratio(text),
        term_months=term_months(text),
    )
