"""/feed against the real eventlet server: live delivery filtered by pool and qualification, claim
and recycle events, and catching up from the last sequence after a reconnect."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from server.opportunities import service
from tests import factories
from tests.conftest import http_login
from tests.server.test_opportunities import _create, make_product, policy  # noqa: F401  (fixture)

NS = "/feed"


class Inbox:
    """Collects `feed` events on one socket."""

    def __init__(self, client):
        self.events: list[dict] = []
        self.arrived = threading.Condition()
        client.on("feed", self._on, namespace=NS)

    def _on(self, data):
        with self.arrived:
            self.events.append({**data, "_t": time.perf_counter()})
            self.arrived.notify_all()

    def wait_for(self, predicate, timeout: float = 5.0) -> dict:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                found = next((e for e in self.events if predicate(e)), None)
                if found or time.monotonic() > deadline:
                    return found
                self.arrived.wait(0.05)

    def about(self, opp_id: int) -> list[dict]:
        return [e for e in self.events if e["opportunity"]["id"] == opp_id]


@pytest.fixture
def feed_pool(db_session, policy):  # noqa: F811
    policy(priority_window_minutes=0, max_open_claims=50, require_qualification=True)
    branch = factories.make_branch(db_session)
    team = factories.make_team(db_session, branch=branch)
    return {
        "branch": branch,
        "a": factories.make_user(db_session, branch=branch, team=team, display_name="甲"),
        "b": factories.make_user(db_session, branch=branch, team=team, display_name="乙", qualifications=["fund_sales"]),
        "d": factories.make_user(db_session, branch=branch, display_name="丁"),
        "c": factories.make_user(db_session, display_name="外行"),
        "fund": make_product(db_session, qualification="fund_sales"),
    }


def _share(http, base, **fields) -> dict:
    body = {"title": "直播商机", "prospect_name": "潜客", "region_code": "310000", "industry_code": "C36"}
    body.update(fields)
    response = http.post(base + "/api/v1/opportunities", json=body, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def test_share_and_claim_reach_exactly_the_eligible_rms(live_server, socket_client, feed_pool):
    p = feed_pool
    inboxes = {}
    for name in ("a", "b", "c", "d"):
        client = socket_client(p[name], NS)
        inboxes[name] = Inbox(client)
    http_a = http_login(live_server.url, p["a"].username)

    started = time.perf_counter()
    fund_opp = _share(http_a, live_server.url, product_id=p["fund"].id)
    got = inboxes["b"].wait_for(lambda e: e["opportunity"]["id"] == fund_opp["id"])
    assert got is not None and got["kind"] == "shared"
    assert got["_t"] - started < 1.0  # share → feed within a second, request included
    plain = _share(http_a, live_server.url, visibility="branch")
    assert inboxes["d"].wait_for(lambda e: e["opportunity"]["id"] == plain["id"]) is not None
    assert inboxes["b"].wait_for(lambda e: e["opportunity"]["id"] == plain["id"]) is not None
    time.sleep(0.8)
    assert inboxes["d"].about(fund_opp["id"]) == []  # not qualified for the fund product
    assert inboxes["c"].about(fund_opp["id"]) == [] and inboxes["c"].about(plain["id"]) == []  # other branch

    http_b = http_login(live_server.url, p["b"].username)
    assert http_b.post(live_server.url + f"/api/v1/opportunities/{plain['id']}/claim", timeout=10).status_code == 200
    claimed = inboxes["d"].wait_for(lambda e: e["opportunity"]["id"] == plain["id"] and e["kind"] == "claimed")
    assert claimed is not None and claimed["actor"]["display_name"] == "乙"
    assert claimed["opportunity"]["status"] == "claimed" and claimed["seq"] > inboxes["d"].about(plain["id"])[0]["seq"]
    # the originator hears about their own opportunities, in the pool's order
    mine = [e["kind"] for e in inboxes["a"].about(plain["id"])]
    assert inboxes["a"].wait_for(lambda e: e["opportunity"]["id"] == plain["id"] and e["kind"] == "claimed")
    assert mine[0] == "shared"
    http_d = http_login(live_server.url, p["d"].username)
    lost = http_d.post(live_server.url + f"/api/v1/opportunities/{plain['id']}/claim", timeout=10)
    assert lost.status_code == 409 and lost.json()["winner"]["display_name"] == "乙"


def test_reconnecting_client_gets_the_gap_it_may_see(live_server, socket_client, feed_pool):
    p = feed_pool
    http_a = http_login(live_server.url, p["a"].username)
    first = socket_client(p["d"], NS)
    seen = Inbox(first)
    anchor = _share(http_a, live_server.url)
    event = seen.wait_for(lambda e: e["opportunity"]["id"] == anchor["id"])
    assert event is not None
    first.disconnect()

    missed_plain = _share(http_a, live_server.url, title="断线期间共享")
    missed_fund = _share(http_a, live_server.url, product_id=p["fund"].id)
    missed_team = _share(http_a, live_server.url, visibility="team")  # d is in no team

    again = socket_client(p["d"], NS)
    ack = again.call("resume", {"last_seq": event["seq"]}, namespace=NS, timeout=10)
    assert ack["ok"] is True
    ids = [e["opportunity"]["id"] for e in ack["events"]]
    assert missed_plain["id"] in ids
    assert missed_fund["id"] not in ids and missed_team["id"] not in ids and anchor["id"] not in ids
    seqs = [e["seq"] for e in ack["events"]]
    assert seqs == sorted(seqs) and all(s > event["seq"] for s in seqs)
    assert ack["last_seq"] >= seqs[-1]
    bad = again.call("resume", {"last_seq": "x"}, namespace=NS, timeout=10)
    assert bad["ok"] is False and bad["code"] == "validation"


def test_recycle_by_the_worker_reaches_the_pool_live(live_server, socket_client, feed_pool, worker, db_session):
    from tasks.opportunities import recycle_stale_opportunities

    p = feed_pool
    opp = service.create_opportunity(db_session, user=p["a"], data=_create(), ip=None)
    service.claim(db_session, user=p["b"], opportunity_id=opp.id, ip=None)
    watcher = Inbox(socket_client(p["d"], NS))
    holder = Inbox(socket_client(p["b"], NS))
    later = opp.shared_at + timedelta(days=5, minutes=5)
    recycle_stale_opportunities.enqueue(later.isoformat(), job_id=f"test-feed-recycle-{opp.id}")
    worker.work(burst=True)
    back = watcher.wait_for(lambda e: e["opportunity"]["id"] == opp.id and e["kind"] == "recycled")
    assert back is not None and back["opportunity"]["status"] == "shared" and back["actor"] is None
    # the RM who held it hears it too (their personal room)
    assert holder.wait_for(lambda e: e["opportunity"]["id"] == opp.id and e["kind"] == "recycled") is not None
