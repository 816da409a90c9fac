"""/feed against the real eventlet server: live delivery filtered by pool and qualification, claim
and recycle events, and catching up from the last sequence after a reconnect."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlmodel import func, select

from server.opportunities.claims import claim
from server.opportunities.lifecycle import create_opportunity
from server.opportunities.models import OpportunityTransition
from server.org.models import Role, User
from tests import factories
from tests.conftest import http_login

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
def feed_pool(db_session, policy):
    policy(priority_window_minutes=0, max_open_claims=50, require_qualification=True)
    branch = factories.make_branch(db_session)
    team = factories.make_team(db_session, branch=branch)
    return {
        "branch": branch,
        "team": team,
        "lead": db_session.get(User, team.lead_id),
        "a": factories.make_user(db_session, branch=branch, team=team, display_name="甲"),
        "b": factories.make_user(
            db_session, branch=branch, team=team, display_name="乙", qualifications=["fund_sales"]
        ),
        "d": factories.make_user(db_session, branch=branch, display_name="丁"),
        "c": factories.make_user(db_session, display_name="外行"),
        "fund": factories.make_product(db_session, qualification="fund_sales"),
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
    assert (
        http_b.post(live_server.url + f"/api/v1/opportunities/{plain['id']}/claim", timeout=10).status_code
        == 200
    )
    claimed = inboxes["d"].wait_for(
        lambda e: e["opportunity"]["id"] == plain["id"] and e["kind"] == "claimed"
    )
    assert claimed is not None and claimed["actor"]["display_name"] == "乙"
    assert (
        claimed["opportunity"]["status"] == "claimed"
        and claimed["seq"] > inboxes["d"].about(plain["id"])[0]["seq"]
    )
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


def test_recycle_by_the_worker_reaches_the_pool_live(
    live_server, socket_client, feed_pool, worker, db_session
):
    from tasks.opportunities import recycle_stale_opportunities

    p = feed_pool
    opp = create_opportunity(db_session, user=p["a"], data=factories.opportunity_data(), ip=None)
    claim(db_session, user=p["b"], opportunity_id=opp.id, ip=None)
    watcher = Inbox(socket_client(p["d"], NS))
    holder = Inbox(socket_client(p["b"], NS))
    later = opp.shared_at + timedelta(days=5, minutes=5)
    recycle_stale_opportunities.enqueue(later.isoformat(), job_id=f"test-feed-recycle-{opp.id}")
    worker.work(burst=True)
    back = watcher.wait_for(lambda e: e["opportunity"]["id"] == opp.id and e["kind"] == "recycled")
    assert back is not None and back["opportunity"]["status"] == "shared" and back["actor"] is None
    # the RM who held it hears it too (their personal room)
    assert holder.wait_for(lambda e: e["opportunity"]["id"] == opp.id and e["kind"] == "recycled") is not None


def test_a_team_lead_watches_their_teams_opportunities_live(
    live_server, socket_client, feed_pool, db_session
):
    p = feed_pool
    lead = Inbox(socket_client(p["lead"], NS))
    other_team = factories.make_team(db_session, branch=p["branch"])
    other_lead = Inbox(socket_client(db_session.get(User, other_team.lead_id), NS))
    http_a = http_login(live_server.url, p["a"].username)
    http_d = http_login(live_server.url, p["d"].username)

    in_team_pool = _share(http_a, live_server.url, visibility="team")
    in_branch_pool = _share(http_a, live_server.url, visibility="branch", product_id=p["fund"].id)
    not_theirs = _share(http_d, live_server.url, visibility="branch")  # d is in no team
    for opp in (in_team_pool, in_branch_pool):
        assert lead.wait_for(lambda e, i=opp["id"]: e["opportunity"]["id"] == i) is not None
    http_b = http_login(live_server.url, p["b"].username)
    assert http_b.post(live_server.url + f"/api/v1/opportunities/{in_team_pool['id']}/claim", timeout=10).ok
    assert lead.wait_for(lambda e: e["opportunity"]["id"] == in_team_pool["id"] and e["kind"] == "claimed")
    time.sleep(0.8)
    assert lead.about(not_theirs["id"]) == []
    assert other_lead.events == []  # another team's lead hears nothing of this team
    # catching up gives the lead the same audience
    again = socket_client(p["lead"], NS)
    ack = again.call("resume", {"last_seq": 0}, namespace=NS, timeout=10)
    ids = {e["opportunity"]["id"] for e in ack["events"]}
    assert {in_team_pool["id"], in_branch_pool["id"]} <= ids and not_theirs["id"] not in ids


def test_rooms_follow_a_change_of_qualification_or_team(
    live_server,
    socket_client,
    feed_pool,
    policy,
    db_session,
):
    p = feed_pool
    admin = factories.make_user(db_session, role=Role.admin, persona=None, branch=p["branch"])
    http_admin = http_login(live_server.url, admin.username)
    http_a = http_login(live_server.url, p["a"].username)
    d_socket = socket_client(p["d"], NS)
    d = Inbox(d_socket)
    changes = []
    d_socket.on("access_changed", changes.append, namespace=NS)

    def change(**fields) -> None:
        before = len(changes)
        response = http_admin.patch(
            live_server.url + f"/api/v1/admin/users/{p['d'].id}", json=fields, timeout=10
        )
        assert response.status_code == 200, response.text
        deadline = time.monotonic() + 5
        while len(changes) == before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(changes) > before, "the socket was not told its rooms changed"

    fund_before = _share(http_a, live_server.url, product_id=p["fund"].id)
    change(qualifications=["fund_sales"])
    fund_after = _share(http_a, live_server.url, product_id=p["fund"].id)
    assert d.wait_for(lambda e: e["opportunity"]["id"] == fund_after["id"]) is not None
    change(team_id=p["team"].id)
    team_only = _share(http_a, live_server.url, visibility="team")
    assert d.wait_for(lambda e: e["opportunity"]["id"] == team_only["id"]) is not None
    change(qualifications=[], team_id=None)
    fund_gone = _share(http_a, live_server.url, product_id=p["fund"].id)
    team_gone = _share(http_a, live_server.url, visibility="team")
    plain = _share(http_a, live_server.url)
    assert d.wait_for(lambda e: e["opportunity"]["id"] == plain["id"]) is not None
    time.sleep(0.5)
    assert (
        d.about(fund_before["id"]) == [] and d.about(fund_gone["id"]) == [] and d.about(team_gone["id"]) == []
    )
    # the rooms do not depend on the policy: without the qualification rule, anyone in the pool hears
    policy(require_qualification=False)
    open_fund = _share(http_a, live_server.url, product_id=p["fund"].id)
    assert d.wait_for(lambda e: e["opportunity"]["id"] == open_fund["id"]) is not None


def test_moving_an_opportunity_to_a_wider_pool_reaches_the_new_audience(
    live_server, socket_client, feed_pool
):
    p = feed_pool
    d = Inbox(socket_client(p["d"], NS))  # same branch, no team
    http_a = http_login(live_server.url, p["a"].username)
    opp = _share(http_a, live_server.url, visibility="team")
    http_lead = http_login(live_server.url, p["lead"].username)
    moved = http_lead.post(
        live_server.url + f"/api/v1/opportunities/{opp['id']}/transfer",
        json={"visibility": "branch", "reason": "团队内无人跟进"},
        timeout=10,
    )
    assert moved.status_code == 200, moved.text
    got = d.wait_for(lambda e: e["opportunity"]["id"] == opp["id"])
    assert got is not None and got["kind"] == "shared" and got["opportunity"]["visibility"] == "branch"


def test_claim_over_the_socket_has_one_winner_and_names_it(live_server, socket_client, feed_pool, db_session):
    p = feed_pool
    http_a = http_login(live_server.url, p["a"].username)
    opp = _share(http_a, live_server.url)
    rivals = [factories.make_user(db_session, branch=p["branch"], display_name=f"对手{i}") for i in range(8)]
    sockets = [socket_client(u, NS) for u in (p["b"], *rivals)]
    results: list[dict] = [{}] * len(sockets)
    barrier = threading.Barrier(len(sockets))

    def race(i: int) -> None:
        barrier.wait(timeout=10)
        results[i] = sockets[i].call("claim", {"opportunity_id": opp["id"]}, namespace=NS, timeout=15)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(sockets))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    winners = [r for r in results if r.get("ok")]
    assert len(winners) == 1, results
    winner = winners[0]["opportunity"]["owner"]
    losers = [r for r in results if not r.get("ok")]
    assert len(losers) == len(sockets) - 1
    assert all(
        r["code"] == "already-claimed" and r["status"] == 409 and r["winner"] == winner for r in losers
    )
    claims = db_session.exec(
        select(func.count())
        .select_from(OpportunityTransition)
        .where(
            OpportunityTransition.opportunity_id == opp["id"], OpportunityTransition.to_status == "claimed"
        )
    ).one()
    assert claims == 1
    # later claims over HTTP (the offline outbox) get the same answer
    http_d = http_login(live_server.url, p["d"].username)
    late = http_d.post(live_server.url + f"/api/v1/opportunities/{opp['id']}/claim", timeout=10)
    assert late.status_code == 409 and late.json()["winner"] == winner
    # bad input is an error with a code; an opportunity outside the RM's pools is not found
    bad = sockets[0].call("claim", {"opportunity_id": "x"}, namespace=NS, timeout=10)
    assert bad["ok"] is False and bad["code"] == "validation"
    outsider = socket_client(p["c"], NS)
    hidden = outsider.call("claim", {"opportunity_id": opp["id"]}, namespace=NS, timeout=10)
    assert hidden["ok"] is False and hidden["status"] == 404 and "winner" not in hidden
