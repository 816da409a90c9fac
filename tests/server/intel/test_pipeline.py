"""The intel pipeline end to end on real parts: a local feed over HTTP, a real RQ worker on the test
Redis, the test database — fetch → parse → dedupe → match → alert → inbox notification — plus the
API an RM and an admin use."""

from __future__ import annotations

import base64
import threading
import uuid
from datetime import timedelta

import pytest
from rq import Queue
from rq.registry import FailedJobRegistry
from sqlmodel import func, select

import tasks.intel as intel_jobs
from server import events
from server.customers.models import CorporateProfile, CustomerLink
from server.intel import sources
from server.intel.models import IntelAlert, IntelItem, IntelItemSource, IntelSource, IntelSourceError
from server.org.models import Role
from server.timeutil import utcnow
from tests import factories
from tests.server.intel.feedserver import FeedServer


@pytest.fixture(scope="module")
def feeds():
    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture
def sinks(app):
    """The intel event sink, as the web process registers it (tasks.init_app)."""
    events.add_sink(intel_jobs.sink)
    yield
    events.remove_sink(intel_jobs.sink)


def rss(items: list[tuple[str, str]]) -> bytes:
    body = "".join(
        f"<item><title>{t}</title><description>{s}</description><guid>{uuid.uuid4().hex}</guid></item>"
        for t, s in items
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>{body}</channel></rss>'.encode()


def atom(items: list[tuple[str, str]]) -> bytes:
    body = "".join(
        f"<entry><id>urn:{uuid.uuid4().hex}</id><title>{t}</title><summary>{s}</summary>"
        "<updated>2026-11-28T06:00:00Z</updated></entry>"
        for t, s in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>a</title>'
        f"<id>urn:a</id><updated>2026-11-28T06:00:00Z</updated>{body}</feed>"
    ).encode()


def make_source(db_session, url: str, *, kind="feed", category="policy", **fields) -> IntelSource:
    source = IntelSource(
        name=f"源{uuid.uuid4().hex[:6]}", kind=kind, url=url, category=category, min_fetch_seconds=0, **fields
    )
    db_session.add(source)
    db_session.commit()
    return source


def corporate(db_session, owner, data_key, name: str, short: str, region="310000", industry="C36"):
    customer = factories.make_customer(
        db_session, owner=owner, name=name, data_key=data_key, region_code=region, industry_code=industry
    )
    profile = db_session.get(CorporateProfile, customer.id)
    profile.short_name = short
    db_session.add(profile)
    db_session.commit()
    return customer


def poll(worker, source_id: int) -> None:
    intel_jobs.poll_source.enqueue(source_id, job_id=f"test-poll-{source_id}-{uuid.uuid4().hex[:8]}")
    worker.work(burst=True)


def token() -> str:
    """A distinct word per test: the items of one test must not be the items of another."""
    return "".join("甲乙丙丁戊己庚辛壬癸"[int(c, 16) % 10] for c in uuid.uuid4().hex[:6])


def path_of(tag: str) -> str:
    return tag.encode().hex()


def test_feed_to_alerts_to_inbox(db_session, data_key, feeds, worker, login):
    rm = factories.make_user(db_session)
    tag = token()
    builder = corporate(db_session, rm, data_key, f"上海{tag}路桥建设有限公司", f"{tag}路桥", industry="E48")
    parts = corporate(db_session, rm, data_key, f"上海{tag}汽车配件有限公司", f"{tag}汽配")
    db_session.add(CustomerLink(from_customer_id=builder.id, to_customer_id=parts.id, kind="supplier"))
    db_session.commit()
    feeds.dynamic[f"{path_of(tag)}.xml"] = (
        rss(
            [
                (f"{tag}路桥中标杭州市城市更新道路工程项目", "中标金额1.2亿元，工期12个月，预付款比例10%。"),
                (f"上海出台支持汽车零部件企业发展若干措施{tag}", "设立专项资金，给予补贴。"),
            ]
        ),
        "application/rss+xml",
    )
    source = make_source(db_session, f"{feeds.url}/d/{path_of(tag)}.xml")
    poll(worker, source.id)

    alerts = db_session.exec(select(IntelAlert).where(IntelAlert.rm_id == rm.id)).all()
    by_customer: dict[int, list[IntelAlert]] = {}
    for a in alerts:
        by_customer.setdefault(a.customer_id, []).append(a)
    tender = next(a for a in by_customer[builder.id] if a.funding_need)
    assert tender.score == 80 and tender.reason.startswith(f"情报点名该客户({tag}路桥)中标")
    assert tender.funding_need["need_cents"] == 2_200_000_000  # the construction hand calculation
    assert tender.sentiment == "favourable"
    reasons = {a.reason for a in by_customer[parts.id]}
    assert (
        f"该客户的下游客户(上海{tag}路桥建设有限公司)中标，金额1.2亿元" not in reasons
    )  # supply chain wording:
    assert any(r.startswith(f"该客户的下游客户(上海{tag}路桥建设有限公司)中标") for r in reasons)
    assert any(r.startswith("该客户所在行业(汽车零部件)获政策支持") for r in reasons)

    # The RM was notified in the inbox, once per item.
    from server.inbox.models import Notification

    notes = db_session.exec(select(Notification).where(Notification.user_id == rm.id)).all()
    assert {n.kind for n in notes} == {"intel"}
    assert any(f"{tag}路桥" in n.title for n in notes)
    assert all(n.url.startswith("/intel/alerts/") for n in notes)

    # The RM's API: feed, detail with working and actions, customer page, state.
    api = login(rm)
    listing = api.get("/api/v1/intel/alerts").get_json()["items"]
    assert {a["id"] for a in listing} == {a.id for a in alerts}
    detail = api.get(f"/api/v1/intel/alerts/{tender.id}").get_json()
    assert detail["funding_need"]["steps"][-1].startswith("预付款约在第 43 天用完")
    assert {a["action"] for a in detail["actions"]} == {"create_opportunity", "start_war_room"}
    assert detail["actions"][0]["body"]["customer_id"] == builder.id
    for action in detail["actions"]:  # the payloads are accepted by the opportunity and war-room APIs
        assert action["available"] is True
        done = api.post(action["url"], json=action["body"])
        assert done.status_code in (200, 201), (action["action"], done.get_data(as_text=True))
    assert {m["customer_id"] for m in detail["matched_customers"]} >= {builder.id, parts.id}
    page = api.get(f"/api/v1/intel/customers/{parts.id}/alerts").get_json()["items"]
    assert page and all(a["customer"]["id"] == parts.id for a in page)
    r = api.post(f"/api/v1/intel/alerts/{tender.id}/state", json={"read": True})
    assert r.status_code == 200 and r.get_json()["read"] is True
    assert api.get("/api/v1/intel/alerts?unread=true").get_json()["items"] != listing

    # Another RM sees none of it.
    other = login(factories.make_user(db_session))
    assert other.get(f"/api/v1/intel/alerts/{tender.id}").status_code == 404
    assert other.get(f"/api/v1/intel/customers/{parts.id}/alerts").status_code == 404
    assert other.get("/api/v1/intel/alerts").get_json()["items"] == []


def test_conditional_get_dedupe_across_feeds_and_reruns(db_session, data_key, feeds, worker):
    rm = factories.make_user(db_session)
    tag = token()
    customer = corporate(
        db_session, rm, data_key, f"杭州{tag}物流有限公司", f"{tag}物流", region="330100", industry="G54"
    )
    shared = (f"【快讯】杭州出台支持道路货运企业发展措施{tag}", "给予补贴")
    feeds.dynamic[f"{path_of(tag)}-a.xml"] = (
        rss([shared, (f"杭州{tag}物流签订运输合同", "合同金额3000万元")]),
        "text/xml",
    )
    feeds.dynamic[f"{path_of(tag)}-b.xml"] = (
        atom([(shared[0].replace("【快讯】", "") + "！", "另一个源的摘要")]),
        "text/xml",
    )
    a = make_source(db_session, f"{feeds.url}/d/{path_of(tag)}-a.xml")
    b = make_source(db_session, f"{feeds.url}/d/{path_of(tag)}-b.xml", category="industry")

    poll(worker, a.id)
    poll(worker, b.id)
    items = db_session.exec(select(IntelItem).where(IntelItem.title.contains(tag))).all()
    assert len(items) == 2  # the shared item is one item ...
    shared_item = next(i for i in items if "货运" in i.title)
    carriers = db_session.exec(
        select(IntelItemSource.source_id).where(IntelItemSource.item_id == shared_item.id)
    ).all()
    assert sorted(carriers) == sorted([a.id, b.id])  # ... carried by both sources
    alerts_before = db_session.exec(select(func.count()).where(IntelAlert.customer_id == customer.id)).one()
    assert alerts_before == 2

    # Re-polling: the feed answers 304 to our ETag and nothing new is created.
    poll(worker, a.id)
    conditional = feeds.requests_for(f"/d/{path_of(tag)}-a.xml")[-1]
    assert conditional.get("If-None-Match", "").startswith('"')
    assert conditional.get("If-Modified-Since")
    # Forgetting the validators refetches the whole body: still nothing new (dedupe by fingerprint).
    db_session.refresh(a)
    a.etag = a.last_modified = None
    db_session.add(a)
    db_session.commit()
    poll(worker, a.id)
    assert len(db_session.exec(select(IntelItem).where(IntelItem.title.contains(tag))).all()) == 2
    assert (
        db_session.exec(select(func.count()).where(IntelAlert.customer_id == customer.id)).one()
        == alerts_before
    )


@pytest.mark.parametrize(
    "path, kind, code",
    [
        ("/f/billion_laughs.xml", "feed", "hostile-xml"),
        ("/f/external_entity.xml", "feed", "hostile-xml"),
        ("/f/garbage.bin", "feed", "encoding"),
        ("/f/truncated.xml", "feed", "malformed"),
        ("/f/rss.xml", "json", "malformed"),
        ("/huge", "feed", "too-large"),
        ("/lying-length", "feed", "too-large"),
        ("/status/404", "feed", "http-404"),
    ],
)
def test_bad_sources_are_recorded_not_crashed(db_session, feeds, worker, path, kind, code):
    source = make_source(db_session, feeds.url + path, kind=kind)
    poll(worker, source.id)
    errors = db_session.exec(select(IntelSourceError).where(IntelSourceError.source_id == source.id)).all()
    assert [e.code for e in errors] == [code]
    db_session.refresh(source)
    assert source.error_count == 1 and source.last_error.startswith(code)
    failed = FailedJobRegistry(queue=Queue("low", connection=worker.connection))
    assert not [j for j in failed.get_job_ids() if f"-{source.id}-" in j]  # the job itself succeeded


def test_failed_job_listed_for_admin_and_retried(db_session, feeds, worker, login, app):
    """A 500 is transient: the job fails (here without RQ's own retries, to reach the failed registry
    at once), the admin sees it with its error and requeues it; once the source is fixed it succeeds."""
    tag = token()
    source = make_source(db_session, feeds.url + "/status/500")
    q = Queue("low", connection=worker.connection)
    job_id = f"intel-poll-{source.id}-{uuid.uuid4().hex[:6]}"
    q.enqueue(intel_jobs.poll_source, source.id, False, job_id=job_id, job_timeout=60, failure_ttl=3600)
    worker.work(burst=True)
    admin = login(factories.make_user(db_session, role=Role.admin, persona=None))
    listed = admin.get("/api/v1/intel/jobs/failed").get_json()["items"]
    mine = next(j for j in listed if j["id"] == job_id)
    assert mine["func"] == "poll_source" and mine["args"][0] == source.id
    assert "FetchError" in (mine["error"] or "") or "500" in (mine["error"] or "")
    rm_api = login(factories.make_user(db_session))
    assert rm_api.get("/api/v1/intel/jobs/failed").status_code == 403

    feeds.dynamic[f"{path_of(tag)}.xml"] = (
        rss([(f"南京出台支持物流企业发展措施{tag}", "给予补贴")]),
        "text/xml",
    )
    source.url = f"{feeds.url}/d/{path_of(tag)}.xml"
    db_session.add(source)
    db_session.commit()
    assert admin.post(f"/api/v1/intel/jobs/failed/{job_id}/retry").status_code == 202
    assert admin.post("/api/v1/intel/jobs/failed/nope/retry").status_code == 404
    worker.work(burst=True)
    assert db_session.exec(select(IntelItem).where(IntelItem.title.contains(tag))).first() is not None
    assert job_id not in FailedJobRegistry(queue=q).get_job_ids()


def test_two_schedulers_enqueue_each_poll_once(db_session, feeds, worker):
    source = make_source(db_session, feeds.url + "/f/rss.xml", poll_minutes=7)
    now = utcnow()
    results: list[list[str]] = []

    def tick() -> None:
        results.append(intel_jobs.schedule_due_polls(now))

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    mine = [job_id for batch in results for job_id in batch if job_id.startswith(f"intel-poll-{source.id}-")]
    slot = int(now.timestamp() // (7 * 60))
    assert mine == [f"intel-poll-{source.id}-{slot}"]
    # The next slot is a new poll; the same slot never again.
    assert intel_jobs.schedule_due_polls(now) == [] or all(
        not j.startswith(f"intel-poll-{source.id}-") for j in intel_jobs.schedule_due_polls(now)
    )
    later = [j for j in intel_jobs.schedule_due_polls(now + timedelta(minutes=7)) if f"-{source.id}-" in j]
    assert later == [f"intel-poll-{source.id}-{slot + 1}"]
    Queue("low", connection=worker.connection).empty()


def test_rate_limit_is_one_conditional_update(db_session, feeds):
    source = make_source(db_session, feeds.url + "/f/rss.xml")
    source.min_fetch_seconds = 300
    db_session.add(source)
    db_session.commit()
    assert sources.claim_fetch(db_session, source_id=source.id) is True
    assert sources.claim_fetch(db_session, source_id=source.id) is False
    assert sources.claim_fetch(db_session, source_id=source.id, now=utcnow() + timedelta(seconds=301)) is True
    assert sources.claim_fetch(db_session, source_id=source.id, force=True) is True


def test_mutes_and_upload_and_manual_entry(db_session, data_key, worker, login, sinks):
    rm = factories.make_user(db_session)
    tag = token()
    customer = corporate(
        db_session, rm, data_key, f"成都{tag}医药有限公司", f"{tag}医药", region="510100", industry="C27"
    )
    api = login(rm)
    assert api.post("/api/v1/intel/mutes", json={"kind": "category", "value": "policy"}).status_code == 201
    assert api.post("/api/v1/intel/mutes", json={"kind": "category", "value": "nonsense"}).status_code == 422
    assert api.post("/api/v1/intel/mutes", json={"kind": "customer", "value": "999999999"}).status_code == 404

    admin = login(factories.make_user(db_session, role=Role.admin, persona=None))
    r = admin.post("/api/v1/intel/sources", json={"name": "上传", "kind": "upload", "category": "industry"})
    assert r.status_code == 201, r.get_data(as_text=True)
    upload_id = r.get_json()["id"]
    csv_body = f"标题,内容,类别\n成都出台支持生物医药企业发展措施{tag},给予补贴,policy\n{tag}医药签订供货合同,合同金额5000万元,tender_contract\n"
    r = admin.post(
        f"/api/v1/intel/sources/{upload_id}/upload",
        json={"filename": "x.csv", "content_base64": base64.b64encode(csv_body.encode()).decode()},
    )
    assert r.status_code == 201 and r.get_json() == {"rows": 2, "new_items": 2}
    bad = admin.post(
        f"/api/v1/intel/sources/{upload_id}/upload",
        json={"filename": "x.csv", "content_base64": base64.b64encode(b"\xff\xfe\x00garbage").decode()},
    )
    assert bad.status_code == 422 and bad.get_json()["code"].startswith("intel-")
    worker.work(burst=True)  # the sink enqueued a match job

    alerts = db_session.exec(select(IntelAlert).where(IntelAlert.customer_id == customer.id)).all()
    assert [a.category for a in alerts] == ["tender_contract"]  # the policy item was muted

    r = admin.post(
        "/api/v1/intel/sources", json={"name": "手工", "kind": "manual", "category": "corporate_event"}
    )
    manual_id = r.get_json()["id"]
    r = admin.post(
        f"/api/v1/intel/sources/{manual_id}/items", json={"title": f"{tag}医药因环保问题被处以罚款"}
    )
    assert r.status_code == 201
    mute_customer = api.post("/api/v1/intel/mutes", json={"kind": "customer", "value": str(customer.id)})
    assert mute_customer.status_code == 201
    worker.work(burst=True)
    assert len(db_session.exec(select(IntelAlert).where(IntelAlert.customer_id == customer.id)).all()) == 1
    mutes = api.get("/api/v1/intel/mutes").get_json()["items"]
    assert {m["label"] for m in mutes} == {"政策", customer.name}


def test_admin_source_api_validation(db_session, login):
    admin = login(factories.make_user(db_session, role=Role.admin, persona=None))
    r = admin.post("/api/v1/intel/sources", json={"name": "x", "kind": "feed", "category": "policy"})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "url"
    r = admin.post(
        "/api/v1/intel/sources", json={"name": "x", "kind": "feed", "category": "gossip", "url": "http://a"}
    )
    assert r.status_code == 422
    r = admin.post(
        "/api/v1/intel/sources",
        json={"name": "x", "kind": "feed", "category": "policy", "url": "http://127.0.0.1:9/x"},
    )
    source_id = r.get_json()["id"]
    r = admin.patch(f"/api/v1/intel/sources/{source_id}", json={"enabled": False})
    assert r.status_code == 200 and r.get_json()["enabled"] is False
    assert admin.get(f"/api/v1/intel/sources/{source_id}/errors").get_json() == {"items": []}
    assert admin.get("/api/v1/intel/sources/99999999/errors").status_code == 404
    rm = login(factories.make_user(db_session))
    assert rm.get("/api/v1/intel/sources").status_code == 403
    assert (
        rm.post(
            "/api/v1/intel/sources", json={"name": "x", "kind": "manual", "category": "policy"}
        ).status_code
        == 403
    )


def test_demo_feeds_name_the_bank_and_poll_into_alerts(app, client, db_session, data_key, worker):
    """The demo bank's feeds are served by the app itself from the customer book; registering them
    and polling them through the worker produces alerts (the app serves them over real HTTP in the
    demo; here the fetch goes to a live server started for the test)."""
    from server.demo.feeds import policy_items, register_demo_sources, tender_items, weather_items

    rm = factories.make_user(db_session)
    tag = token()
    corporate(
        db_session, rm, data_key, f"武汉{tag}路桥建设有限公司", f"{tag}路桥", region="420100", industry="E48"
    )
    r = client.get("/demo-feeds/policy.xml")
    assert r.status_code == 200 and r.mimetype == "application/rss+xml"
    assert (
        client.get("/demo-feeds/policy.xml", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    )
    assert client.get("/demo-feeds/weather.xml").status_code == 200
    tenders = client.get("/demo-feeds/tenders.json").get_json()["items"]
    assert tenders and all("title" in t for t in tenders)
    assert policy_items(db_session) and weather_items(db_session) and tender_items(db_session)

    ids = register_demo_sources(db_session, base_url="http://127.0.0.1:1")
    assert register_demo_sources(db_session, base_url="http://127.0.0.1:1") == ids  # once only
    sources = [db_session.get(IntelSource, i) for i in ids]
    assert [s.url.rsplit("/", 1)[1] for s in sources] == ["policy.xml", "weather.xml", "tenders.json"]


def test_tick_schedules_the_next_minute_once(worker):
    from rq.registry import ScheduledJobRegistry

    now = utcnow().replace(second=30, microsecond=0) + timedelta(days=3650)  # a minute no other test uses
    first = intel_jobs.schedule_next_tick(now)
    assert first is not None and first.id == f"intel-tick-{int(now.timestamp() // 60) + 1}"
    assert intel_jobs.schedule_next_tick(now) is None  # a second scheduler in the same minute adds nothing
    registry = ScheduledJobRegistry(queue=Queue("low", connection=worker.connection))
    assert first.id in registry.get_job_ids()
    registry.remove(first.id, delete_job=True)
