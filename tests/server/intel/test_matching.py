"""Matching on the labelled set (tests/server/intel/labelled.py): precision ≥ 0.9, recall ≥ 0.8 over
every (item, customer) pair, with the customers stored in the database and the index built from it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from server.customers.models import CorporateProfile, CustomerLink, CustomerTag, Tag
from server.intel.matching import MIN_ALERT_SCORE, CustomerIndex
from tests import factories
from tests.server.intel import labelled


@pytest.fixture(scope="module")
def labelled_bank(app, data_key_module):
    from sqlmodel import Session

    from server import db as server_db

    bank = labelled.build()
    with Session(server_db.engine_for(app), expire_on_commit=False) as session:
        rms = [factories.make_user(session) for _ in range(3)]
        ids: dict[int, int] = {}
        for c in bank.companies:
            customer = factories.make_customer(
                session,
                owner=rms[c.key % 3],
                name=c.name,
                data_key=data_key_module,
                region_code=c.region,
                industry_code=c.industry,
            )
            profile = session.get(CorporateProfile, customer.id)
            profile.short_name = c.short_name
            c.credit_code = profile.credit_code
            session.add(profile)
            ids[c.key] = customer.id
        for a, b, kind in bank.links:
            session.add(CustomerLink(from_customer_id=ids[a], to_customer_id=ids[b], kind=kind))
        for tag_name in ("专精特新", "高新技术企业"):
            tag = session.exec(select(Tag).where(Tag.name == tag_name)).first()
            if tag is None:
                tag = Tag(name=tag_name, category="value")
                session.add(tag)
                session.flush()
            for c in bank.companies:
                if tag_name in c.tags:
                    session.add(CustomerTag(customer_id=ids[c.key], tag_id=tag.id))
        session.commit()
        index = CustomerIndex.build(session)
    by_key = {c.key: c for c in bank.companies}
    for item in bank.items:
        if "{credit:" in item.summary:
            key = int(item.summary.split("{credit:")[1].split("}")[0])
            item.summary = item.summary.replace(f"{{credit:{key}}}", by_key[key].credit_code)
    return bank, ids, index


@pytest.fixture(scope="module")
def data_key_module(app) -> str:
    return app.config["SETTINGS"].DATA_KEY


def test_labelled_set_precision_and_recall(labelled_bank):
    bank, ids, index = labelled_bank
    ours = {cid: key for key, cid in ids.items()}
    assert bank.pairs() >= 200
    tp = fp = fn = 0
    misses: list[str] = []
    for item in bank.items:
        _e, _found, matches = index.match(
            title=item.title, summary=item.summary, category=item.category, published=date(2026, 11, 28)
        )
        predicted = {
            ours[m.customer_id] for m in matches if m.customer_id in ours and m.score >= MIN_ALERT_SCORE
        }
        tp += len(predicted & item.truth)
        fp += len(predicted - item.truth)
        fn += len(item.truth - predicted)
        if predicted != item.truth:
            misses.append(
                f"{item.kind}: {item.title} +{len(predicted - item.truth)} -{len(item.truth - predicted)}"
            )
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    print(
        f"\nintel matching on {bank.pairs()} labelled pairs ({len(bank.items)} items × {len(bank.companies)} "
        f"customers): precision={precision:.3f} recall={recall:.3f} (tp={tp} fp={fp} fn={fn})"
    )
    for miss in misses:
        print("  differs:", miss)
    assert precision >= 0.9
    assert recall >= 0.8


def test_reasons_are_chinese_and_name_the_signal(labelled_bank):
    bank, ids, index = labelled_bank
    policy = next(i for i in bank.items if i.kind == "regional_policy")
    _e, _f, matches = index.match(
        title=policy.title, summary=policy.summary, category="policy", published=date(2026, 11, 28)
    )
    ours = set(ids.values())
    reasons = [m.reason for m in matches if m.customer_id in ours]
    assert reasons and all(r.startswith("该客户所在行业(") and "获政策支持" in r for r in reasons)


def test_industry_words_in_a_company_name_do_not_broadcast(labelled_bank):
    """A tender won by 上海XX汽车配件有限公司 concerns that company, not every auto customer in 上海."""
    bank, ids, index = labelled_bank
    item = next(i for i in bank.items if i.kind == "named_full")
    _e, found, matches = index.match(
        title=item.title, summary=item.summary, category=item.category, published=date(2026, 11, 28)
    )
    ours = {cid: key for key, cid in ids.items()}
    assert {ours[m.customer_id] for m in matches if m.customer_id in ours} == item.truth
    assert any(f.how == "name" for f in found)
