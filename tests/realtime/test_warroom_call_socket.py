"""The room's call and shared stage over real sockets: python-socketio clients against the real
eventlet server on the real Redis. Signalling rules (membership on every signal, the rate limit, bad
payloads answered with `error` events), the call's start and end in the timeline, ringing through
the inbox, and the stage following its presenter."""

from __future__ import annotations

import base64

import pytest
from sqlmodel import select

from server.audit.models import AuditEntry
from server.inbox.models import Notification
from tests import factories
from tests.realtime.warroom_clients import NS, Listener, make_room

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
}


@pytest.fixture
def people(db_session):
    branch = factories.make_branch(db_session)
    return [
        factories.make_user(db_session, branch=branch, display_name=name) for name in ("甲", "乙", "丙", "丁")
    ]


@pytest.fixture
def connect(socket_client, live_server):
    def _connect(user, base_url: str | None = None) -> Listener:
        client = socket_client(user, NS, base_url=base_url)
        client.http.user_id = user.id
        listener = Listener(client)
        for name in ("call_peer", "call_signal", "call_media", "stage", "stage_page"):
            listener.got[name] = []
            client.on(name, listener.recorder(name), namespace=NS)
        listener.http = client.http
        return listener

    return _connect


def _codes(listener: Listener) -> list[str]:
    return [e["code"] for e in listener.got["error"]]


def test_call_signalling_rules_and_timeline(connect, people, live_server, db_session):
    a, b, c, outsider = people
    la, lb, lo = connect(a), connect(b), connect(outsider)
    room_id = make_room(la.http, live_server.url, [lb.http])
    # 丙 is a member who is not in the room now: the call rings them through the inbox.
    lc_http = connect(c).http
    invited = la.http.post(
        f"{live_server.url}/api/v1/war-rooms/{room_id}/invitations", json={"user_ids": [c.id]}
    )
    assert invited.status_code in (200, 201), invited.text
    assert lc_http.post(f"{live_server.url}/api/v1/war-rooms/{room_id}/invitations/accept").status_code == 200

    assert la.call("call_join", {"room_id": room_id})["code"] == "not-joined"  # the room first
    la.call("join", {"room_id": room_id})
    lb.call("join", {"room_id": room_id})
    started = la.call("call_join", {"room_id": room_id})
    assert started["ok"] and started["started"] and started["peers"] == [] and started["ice_servers"] == []

    joined = lb.call("call_join", {"room_id": room_id})
    assert joined["ok"] and not joined["started"] and joined["call_id"] == started["call_id"]
    assert joined["peers"] == [a.id]
    la.wait(lambda: any(p["user_id"] == b.id and p["joined"] for p in la.got["call_peer"]))

    # An offer and a candidate reach exactly the member they are for.
    assert lb.call("call_signal", {"room_id": room_id, "to_user_id": a.id, "description": OFFER})["ok"]
    assert lb.call("call_signal", {"room_id": room_id, "to_user_id": a.id, "candidate": CANDIDATE})["ok"]
    la.wait(lambda: len(la.got["call_signal"]) == 2)
    assert la.got["call_signal"][0] == {"room_id": room_id, "from_user_id": b.id, "description": OFFER}
    assert la.got["call_signal"][1]["candidate"]["candidate"] == CANDIDATE["candidate"]
    assert lb.got["call_signal"] == []

    # A non-member's signals are refused, each with an error event; nothing reaches the members.
    assert lo.call("call_signal", {"room_id": room_id, "to_user_id": a.id, "description": OFFER})["code"] == (
        "not-a-member"
    )
    assert lo.call("call_join", {"room_id": room_id})["code"] == "not-joined"
    assert lo.call("join", {"room_id": room_id})["code"] == "not-a-member"
    lo.wait(lambda: _codes(lo).count("not-a-member") >= 2)
    assert lo.call("call_media", {"room_id": room_id, "muted": True})["code"] == "not-a-member"

    # Bad payloads: error events with a code, the connection stays up.
    bad = [
        "garbage",
        {"room_id": room_id, "to_user_id": a.id},  # neither description nor candidate
        {"room_id": room_id, "to_user_id": a.id, "description": OFFER, "candidate": CANDIDATE},
        {"room_id": room_id, "to_user_id": a.id, "description": {"type": "pranswer", "sdp": "x"}},
        {"room_id": room_id, "to_user_id": a.id, "description": {**OFFER, "extra": 1}},
        {"room_id": "x", "to_user_id": a.id, "description": OFFER},
    ]
    for payload in bad:
        assert lb.call("call_signal", payload)["code"] == "validation", payload
    assert (
        lb.call(
            "call_signal",
            {"room_id": room_id, "to_user_id": a.id, "description": {"type": "offer", "sdp": "a" * 14000}},
        )["code"]
        == "too-large"
    )
    assert lb.call("call_signal", {"room_id": room_id, "to_user_id": outsider.id, "description": OFFER})[
        "code"
    ] == ("peer-gone")
    lb.wait(lambda: _codes(lb).count("validation") == len(bad) and "peer-gone" in _codes(lb))
    assert lb.client.connected

    # Mute shows live to the others.
    assert lb.call("call_media", {"room_id": room_id, "muted": True, "quality": "audio"})["ok"]
    la.wait(lambda: la.got["call_media"] and la.got["call_media"][-1]["muted"] is True)
    assert la.got["call_media"][-1] == {
        "room_id": room_id,
        "user_id": b.id,
        "muted": True,
        "quality": "audio",
    }

    # Leaving ends the peer for the others; the last one out ends the call.
    left = lb.call("call_leave", {"room_id": room_id})
    assert left["ok"] and not left["ended"]
    la.wait(lambda: any(p["user_id"] == b.id and not p["joined"] for p in la.got["call_peer"]))
    assert lb.call("call_signal", {"room_id": room_id, "to_user_id": a.id, "candidate": CANDIDATE})[
        "code"
    ] == ("not-in-call")
    assert la.call("call_leave", {"room_id": room_id})["ended"]
    la.wait(lambda: [e["kind"] for e in la.events(room_id)][-1:] == ["call.ended"])
    ended = la.events(room_id)[-1]["payload"]
    assert [m["id"] for m in ended["members"]] == sorted([a.id, b.id]) and ended["seconds"] >= 0
    kinds = [e["kind"] for e in la.call("sync", {"room_id": room_id, "after_seq": 0})["events"]]
    assert kinds.count("call.started") == 1 and kinds.count("call.ended") == 1

    db_session.expire_all()
    rung = db_session.exec(
        select(Notification).where(
            Notification.title == "远程连线", Notification.url == f"/war-rooms/{room_id}"
        )
    ).all()
    assert [n.user_id for n in rung] == [c.id]  # 乙 was in the room and saw the call start live


