"""The prospects API: access rules, claims (exclusive, audited, returning), reasons and paths on a
hand-made graph, conversions, coverage, training by a real worker and the admin's hit rates."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlmodel import select

from server.audit.models import AuditEntry
from server.customers.models import CorporateProfile, CustomerLink
from server.org.models import Role
from server.prospects import claims, conversions
from server.prospects.detail import shortest_path
from server.prospects.models import Prospect, ProspectClaim, ProspectModel, ProspectScore, ProspectTruth
from server.timeutil import utcnow
from tests import factories
from tests.server.prospects.conftest import link, make_prospect


def key() -> dict:
    return {"Idempotency-Key": uuid.uuid4().hex}


def ids(response) -> set[int]:
    return {p["id"] for p in response.get_json()["items"]}


def test_a_claimed_prospect_is_exclusive_audited_and_invisible_to_others(world, login, db_session):
    a, b = login(world["a"]), login(world["b"])
    target = world["prospects"][0]
    r = a.post(f"/api/v1/prospects/{target.id}/claim", headers=key())
    assert r.status_code == 200, r.get_json()
    # B never sees A's claim: not in the list, not by id, cannot claim it.
    assert target.id not in ids(b.get(f"/api/v1/prospects?{world['near'](5)}&limit=200"))
    assert b.get(f"/api/v1/prospects/{target.id}").status_code == 404
    assert b.post(f"/api/v1/prospects/{target.id}/claim", headers=key()).status_code == 404
    assert b.get("/api/v1/prospects?mine=true").get_json()["items"] == []
    mine = a.get("/api/v1/prospects?mine=true").get_json()["items"]
    assert [p["id"] for p in mine] == [target.id] and mine[0]["claimed_by_me"]
    audit = db_session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "prospect.claim", AuditEntry.object_id == str(target.id)
        )
    ).all()
    assert [e.actor_id for e in audit] == [world["a"].id]
    # Release: everyone sees it again, the claim's history stays.
    assert a.post(f"/api/v1/prospects/{target.id}/release", headers=key()).status_code == 200
    assert target.id in ids(b.get(f"/api/v1/prospects?{world['near'](5)}&limit=200"))
    claims = db_session.exec(select(ProspectClaim).where(ProspectClaim.prospect_id == target.id)).all()
    assert [c.end_reason for c in claims] == ["released"]


def test_a_lapsed_claim_returns_to_everyone(world, login, db_session, app):
    a, b = login(world["a"]), login(world["b"])
    target = world["prospects"][1]
    assert a.post(f"/api/v1/prospects/{target.id}/claim", headers=key()).status_code == 200
    db_session.expire_all()
    claim = db_session.exec(select(ProspectClaim).where(ProspectClaim.prospect_id == target.id)).one()
    until = db_session.get(Prospect, target.id).claimed_until
    assert (until - claim.claimed_at).days == app.config["SETTINGS"].PROSPECT_CLAIM_DAYS
    db_session.execute(
        Prospect.__table__.update()
        .where(Prospect.__table__.c.id == target.id)
        .values(claimed_until=utcnow() - timedelta(minutes=1))
    )
    db_session.commit()
    assert b.get(f"/api/v1/prospects/{target.id}").status_code == 200
    assert b.post(f"/api/v1/prospects/{target.id}/claim", headers=key()).status_code == 200
    assert a.get(f"/api/v1/prospects/{target.id}").status_code == 404
    db_session.expire_all()
    reasons = [
        c.end_reason
        for c in db_session.exec(
            select(ProspectClaim).where(ProspectClaim.prospect_id == target.id).order_by(ProspectClaim.id)
        ).all()
    ]
    assert reasons == ["expired", None]


def test_expire_sweep_ends_lapsed_claims(world, db_session):
    target = world["prospects"][2]
    claims.claim(db_session, user=world["a"], prospect_id=target.id)
    assert claims.expire_claims(db_session, now=utcnow() + timedelta(days=400)) >= 1
    db_session.expire_all()
    assert db_session.get(Prospect, target.id).claimed_by is None
    assert (
        db_session.exec(select(ProspectClaim).where(ProspectClaim.prospect_id == target.id)).one().end_reason
        == "expired"
    )


def test_personal_prospects_need_a_lawful_source(world, login, db_session):
    lat, lng = world["center"]
    person = make_prospect(
        db_session,
        name="王某某",
        kind="individual",
        credit_code=None,
        lawful_for_marketing=False,
        lat=lat,
        lng=lng,
    )
    lawful = make_prospect(
        db_session,
        name="李某某",
        kind="individual",
        credit_code=None,
        lawful_for_marketing=True,
        lat=lat,
        lng=lng,
    )
    a = login(world["a"])
    found = ids(a.get(f"/api/v1/prospects?{world['near'](5)}&limit=200"))
    assert lawful.id in found and person.id not in found
    assert a.get(f"/api/v1/prospects/{person.id}").status_code == 404


def test_roles_without_prospects_are_refused(world, login, db_session):
    admin = factories.make_user(db_session, role=Role.admin, persona=None)
    risk = factories.make_user(db_session, role=Role.risk_officer, persona=None)
    for user in (admin, risk):
        assert login(user).get("/api/v1/prospects").status_code == 403
    assert (
        login(world["lead"])
        .post(f"/api/v1/prospects/{world['prospects'][0].id}/claim", headers=key())
        .status_code
        == 403
    )
    assert login(world["a"]).get("/api/v1/prospects/coverage").status_code == 403
    assert login(world["a"]).get("/api/v1/prospects/models").status_code == 403


def test_near_filter_and_bad_query(world, login, db_session):
    far = make_prospect(db_session, lat=39.9, lng=116.4, region_code="110000")
    a = login(world["a"])
    near = a.get(f"/api/v1/prospects?{world['near'](2)}&limit=200").get_json()["items"]
    assert far.id not in {p["id"] for p in near}
    assert all(p["distance_km"] <= 2 for p in near)
    assert world["prospects"][3].id in {p["id"] for p in near}
    r = a.get("/api/v1/prospects?near=91,0,1")
    assert r.status_code == 422 and r.get_json()["code"] == "validation"


def test_reasons_path_and_masked_similar_customers(world, login, db_session):
    a_customer, b_customer = world["customers"][0], world["customers"][1]  # A's and B's
    start, middle, other = (
        make_prospect(db_session, name=n)
        for n in ("上海起点电子有限公司", "上海中转电子有限公司", "上海另一电子有限公司")
    )
    link(db_session, start, kind="supplier", other=middle)
    link(db_session, middle, kind="buyer", customer_id=b_customer.id)
    link(db_session, other, kind="supplier", other=start)  # a longer way round, never preferred
    detail = login(world["a"]).get(f"/api/v1/prospects/{start.id}").get_json()
    path = detail["reasons"]["path"]
    assert [s["kind"] for s in path] == ["prospect", "prospect", "customer"]
    assert path[1]["name"] == "上海中转电子有限公司" and path[1]["via"] == "供应商"
    assert path[2]["name"] != b_customer.name and "*" in path[2]["name"]  # B's customer, masked for A
    assert (
        detail["reasons"]["path_text"]
        == f"供应商 → 上海中转电子有限公司 → 采购方 → {path[2]['name']}（我行客户）"
    )
    similar = detail["reasons"]["similar_customers"]
    assert len(similar) == 3
    for s in similar:
        assert s["mine"] or ("*" in s["name"] and s["id"] is None)
    assert "propensity" not in str(detail) and "truth" not in str(detail)
    # Direct tie: a path of one step, to A's own customer, unmasked.
    direct = make_prospect(db_session)
    link(db_session, direct, kind="shareholder", customer_id=a_customer.id)
    path = login(world["a"]).get(f"/api/v1/prospects/{direct.id}").get_json()["reasons"]["path"]
    assert path[-1] == {"kind": "customer", "name": a_customer.name, "via": "股东"}
    assert shortest_path(db_session, prospect=world["prospects"][4], user=world["a"]) is None
    views = db_session.exec(
        select(AuditEntry).where(AuditEntry.action == "prospect.view", AuditEntry.object_id == str(start.id))
    ).all()
    assert len(views) == 1


def test_conversion_keeps_history_and_counts_in_coverage_and_hit_rate(world, login, db_session, data_key):
    a = login(world["a"])
    target = make_prospect(db_session, name="上海将转化科技有限公司")
    visited = world["prospects"][5]
    for p in (target, visited):
        assert a.post(f"/api/v1/prospects/{p.id}/claim", headers=key()).status_code == 200
    assert (
        a.post(
            f"/api/v1/prospects/{visited.id}/activities",
            json={"kind": "visited", "note": "首访"},
            headers=key(),
        ).status_code
        == 201
    )
    assert (
        a.post(
            f"/api/v1/prospects/{target.id}/activities", json={"kind": "visit_planned"}, headers=key()
        ).status_code
        == 201
    )
    # A model version that scored the target in its top 5 %.
    model = ProspectModel(seeds_kind="default", status="done", params={}, owner_id=world["b"].id)
    db_session.add(model)
    db_session.commit()
    db_session.add(ProspectScore(model_id=model.id, prospect_id=target.id, score=99.0, raw=2.0))
    db_session.add(ProspectScore(model_id=model.id, prospect_id=visited.id, score=10.0, raw=-2.0))
    db_session.commit()
    # The firm becomes A's customer with the same credit code.
    customer = factories.make_customer(
        db_session, owner=world["a"], data_key=data_key, name="上海将转化科技有限公司"
    )
    profile = db_session.get(CorporateProfile, customer.id)
    profile.credit_code = target.credit_code
    db_session.add(profile)
    db_session.commit()
    db_session.expire_all()
    assert conversions.record_conversions(db_session) >= 1
    db_session.expire_all()
    converted = db_session.get(Prospect, target.id)
    assert converted.status == "converted" and converted.customer_id == customer.id
    assert (
        db_session.exec(select(ProspectClaim).where(ProspectClaim.prospect_id == target.id)).one().end_reason
        == "converted"
    )
    assert target.id not in ids(a.get("/api/v1/prospects?mine=true"))
    cover = login(world["lead"]).get("/api/v1/prospects/coverage").get_json()
    shanghai = next(r for r in cover["items"] if r["region_code"] == "310000")
    assert shanghai["converted"] >= 1 and shanghai["visited"] >= 1 and shanghai["claimed"] >= 1
    admin = factories.make_user(db_session, role=Role.admin, persona=None)
    versions = login(admin).get("/api/v1/prospects/models").get_json()["items"]
    mine = next(v for v in versions if v["id"] == model.id)
    assert mine["scored"] == 2 and mine["converted"] == 1
    assert mine["top5_scored"] == 1 and mine["hit_rate_top5"] == 1.0 and mine["conversion_rate"] == 0.5


def test_activities_need_a_claim(world, login):
    r = login(world["b"]).post(
        f"/api/v1/prospects/{world['prospects'][3].id}/activities", json={"kind": "visited"}, headers=key()
    )
    assert r.status_code == 409 and r.get_json()["code"] == "prospect-not-claimed"


def test_an_rm_trains_a_version_on_own_seeds_with_a_real_worker(world, login, db_session, worker, sinks):
    a = login(world["a"])
    own = [c.id for c in world["customers"] if c.owner_id == world["a"].id]
    r = a.post(
        "/api/v1/prospects/models",
        json={"seeds_kind": "customers", "customer_ids": [world["customers"][1].id]},
        headers=key(),
    )
    assert r.status_code == 404  # B's customer is not a seed A may use
    r = a.post(
        "/api/v1/prospects/models", json={"seeds_kind": "customers", "customer_ids": own}, headers=key()
    )
    assert r.status_code == 202
    model_id = r.get_json()["id"]
    worker.work(burst=True)
    model = login(world["a"]).get(f"/api/v1/prospects/models/{model_id}").get_json()
    assert len(own) < 10
    assert model["status"] == "failed" and "seeds" in model["error"]
    assert login(world["b"]).get(f"/api/v1/prospects/models/{model_id}").status_code == 404


def test_training_scores_every_open_prospect_and_orders_the_list(
    world, login, db_session, data_key, worker, sinks
):
    rm = world["a"]
    seeds = [
        factories.make_customer(
            db_session, owner=rm, data_key=data_key, industry_code="C27", size=("medium", "large")[k % 2]
        )
        for k in range(14)
    ]
    for k in range(0, 14, 2):  # the seeds trade with each other, as a bank's book does
        db_session.add(
            CustomerLink(from_customer_id=seeds[k].id, to_customer_id=seeds[k + 1].id, kind="supplier")
        )
    db_session.commit()
    alike = [make_prospect(db_session, industry_code="C27", size="medium") for _ in range(5)]
    for p in alike[:2]:
        link(db_session, p, kind="supplier", customer_id=seeds[0].id)
    r = login(rm).post(
        "/api/v1/prospects/models",
        json={"seeds_kind": "customers", "customer_ids": [c.id for c in seeds]},
        headers=key(),
    )
    assert r.status_code == 202
    worker.work(burst=True)
    model = db_session.get(ProspectModel, r.get_json()["id"])
    db_session.refresh(model)
    assert model.status == "done", model.error
    open_count = len(  # firms: people are never scored
        db_session.exec(
            select(Prospect.id).where(Prospect.status == "open", Prospect.kind == "corporate")
        ).all()
    )
    assert model.scored == open_count
    assert (
        len(db_session.exec(select(ProspectScore).where(ProspectScore.model_id == model.id)).all())
        == open_count
    )
    # Idempotent: running it again replaces the scores, it does not add to them.
    from server.prospects.training import run_training

    run_training(db_session, model_id=model.id)
    assert (
        len(db_session.exec(select(ProspectScore).where(ProspectScore.model_id == model.id)).all())
        == open_count
    )
    items = login(rm).get("/api/v1/prospects?limit=200").get_json()["items"]
    scores = [p["score"] for p in items if p["score"] is not None]
    assert scores == sorted(scores, reverse=True)
    top = {p["id"] for p in items[:5]}
    assert {p.id for p in alike[:2]} <= top  # like the seeds and tied to one
    detail = login(rm).get(f"/api/v1/prospects/{alike[0].id}").get_json()
    assert detail["model_id"] == model.id
    texts = [f["text"] for f in detail["reasons"]["factors"]]
    assert 1 <= len(texts) <= 3 and any("医药制造业" in t or "种子客户" in t for t in texts)


def test_the_planted_truth_is_never_served(world, login, db_session):
    db_session.add(ProspectTruth(prospect_id=world["prospects"][0].id, propensity=0.987654, good=True))
    db_session.commit()
    a = login(world["a"])
    for url in (
        "/api/v1/prospects?limit=200",
        f"/api/v1/prospects/{world['prospects'][0].id}",
        "/api/v1/prospects/map",
    ):
        body = a.get(url).get_data(as_text=True)
        assert "0.987654" not in body and "propensity" not in body
    import pathlib

    for path in pathlib.Path("server/prospects").glob("*.py"):
        if path.name != "models.py":
            assert "ProspectTruth" not in path.read_text() and "prospect_truth" not in path.read_text()


def test_map_has_my_customers_and_prospects_and_the_offline_base_map(world, login):
    a = login(world["a"])
    data = a.get(f"/api/v1/prospects/map?{world['near'](10)}").get_json()
    assert {c["id"] for c in data["customers"]} >= {
        c.id for c in world["customers"] if c.owner_id == world["a"].id
    }
    assert not {c["id"] for c in data["customers"]} & {
        c.id for c in world["customers"] if c.owner_id == world["b"].id
    }
    assert data["prospects"] and data["tile_url"] is None
    base = a.get("/api/v1/prospects/basemap")
    kinds = {f["properties"]["kind"] for f in base.get_json()["features"]}
    assert {"boundary", "ring_road", "road", "river", "label"} <= kinds
    assert "max-age" in base.headers["Cache-Control"]


def test_a_prospects_reasons_see_the_graph_features_the_model_was_trained_on(world, db_session):
    """The card's graph features (a few queries for one prospect) equal the columns the training job
    computes for the whole universe: direct ties, two steps to a VIP through a prospect or through a
    customer, the seeds' park."""
    import numpy as np

    from server.prospects import lookalike
    from server.prospects.detail import _features_of
    from server.prospects.features import build_graph, load_book, load_universe

    vip, plain, seed = world["customers"][2], world["customers"][3], world["customers"][4]
    vip.tier = "vip"
    db_session.add(vip)
    db_session.add(CustomerLink(from_customer_id=plain.id, to_customer_id=vip.id, kind="supplier"))
    park = f"测试产业园{uuid.uuid4().hex[:4]}"
    direct, via_customer, middle, via_prospect, in_park, alone = (
        make_prospect(db_session, park=park if k == 4 else None) for k in range(6)
    )
    link(db_session, direct, customer_id=vip.id)
    link(db_session, via_customer, kind="buyer", customer_id=plain.id)
    link(db_session, middle, customer_id=vip.id)
    link(db_session, via_prospect, other=middle)
    park_mate = make_prospect(db_session, park=park)
    link(db_session, park_mate, kind="park", customer_id=seed.id)
    model = ProspectModel(seeds_kind="customers", status="done", seed_ids=[seed.id], params={})
    db_session.add(model)
    db_session.commit()

    today = utcnow().date()
    conn = db_session.connection()
    book = load_book(conn, today=today)
    universe = load_universe(conn, book=book, today=today)
    c = len(book)
    none = np.zeros(len(universe), dtype=bool)
    feats = lookalike.graph_features(
        build_graph(book, universe),
        seeds=np.concatenate([np.isin(book.ids, [seed.id]), none]),
        customers=np.concatenate([np.ones(c, dtype=bool), none]),
        top=np.concatenate([book.top, none]),
    )
    row = {int(p): c + i for i, p in enumerate(universe.ids)}
    col = {name: i for i, name in enumerate(lookalike.GRAPH_FEATURES)}
    expected = [
        (direct, {"customer_chain", "top_chain"}),
        (via_customer, {"customer_chain", "top_two_hop"}),
        (via_prospect, {"top_two_hop"}),
        (in_park, {"seed_park"}),
        (alone, set()),
    ]
    for prospect, names in expected:
        _blocks, graph = _features_of(db_session, prospect, model)
        assert graph.tolist() == feats[row[prospect.id]].tolist(), prospect.name
        assert {name for name, i in col.items() if graph[i]} == names, prospect.name


