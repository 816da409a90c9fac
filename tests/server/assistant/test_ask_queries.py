"""The labelled query set: exact intent on the development set and on the held-out set (written
before the parser and never used to tune it), plus the filters of the issue's own examples."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from server.assistant.ask_lexicon import Vocabulary
from server.assistant.ask_parse import INTENTS, parse
from server.demo import catalog, traits

HERE = Path(__file__).parent
TODAY = date(2026, 12, 4)  # a Friday


def load(name: str) -> list[tuple[str, str]]:
    rows = []
    for line in (HERE / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            intent, query = line.split("\t")
            rows.append((intent, query))
    return rows


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    products = [(i + 1, p["code"], p["name"], p["category"]) for i, p in enumerate(catalog.PRODUCTS)]
    return Vocabulary.build(products=products, tags=[t for t, _ in traits.TAGS])


def test_the_labelled_set_is_big_and_covers_every_intent():
    rows = load("ask_dev.tsv") + load("ask_holdout.tsv")
    assert len(rows) >= 300
    assert {intent for intent, _ in rows} == set(INTENTS)
    assert len({q for _, q in rows}) == len(rows)  # no query twice


@pytest.mark.parametrize("name", ["ask_dev.tsv", "ask_holdout.tsv"])
def test_exact_intent_accuracy_at_least_90_percent(vocab, name):
    rows = load(name)
    wrong = [(q, want, got) for want, q in rows if (got := parse(q, vocab=vocab, today=TODAY).intent) != want]
    accuracy = 1 - len(wrong) / len(rows)
    assert accuracy >= 0.9, wrong


def _filters(vocab, q):
    parsed = parse(q, vocab=vocab, today=TODAY)
    return parsed.intent, {f.key: f.value for f in parsed.filters}


def test_issue_examples_filters(vocab):
    intent, f = _filters(vocab, "浦东 制造业 下月存款到期")
    assert intent == "customers"
    assert f["region"] == "310000" and f["industry"] == "C" and f["category"] == "deposit"
    assert f["matures"] == {"from": "2027-01-01", "to": "2027-01-31"}
    intent, f = _filters(vocab, "我还没拜访过的高净值客户")
    assert intent == "customers" and f == {"tag": "高净值客户", "never_contacted": True}
    parsed = parse("张总的公司", vocab=vocab, today=TODAY)
    assert parsed.intent == "customer" and parsed.name == "张总"
    parsed = parse("本月完成率", vocab=vocab, today=TODAY)
    assert parsed.intent == "figure" and parsed.metric == "completion"
    intent, f = _filters(vocab, "上周的商机")
    assert intent == "opportunities" and f["date"] == {"from": "2026-11-23", "to": "2026-11-29"}


def test_durations_and_negation(vocab):
    assert _filters(vocab, "三个月没拜访的重要客户")[1] == {"tier": "high", "not_contacted_days": 90}
    assert _filters(vocab, "没买过保险的个人客户")[1] == {"lacks_category": "insurance", "kind": "individual"}
    assert _filters(vocab, "持有基金的客户")[1] == {"holds_category": "fund"}
    assert _filters(vocab, "下周到期的基金")[1]["matures"] == {"from": "2026-12-07", "to": "2026-12-13"}