def test_signal_rate_limit_full_call_and_dropped_socket(start_server, connect, people):
    server = start_server(WARROOM_SIGNAL_RATE_LIMIT="12", WARROOM_CALL_MAX_MEMBERS="2")
    a, b, c, _ = people
    la, lb, lc = connect(a, server.url), connect(b, server.url), connect(c, server.url)
    room_id = make_room(la.http, server.url, [lb.http, lc.http])
    for listener in (la, lb, lc):
        listener.call("join", {"room_id": room_id})
    assert la.call("call_join", {"room_id": room_id})["ok"]
    assert lb.call("call_join", {"room_id": room_id})["ok"]
    assert lc.call("call_join", {"room_id": room_id})["code"] == "call-full"

    codes = [
        lb.call("call_signal", {"room_id": room_id, "to_user_id": a.id, "candidate": CANDIDATE}).get("code")
        for _ in range(15)
    ]
    assert "rate-limited" in codes and codes[0] is None
    limited = next(e for e in lb.got["error"] if e["code"] == "rate-limited")
    assert limited["retry_after"] >= 1 and lb.client.connected

    # A dropped socket leaves the call: the others close its peer, and the place is free again.
    lb.client.disconnect()
    la.wait(lambda: any(p["user_id"] == b.id and not p["joined"] for p in la.got["call_peer"]))
    assert lc.call("call_join", {"room_id": room_id})["peers"] == [a.id]

    # A member removed from the room is out of the call at once: the others close their peer.
    assert la.http.delete(f"{server.url}/api/v1/war-rooms/{room_id}/members/{c.id}").status_code == 200
    la.wait(lambda: any(p["user_id"] == c.id and not p["joined"] for p in la.got["call_peer"]))
    assert lc.call("call_signal", {"room_id": room_id, "to_user_id": a.id, "candidate": CANDIDATE})[
        "code"
    ] == ("not-a-member")