def test_outcomes_are_developed_prospects_whose_end_the_bank_recorded(world, db_session):
    from server.prospects.features import load_book, load_outcomes, load_universe
    from server.prospects.models import ProspectActivity

    now = utcnow()
    rm = world["a"]
    lapsed, working, never_visited, won = world["prospects"][:4]
    won.status = "converted"
    won.converted_at = now - timedelta(days=3)
    db_session.add(won)
    for p, ended, reason in (
        (lapsed, now - timedelta(days=40), "expired"),  # visited, claim lapsed: not converted
        (working, None, None),  # visited, still claimed: no outcome yet
        (never_visited, now - timedelta(days=40), "released"),  # never developed
        (won, now - timedelta(days=3), "converted"),
    ):
        claimed = now - timedelta(days=70) if ended else now - timedelta(days=2)
        db_session.add(
            ProspectClaim(
                prospect_id=p.id,
                rm_id=rm.id,
                claimed_at=claimed,
                expires_at=claimed + timedelta(days=30),
                ended_at=ended,
                end_reason=reason,
            )
        )
        if p is not never_visited:
            db_session.add(ProspectActivity(prospect_id=p.id, rm_id=rm.id, kind="visited", at=claimed))
    db_session.commit()
    conn = db_session.connection()
    book = load_book(conn, today=now.date())
    assert won.id not in load_universe(conn, book=book, today=now.date()).ids.tolist()  # never scored
    universe = load_universe(conn, book=book, today=now.date(), with_converted=True)
    rows, converted = load_outcomes(conn, universe=universe, now=now)
    outcome = dict(zip(universe.ids[rows].tolist(), converted.tolist(), strict=True))
    assert outcome.get(lapsed.id) is False and outcome.get(won.id) is True
    assert working.id not in outcome and never_visited.id not in outcome
