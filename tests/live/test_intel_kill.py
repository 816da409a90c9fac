"""kill -9 of a real forking `rq worker` in the middle of an intel poll loses nothing and duplicates
nothing: every item is stored once, an item is either fully matched (all its alerts) or not at all,
and after the next poll every alert and every inbox notification exists exactly once."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlmodel import func, select

import tasks.intel as intel_jobs
from server.customers.models import CorporateProfile
from server.inbox.models import Notification
from server.intel.models import IntelAlert, IntelItem, IntelSource
from tests import factories
from tests.live.workers import kill_hard, start_burst_worker
from tests.server.intel.feedserver import FeedServer

pytestmark = pytest.mark.live

COUNT = 2400


def feed(tag: str) -> bytes:
    items = []
    for n in range(COUNT):
        if n % 2:
            items.append((f"上海出台支持汽车零部件企业发展措施{tag}第{n}号", "给予补贴"))
        else:  # names the customer by its short name: a notified alert
            items.append((f"{tag}汽配签订第{n}号供货合同", "合同金额300万元"))
    body = "".join(
        f"<item><title>{t}</title><description>{s}</description><guid>{tag}-{n}</guid></item>"
        for n, (t, s) in enumerate(items)
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>{body}</channel></rss>'.encode()


def test_kill_9_mid_job_loses_and_duplicates_nothing(
    app, test_config, db_session, data_key, tmp_path, worker
):
    tag = "".join("甲乙丙丁戊己庚辛壬癸"[int(c, 16) % 10] for c in uuid.uuid4().hex[:6])
    rm = factories.make_user(db_session)
    named = factories.make_customer(
        db_session, owner=rm, name=f"上海{tag}汽车配件有限公司", data_key=data_key, industry_code="C36"
    )
    profile = db_session.get(CorporateProfile, named.id)
    profile.short_name = f"{tag}汽配"
    db_session.add(profile)
    db_session.commit()

    feeds = FeedServer().start()
    path = uuid.uuid4().hex
    feeds.dynamic[path] = (feed(tag), "application/rss+xml")
    source = IntelSource(
        name="大源", kind="feed", url=f"{feeds.url}/d/{path}", category="policy", min_fetch_seconds=0
    )
    db_session.add(source)
    db_session.commit()

    def counts() -> tuple[int, int, int]:
        db_session.expire_all()
        items = db_session.exec(select(func.count()).where(IntelItem.title.contains(tag))).one()
        matched = db_session.exec(
            select(func.count()).where(IntelItem.title.contains(tag), IntelItem.matched_at.is_not(None))
        ).one()
        alerts = db_session.exec(select(func.count()).where(IntelAlert.customer_id == named.id)).one()
        return items, matched, alerts

    try:
        intel_jobs.poll_source.enqueue(source.id, job_id=f"intel-poll-{source.id}-kill")
        process = start_burst_worker(test_config, tmp_path / "worker1.log")
        deadline = time.time() + 90
        while time.time() < deadline:
            _items, matched, _alerts = counts()
            if matched >= 40:
                break
            time.sleep(0.05)
        kill_hard(process)
        items, matched, alerts = counts()
        print(f"\nkilled with {items} items stored, {matched} matched, {alerts} alerts")
        assert items == COUNT  # stored in one transaction before matching started
        assert 0 < matched < COUNT, "the kill must land mid-job"
        # An item is matched with all its alerts or not at all: every matched item has its alert.
        assert alerts == matched
        unmatched_with_alerts = db_session.exec(
            select(func.count())
            .select_from(IntelAlert)
            .join(IntelItem, IntelItem.id == IntelAlert.item_id)
            .where(IntelAlert.customer_id == named.id, IntelItem.matched_at.is_(None))
        ).one()
        assert unmatched_with_alerts == 0

        # The next poll (as the next tick would enqueue it) on a fresh worker finishes the work.
        intel_jobs.poll_source.enqueue(source.id, job_id=f"intel-poll-{source.id}-after")
        process = start_burst_worker(test_config, tmp_path / "worker2.log")
        process.wait(120)
        assert process.returncode == 0, (tmp_path / "worker2.log").read_text()[-3000:]
        items, matched, alerts = counts()
        assert (items, matched, alerts) == (COUNT, COUNT, COUNT)
        pairs = db_session.exec(
            select(func.count(func.distinct(IntelAlert.item_id))).where(IntelAlert.customer_id == named.id)
        ).one()
        assert pairs == COUNT
        notes = db_session.exec(
            select(Notification.source_key).where(Notification.user_id == rm.id, Notification.kind == "intel")
        ).all()
        assert len(notes) == len(set(notes)) == COUNT // 2  # one per item naming the customer
    finally:
        feeds.stop()


def test_demo_feeds_over_http_to_alerts(live_server, db_session, data_key, worker):
    """The live app serves its demo feeds; the sources registered for them are polled by a real RQ
    worker into alerts for the demo bank's customers."""
    from server.demo.feeds import register_demo_sources

    tag = "".join("甲乙丙丁戊己庚辛壬癸"[int(c, 16) % 10] for c in uuid.uuid4().hex[:6])
    rm = factories.make_user(db_session)
    customer = factories.make_customer(
        db_session, owner=rm, name=f"上海{tag}建设工程有限公司", data_key=data_key, industry_code="E47"
    )
    ids = register_demo_sources(db_session, base_url=live_server.url)
    for source_id in ids:
        intel_jobs.poll_source.enqueue(
            source_id, True, job_id=f"intel-poll-{source_id}-demo{uuid.uuid4().hex[:6]}"
        )
    worker.work(burst=True)
    errors = [db_session.get(IntelSource, i).last_error for i in ids]
    assert errors == [None, None, None]
    items = db_session.exec(select(IntelItem).where(IntelItem.source_id.in_(ids))).all()
    assert {i.category for i in items} >= {"policy", "weather", "tender_contract"}
    alerts = db_session.exec(select(IntelAlert).where(IntelAlert.item_id.in_([i.id for i in items]))).all()
    assert alerts, "the demo feeds name the bank's own customers, industries and cities"
    assert any(a.funding_need for a in alerts)  # a tender won by a demo builder
    del customer