def test_stage_follows_the_presenter_and_is_audited(connect, people, live_server, db_session, data_key):
    a, b, _, _ = people
    product = factories.make_product(db_session)
    theirs = factories.make_customer(db_session, owner=b, data_key=data_key, phone="13812345678")
    mine = factories.make_customer(db_session, owner=a, data_key=data_key, phone="13987654321")
    la, lb = connect(a), connect(b)
    room_id = make_room(la.http, live_server.url, [lb.http])
    la.call("join", {"room_id": room_id})
    lb.call("join", {"room_id": room_id})

    shared = la.call("stage_share", {"room_id": room_id, "kind": "product", "ref_id": product.id})
    assert shared["ok"] and shared["stage"]["title"] == product.name and len(shared["stage"]["pages"]) == 3
    lb.wait(
        lambda: lb.got["stage"] and lb.got["stage"][-1]["stage"]["share_id"] == shared["stage"]["share_id"]
    )
    share_id = shared["stage"]["share_id"]

    # Only the presenter turns pages; everyone else follows.
    assert (
        lb.call("stage_page", {"room_id": room_id, "share_id": share_id, "page": 1})["code"]
        == "not-presenter"
    )
    assert la.call("stage_page", {"room_id": room_id, "share_id": share_id, "page": 2})["page"] == 2
    lb.wait(lambda: lb.got["stage_page"] and lb.got["stage_page"][-1]["page"] == 2)
    assert lb.call("join", {"room_id": room_id})["stage"]["page"] == 2  # a rejoin sees the page now

    # Not downloadable unless the sharer allowed it.
    url = f"{live_server.url}/api/v1/war-rooms/{room_id}/stage/download"
    assert lb.http.get(url).status_code == 403

    # A customer card: masked; someone else's customer that is not a target answers like a missing one.
    assert (
        la.call("stage_share", {"room_id": room_id, "kind": "customer", "ref_id": theirs.id})["code"]
        == "not-found"
    )
    card = la.call(
        "stage_share", {"room_id": room_id, "kind": "customer", "ref_id": mine.id, "downloadable": True}
    )
    phone = next(line["value"] for line in card["stage"]["pages"][0]["lines"] if line["label"] == "电话")
    assert phone == "139****4321"
    got = lb.http.get(url)
    assert got.status_code == 200 and "attachment" in got.headers["Content-Disposition"]
    assert "13987654321" not in got.text

    calc = {"calculator": "loan", "rows": [["贷款金额", "500万元"], ["年利率", 3.45], ["月供", "9.1万元"]]}
    assert la.call("stage_share", {"room_id": room_id, "kind": "calculator", "calculator": calc})["ok"]
    assert la.call("stage_share", {"room_id": room_id, "kind": "calculator", "calculator": {"rows": []}})[
        "code"
    ] == ("validation")

    db_session.expire_all()
    actions = [
        e.action
        for e in db_session.exec(
            select(AuditEntry).where(
                AuditEntry.object_type == "war_room", AuditEntry.object_id == str(room_id)
            )
        ).all()
    ]
    assert actions.count("warroom.stage_share") == 3 and actions.count("warroom.stage_download") == 1

    # A PDF proposal: members only, inline and never cached, gone once the stage moves on.
    pdf = factories.pdf_document(["Proposal p1", "Proposal p2"])
    post = f"{live_server.url}/api/v1/war-rooms/{room_id}/stage/pdf"
    body = {"filename": "授信方案.pdf", "content_base64": base64.b64encode(pdf).decode(), "pages": 2}
    assert (
        la.http.post(
            post, json={**body, "content_base64": base64.b64encode(b"MZ not a pdf").decode()}
        ).json()["code"]
        == "validation"
    )
    big = base64.b64encode(b"%PDF-" + b"0" * (700 * 1024)).decode()
    assert la.http.post(post, json={**body, "content_base64": big}).json()["code"] == "too-large"
    shown = la.http.post(post, json=body)
    assert shown.status_code == 201, shown.text
    pdf_stage = shown.json()
    assert pdf_stage["kind"] == "pdf" and len(pdf_stage["pages"]) == 2
    lb.wait(lambda: lb.got["stage"][-1]["stage"] and lb.got["stage"][-1]["stage"]["kind"] == "pdf")
    file_url = f"{live_server.url}/api/v1/war-rooms/{room_id}/stage/pdf/{pdf_stage['share_id']}"
    got = lb.http.get(file_url)
    assert got.status_code == 200 and got.content == pdf
    assert got.headers["Cache-Control"] == "no-store" and got.headers["Content-Disposition"] == "inline"
    outsider = connect(people[3]).http
    assert outsider.get(file_url).status_code == 403
    assert lb.http.get(url).status_code == 403  # not downloadable

    assert lb.call("stage_clear", {"room_id": room_id})["code"] == "not-presenter"
    assert la.call("stage_clear", {"room_id": room_id})["ok"]
    lb.wait(lambda: lb.got["stage"][-1]["stage"] is None)
    assert lb.http.get(file_url).status_code == 404
    db_session.expire_all()
    pdf_audit = db_session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "warroom.stage_share", AuditEntry.object_id == str(room_id)
        )
    ).all()
    assert [e.detail["kind"] for e in pdf_audit].count("pdf") == 1
