"""Knowledge degree (知彼度): the hand-computed model, SQL = reference, batch = incremental, profile
changes rescored through the real event sink and RQ worker, visits raising the score."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from sqlmodel import select

from server import events
from server.customers.models import Contact, CustomerKind, CustomerLink
from server.knowledge import model as knowledge_model
from server.knowledge import scores as knowledge_scores
from server.knowledge.models import CustomerFact, KnowledgeScore
from server.org.models import Role
from server.timeutil import utcnow
from tasks.knowledge import on_event as knowledge_sink
from tasks.queues import LOW, queue
from tests import factories


def _facts(db_session, customer, **ages_in_days):
    now = utcnow()
    for key, age in ages_in_days.items():
        db_session.add(
            CustomerFact(
                customer_id=customer.id,
                fact_key=key,
                value_summary="x",
                learned_at=now - timedelta(days=age),
                source="visit",
            )
        )
    db_session.commit()
    return now


def test_hand_computed_corporate_example():
    """Three facts on a corporate customer, by hand:
    basic 20: industry fresh 3/15 -> 20.0; decision makers 25: decision_maker (5) one half-life old
    -> 2.5/17 -> 14.70588; company profile 35: funding_need (5) one half-life old -> 2.5/28 -> 8.92857;
    history 20: 0. Total = (20*20 + 25*14.70588 + 35*8.92857) / 100 = 10.80147."""
    model = knowledge_model.model_from_overrides({})
    now = utcnow()
    result = knowledge_model.score_facts(
        "corporate",
        {
            "industry": now,
            "decision_maker": now - timedelta(days=365),
            "funding_need": now - timedelta(days=180),
        },
        model,
        now,
    )
    assert result.dims["basic"] == pytest.approx(20.0)
    assert result.dims["decision_makers"] == pytest.approx(250 / 17)
    assert result.dims["company_profile"] == pytest.approx(250 / 28)
    assert result.dims["history"] == 0
    assert result.total == pytest.approx((400 + 6250 / 17 + 312.5) / 100)  # 10.80147
    # Most valuable next questions: financing history and milestones (20 * 3/10 = 6.0 points each, by
    # key), then the finance head (25 * 4/17 = 5.88), then other banks and revenue (35 * 4/28 = 5.0);
    # facts at exactly half freshness are not yet stale.
    assert [g.key for g in result.gaps[:5]] == [
        "financing_history",
        "milestones",
        "finance_head",
        "other_banks",
        "revenue",
    ]
    assert result.gaps[0].value == pytest.approx(6.0)
    assert result.gaps[2].value == pytest.approx(25 * 4 / 17)
    assert result.gaps[2].question.startswith("财务总监")
    assert {g.key for g in result.gaps}.isdisjoint({"industry", "decision_maker", "funding_need"})


def test_stale_fact_is_asked_again():
    model = knowledge_model.model_from_overrides({})
    now = utcnow()
    result = knowledge_model.score_facts(
        "individual", {"financial_goals": now - timedelta(days=360)}, model, now
    )
    # personal profile: 4 * 0.25 of 15 -> 6.67; gain if re-verified = 30 * 4/15 * 0.75 = 6.0
    assert result.dims["personal_profile"] == pytest.approx(100 * 1 / 15)
    stale = next(g for g in result.gaps if g.key == "financial_goals")
    assert stale.status == "stale" and stale.value == pytest.approx(6.0)
    assert stale.question.startswith("再核实")


def test_admin_weights_change_the_model():
    model = knowledge_model.model_from_overrides(
        knowledge_model.validate_overrides(
            {"dimensions": {"corporate.history": {"weight": 0}}, "facts": {"industry": 15}}
        )
    )
    now = utcnow()
    result = knowledge_model.score_facts("corporate", {"industry": now}, model, now)
    # basic: 15 of 27 -> 55.56, weighted 20 of the remaining 80
    assert result.total == pytest.approx(20 * (100 * 15 / 27) / 80)


def test_sql_score_matches_the_reference(db_session, data_key):
    rm = factories.make_user(db_session)
    customer = factories.make_customer(db_session, owner=rm, data_key=data_key)
    now = _facts(db_session, customer, industry=0, decision_maker=365, funding_need=180, milestones=40)
    knowledge_scores.recompute(db_session, customer_ids=[customer.id], now=now)
    db_session.commit()
    stored = db_session.get(KnowledgeScore, customer.id)
    db_session.refresh(stored)
    facts = db_session.exec(select(CustomerFact).where(CustomerFact.customer_id == customer.id)).all()
    reference = knowledge_model.score_facts(
        "corporate", {f.fact_key: f.learned_at for f in facts}, knowledge_model.load_model(db_session), now
    )
    assert stored.total == pytest.approx(reference.total, abs=1e-6)
    assert stored.dims["basic"] == pytest.approx(20.0)
    assert stored.dims["history"] == pytest.approx(reference.dims["history"], abs=0.01)


def test_batch_equals_incremental(db_session, data_key):
    rm = factories.make_user(db_session)
    made = [
        factories.make_customer(db_session, owner=rm, data_key=data_key),
        factories.make_customer(
            db_session, owner=rm, kind=CustomerKind.individual, data_key=data_key, gender="F"
        ),
        factories.make_customer(db_session, owner=rm, data_key=data_key, phone=None),
    ]
    db_session.add(Contact(customer_id=made[0].id, name="王总", title="董事长", role="decision_maker"))
    db_session.add(
        Contact(
            customer_id=made[0].id,
            name="李会计",
            title="财务总监",
            role="influencer",
            preferences="喜欢打高尔夫",
        )
    )
    db_session.add(CustomerLink(from_customer_id=made[1].id, to_name="张三", kind="family", label="配偶"))
    db_session.commit()
    _facts(db_session, made[1], financial_goals=30, education=800)
    _facts(db_session, made[0], funding_need=10)
    ids = [c.id for c in made]
    at = utcnow()
    knowledge_scores.refresh_customers(db_session, customer_ids=ids, now=at)
    db_session.commit()
    incremental = {
        s.customer_id: (s.total, s.dims)
        for s in db_session.exec(select(KnowledgeScore).where(KnowledgeScore.customer_id.in_(ids))).all()
    }
    knowledge_scores.recompute_all(db_session, now=at)
    batch = {}
    for cid in ids:
        row = db_session.get(KnowledgeScore, cid)
        db_session.refresh(row)
        batch[cid] = (row.total, row.dims)
    for cid in ids:  # the same statement; only the order of floating-point summation may differ
        assert batch[cid][0] == pytest.approx(incremental[cid][0], abs=1e-9)
        assert batch[cid][1] == incremental[cid][1]
    assert incremental[made[0].id][0] > incremental[made[2].id][0] > 0  # contacts and phone count
    keys = {
        f.fact_key
        for f in db_session.exec(select(CustomerFact).where(CustomerFact.customer_id == made[0].id))
    }
    assert {
        "decision_maker",
        "finance_head",
        "dm_preferences",
        "contact_network",
        "industry",
        "office_phone",
        "funding_need",
    } <= keys
    individual = {
        f.fact_key: f.value_summary
        for f in db_session.exec(select(CustomerFact).where(CustomerFact.customer_id == made[1].id))
    }
    assert individual["family"] == "1" and individual["birth_date"] == "已登记"
    assert individual["mobile"] == "138****5678"  # never the full number


def test_profile_change_is_rescored_by_the_worker(app, db_session, data_key, login, worker):
    rm = factories.make_user(db_session)
    customer = factories.make_customer(db_session, owner=rm, data_key=data_key)
    api = login(rm)
    events.add_sink(knowledge_sink)
    try:
        response = api.patch(
            f"/api/v1/customers/{customer.id}",
            json={"version": 1, "corporate": {"revenue_cents": 5_000_000_00, "main_products": "汽车座椅"}},
        )
        assert response.status_code == 200, response.get_json()
    finally:
        events.remove_sink(knowledge_sink)
    worker.work(burst=True)
    nightly = ScheduledJobRegistry(queue=queue(LOW)).get_job_ids()
    assert any(job_id.startswith("knowledge-nightly-") for job_id in nightly)  # the nightly batch is booked
    db_session.expire_all()
    keys = {
        f.fact_key
        for f in db_session.exec(select(CustomerFact).where(CustomerFact.customer_id == customer.id))
    }
    assert {"revenue", "main_products", "industry"} <= keys
    score = db_session.get(KnowledgeScore, customer.id)
    assert score is not None and score.dims["company_profile"] == pytest.approx(100 * 7 / 28, abs=0.01)
    summary = api.get("/api/v1/knowledge/summary").get_json()
    assert summary["customers"] == 1 and summary["average"] == pytest.approx(score.total, abs=0.05)
    assert sum(b["customers"] for b in summary["distribution"]) == 1


def test_visit_raises_score_and_is_idempotent(db_session, data_key, login):
    rm = factories.make_user(db_session)
    customer = factories.make_customer(db_session, owner=rm, data_key=data_key)
    api = login(rm)
    before = api.get(f"/api/v1/knowledge/customers/{customer.id}").get_json()
    key = str(uuid.uuid4())
    visit = {
        "channel": "visit",
        "occurred_at": utcnow().isoformat(),
        "location": "客户办公室",
        "attendees": "王总、李会计",
        "outcome": "了解到下季度有扩产计划",
        "next_step": "送授信方案",
        "next_step_at": (utcnow() + timedelta(days=3)).isoformat(),
        "facts": [
            {"key": "funding_need", "value": "扩产需贷款约2000万"},
            {"key": "other_banks", "value": "工行、招行"},
        ],
    }
    first = api.post(f"/api/v1/customers/{customer.id}/visits", json=visit, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    # 35 * (5 + 4) / 28 = 11.25 points more
    assert body["knowledge"]["total"] == pytest.approx(body["knowledge_before"] + 11.25, abs=0.1)
    assert body["knowledge"]["total"] > before["total"]
    # the next step became a notebook reminder on this customer
    note = api.get(f"/api/v1/notes/{body['visit']['reminder_note_id']}").get_json()
    assert note["customer_id"] == customer.id and "送授信方案" in note["body"] and note["remind_at"]
    again = api.post(f"/api/v1/customers/{customer.id}/visits", json=visit, headers={"Idempotency-Key": key})
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == body
    view = api.get(f"/api/v1/customers/{customer.id}/360").get_json()
    assert sum(1 for t in view["timeline"] if t["kind"] == "visit") == 1
    asked = [q["key"] for q in view["knowledge"]["next_visit_questions"]]
    assert "funding_need" not in asked and "decision_maker" in asked


def test_visit_rejects_facts_of_the_other_kind(db_session, data_key, login):
    rm = factories.make_user(db_session)
    customer = factories.make_customer(db_session, owner=rm, data_key=data_key)
    response = login(rm).post(
        f"/api/v1/customers/{customer.id}/visits",
        json={
            "channel": "call",
            "occurred_at": utcnow().isoformat(),
            "outcome": "电话沟通",
            "facts": [{"key": "financial_goals", "value": "养老"}],
        },
    )
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "facts.0.key"


def test_360_of_another_rms_customer_is_404(db_session, data_key, login):
    owner = factories.make_user(db_session)
    other = factories.make_user(db_session)
    customer = factories.make_customer(db_session, owner=owner, data_key=data_key)
    api = login(other)
    assert api.get(f"/api/v1/customers/{customer.id}/360").status_code == 404
    assert api.get(f"/api/v1/knowledge/customers/{customer.id}").status_code == 404
    response = api.post(
        f"/api/v1/customers/{customer.id}/visits",
        json={"channel": "call", "occurred_at": utcnow().isoformat(), "outcome": "x"},
    )
    assert response.status_code == 404


def test_admin_configures_weights(db_session, data_key, login, worker):
    admin = factories.make_user(db_session, role=Role.admin, persona=None)
    rm = factories.make_user(db_session)
    customer = factories.make_customer(db_session, owner=rm, data_key=data_key)
    now = _facts(db_session, customer, funding_need=0)
    knowledge_scores.recompute(db_session, customer_ids=[customer.id], now=now)
    db_session.commit()
    api = login(admin)
    current = api.get("/api/v1/admin/workbench-config/knowledge").get_json()
    bad = api.put(
        "/api/v1/admin/workbench-config/knowledge",
        json={"value": {"facts": {"nope": 3}}, "version": current["version"]},
    )
    assert bad.status_code == 422
    assert (
        login(rm)
        .put("/api/v1/admin/workbench-config/knowledge", json={"value": {}, "version": current["version"]})
        .status_code
        == 403
    )
    events.add_sink(knowledge_sink)
    try:
        good = api.put(
            "/api/v1/admin/workbench-config/knowledge",
            json={"value": {"facts": {"funding_need": 33}}, "version": current["version"]},
        )
    finally:
        events.remove_sink(knowledge_sink)
    assert good.status_code == 200, good.get_json()
    worker.work(burst=True)  # the weight change enqueued the batch recompute
    db_session.expire_all()
    # company profile: funding need now weighs 33 of 56 (was 5 of 28) -> 58.93
    stored = db_session.get(KnowledgeScore, customer.id)
    assert stored.dims["company_profile"] == pytest.approx(100 * 33 / 56, abs=0.01)
    stale = api.put(
        "/api/v1/admin/workbench-config/knowledge", json={"value": {}, "version": current["version"]}
    )
    assert stale.status_code == 412
    restored = api.put(
        "/api/v1/admin/workbench-config/knowledge", json={"value": {}, "version": good.get_json()["version"]}
    )
    assert restored.status_code == 200


def test_360_graph_timeline_and_holdings(db_session, data_key, login):
    from datetime import date

    from server.customers.models import CustomerEvent
    from server.performance.models import PerformanceEntry
    from server.products.models import Holding, Product

    rm = factories.make_user(db_session)
    other_rm = factories.make_user(db_session)
    company = factories.make_customer(db_session, owner=rm, data_key=data_key)
    buyer = factories.make_customer(db_session, owner=rm, data_key=data_key)
    foreign = factories.make_customer(db_session, owner=other_rm, data_key=data_key)
    product = Product(
        code=factories.unique("G")[:16], name="流贷", category="loan", segment="corporate", terms="1年"
    )
    db_session.add(product)
    db_session.add(
        Contact(customer_id=company.id, name="王总", title="董事长", role="decision_maker", influence=5)
    )
    db_session.add(
        CustomerLink(from_customer_id=company.id, to_name="某钢铁集团", kind="supplier", label="钢材")
    )
    db_session.add(CustomerLink(from_customer_id=buyer.id, to_customer_id=company.id, kind="supplier"))
    db_session.add(CustomerLink(from_customer_id=foreign.id, to_customer_id=company.id, kind="buyer"))
    db_session.add(
        CustomerEvent(customer_id=company.id, occurred_on=date(2015, 6, 1), kind="founded", title="公司成立")
    )
    db_session.commit()
    db_session.add(
        Holding(
            customer_id=company.id,
            product_id=product.id,
            loan_balance_cents=5_000_000,
            opened_on=date(2026, 1, 5),
        )
    )
    db_session.add(
        PerformanceEntry(
            rm_id=rm.id,
            booked_on=date(2026, 1, 5),
            kind="new_business",
            amount_cents=5_000_000,
            customer_id=company.id,
            product_id=product.id,
        )
    )
    db_session.commit()
    view = login(rm).get(f"/api/v1/customers/{company.id}/360").get_json()
    labels = {n["label"] for n in view["graph"]["nodes"]}
    assert {"王总(董事长)", "某钢铁集团", buyer.name, company.name} <= labels
    assert foreign.name not in labels  # another RM's customer does not show up in my graph
    kinds = {(e["kind"], e["label"]) for e in view["graph"]["edges"]}
    assert ("decision_maker", "董事长") in kinds and ("supplier", "钢材") in kinds
    assert view["holdings_total"] == {"balance_cents": 0, "loan_balance_cents": 5_000_000, "products": 1}
    timeline = {(t["kind"], t["title"]) for t in view["timeline"]}
    assert ("event", "公司成立") in timeline and any(k == "transaction" for k, _ in timeline)
    assert view["knowledge"]["dimensions"][1]["score"] > 0  # the decision maker counts


def test_the_pwa_english_catalogue_covers_every_dimension_and_fact_of_the_server_catalogue():
    """The catalogue's labels come from the server in Chinese; the PWA's English catalog is keyed by
    its codes. A fact or dimension added (or renamed) on one side only fails here."""
    import re
    from pathlib import Path

    from server.knowledge.catalogue import CATALOGUE, FACT_KEYS

    text = (Path(__file__).parents[3] / "pwa/src/features/workbench/knowledgeText.ts").read_text("utf-8")
    facts = dict(
        re.findall(r"^  (\w+): \['([^']+)', ", text, re.M)
        + re.findall(r'^  (\w+): \["([^"]+)", ', text, re.M)
    )
    dimensions = set(re.findall(r"^  '(\w+\.\w+)': ", text, re.M))
    assert set(facts) == set(FACT_KEYS)
    assert dimensions == {f"{kind}.{d.code}" for kind, dims in CATALOGUE.items() for d in dims}
    assert all(re.fullmatch(r"[\x20-\x7e]+", label) for label in facts.values()), "English labels only"
