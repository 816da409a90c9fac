"""Enrichment rules, one by one, and the funding-need formula against hand calculations."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from server.intel import enrich, funding
from server.validators import uscc_check_char


@pytest.mark.parametrize(
    "text, cents",
    [
        ("中标金额1.2亿元", [12_000_000_000]),
        ("合同金额3,500万元", [3_500_000_000]),
        ("金额８６００万元", [8_600_000_000]),  # full-width digits
        ("投资5亿，其中首期2000万", [50_000_000_000, 2_000_000_000]),
        ("货款12345.67元", [1_234_567]),
        ("年产10万吨，出口1.2亿美元", []),  # a weight and a foreign currency are not RMB amounts
    ],
)
def test_amounts_normalised_to_cents(text, cents):
    assert enrich.amounts_cents(text) == cents


def test_credit_codes_need_a_valid_check_character():
    body = "91310000MA1FL4XQ0"
    good = body + uscc_check_char(body)
    bad = body + ("0" if good[-1] != "0" else "1")
    assert enrich.credit_codes(f"统一社会信用代码：{good}，另有{bad}") == [good]


def test_dates_regions_and_industries():
    text = "2026年11月28日，上海市与杭州发布支持汽车零部件和物流企业的政策，2026-12-01起施行"
    assert enrich.dates(text) == [date(2026, 11, 28), date(2026, 12, 1)]
    assert enrich.regions(text) == ["310000", "330100"]
    codes, terms = enrich.industries(text)
    assert codes == ["C36", "G54", "G58", "G59"]
    assert terms == ["汽车零部件", "物流"]  # 汽车 is inside 汽车零部件, not counted again


@pytest.mark.parametrize(
    "text, mood",
    [
        ("获政策支持，给予补贴和减税", "favourable"),
        ("被处以罚款并责令限产", "unfavourable"),
        ("公司未中标", "unfavourable"),  # negation flips 中标
        ("暴雨预警，但获补贴", "neutral"),
        ("国际油价上涨", "neutral"),
    ],
)
def test_sentiment_lexicon(text, mood):
    assert enrich.sentiment(text)[0] == mood


def test_event_kind_prefers_legal_over_contract():
    assert enrich.event_kind("某公司因合同纠纷被诉讼", "corporate_event") == "legal"
    assert enrich.event_kind("某公司中标道路工程", "tender_contract") == "tender_won"
    assert enrich.event_kind("上海发布暴雨预警", "policy") == "weather_warning"
    assert enrich.event_kind("公司流标，但签订了框架合同", "tender_contract") == "contract_signed"


def test_fingerprint_ignores_source_tags_punctuation_and_width():
    a = enrich.fingerprint("【快讯】上海出台支持汽车零部件企业高质量发展若干措施", "摘要一")
    b = enrich.fingerprint("上海出台支持汽车零部件企业高质量发展若干措施！", "另一个源的摘要")
    assert a == b
    # A short title is told apart by its summary.
    assert enrich.fingerprint("暴雨预警", "上海") != enrich.fingerprint("暴雨预警", "杭州")


def test_advance_ratio_and_term_from_text():
    text = "中标金额1.2亿元，工期18个月，预付款比例为15%"
    assert enrich.advance_ratio(text) == Decimal("0.15")
    assert enrich.term_months(text) == 18
    assert enrich.term_months("建设期2年") == 24


def test_funding_need_construction_hand_calculation():
    """V = 1.2亿, construction (E): a = 10%, c = 85%, D = 120 days, T = 12 months = 360 days.
    s = 1.2e8 × 0.85 / 360 = 283,333.33 元/天; P = s × 120 = 34,000,000; N = 34,000,000 − 12,000,000
    = 22,000,000 元; t0 = ceil(12,000,000 / 283,333.33) = ceil(42.35) = 43 days."""
    result = funding.estimate(contract_cents=12_000_000_000, start=date(2026, 11, 1), industry_code="E48")
    assert result["advance_cents"] == 1_200_000_000
    assert result["peak_cents"] == 3_400_000_000
    assert result["need_cents"] == 2_200_000_000
    assert result["need_from"] == "2026-12-14"  # 2026-11-01 + 43 days
    assert result["apply_by"] == "2026-11-14"  # 30 days earlier
    assert any("2200万元" in step for step in result["steps"])


def test_funding_need_manufacturing_with_terms_from_the_item():
    """V = 8,600万, manufacturing (C): c = 80%, D = 90; the item says a = 5% and T = 6 months (180 d).
    s = 8.6e7 × 0.8 / 180 = 382,222.22; P = s × 90 = 34,400,000; N = 34,400,000 − 4,300,000 =
    30,100,000 元; t0 = ceil(4,300,000 / 382,222.22) = ceil(11.25) = 12 days."""
    result = funding.estimate(
        contract_cents=8_600_000_000,
        start=date(2026, 11, 1),
        industry_code="C36",
        advance_ratio=Decimal("0.05"),
        term_months=6,
    )
    assert result["peak_cents"] == 3_440_000_000
    assert result["need_cents"] == 3_010_000_000
    assert result["need_from"] == "2026-11-13"
    assert result["steps"][1].endswith("（公告载明） = 430万元")


def test_funding_need_none_when_the_advance_covers_the_gap():
    """Manufacturing default a = 30%: P = V × 0.8 × 90/360 = 0.2 V < 0.3 V, so no gap."""
    result = funding.estimate(contract_cents=10_000_000_000, start=date(2026, 11, 1), industry_code="C39")
    assert result["need_cents"] == 0
    assert result["need_from"] is None
