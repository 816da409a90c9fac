"""The war room API: membership and invitations, audited customer grants, quick war room with
suggested members, board changes with versions, chat with idempotent client ids, the per-room
sequence under concurrent writers, and the team lead's live board."""

import threading
import uuid

import pytest
from sqlmodel import Session, select

from server import db
from server.audit.models import AuditEntry
from server.customers.models import CustomerGrant
from server.org.models import User
from server.products.models import Product, ProductCategory
from server.warrooms import chat
from server.warrooms.models import WarRoom, WarRoomEvent
from server.warrooms.schemas import MessageIn
from tests import factories


@pytest.fixture
def crew(db_session, data_key):
    """A team (lead + two RMs) in one branch, an RM of another branch, and customers."""
    branch = factories.make_branch(db_session)
    team = factories.make_team(db_session, branch=branch)
    lead = db_session.get(User, team.lead_id)
    owner = factories.make_user(db_session, team=team, branch=branch, display_name="王经理")
    mate = factories.make_user(db_session, team=team, branch=branch, display_name="李经理")
    remote = factories.make_user(db_session, display_name="远程专家")
    outsider = factories.make_user(db_session, branch=branch)
    own_customer = factories.make_customer(db_session, owner=owner, data_key=data_key)
    mate_customer = factories.make_customer(db_session, owner=mate, data_key=data_key)
    return dict(
        lead=lead,
        owner=owner,
        mate=mate,
        remote=remote,
        outsider=outsider,
        branch=branch,
        own_customer=own_customer,
        mate_customer=mate_customer,
    )


def _create(api, **fields):
    body = {
        "title": "张江园区代发工资项目",
        "kind": "wholesale",
        "mode": "joint",
        "goal_amount_cents": 5_000_000_00,
        "goal_customers": 3,
        "deadline": "2026-12-31",
        **fields,
    }
    response = api.post("/api/v1/war-rooms", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _draft_opportunity(api, customer_id, **fields):
    """An opportunity only its originator sees (a draft)."""
    body = {"title": "扩产流动资金贷款", "customer_id": customer_id, "share": False, **fields}
    return _ok(api.post("/api/v1/opportunities", json=body), 201)


def _ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def test_create_invite_accept_grants_and_removal_revokes(login, crew, db_session):
    owner_api, mate_api = login(crew["owner"]), login(crew["mate"])
    room = _create(owner_api, customer_ids=[crew["own_customer"].id])
    roles = {m["user"]["id"]: m["role"] for m in room["members"]}
    assert roles == {crew["owner"].id: "owner", crew["lead"].id: "observer"}
    assert room["my_role"] == "owner" and room["last_seq"] >= 3

    customer_url = f"/api/v1/customers/{crew['own_customer'].id}"
    assert mate_api.get(customer_url).status_code == 404  # not shared yet

    _ok(
        owner_api.post(f"/api/v1/war-rooms/{room['id']}/invitations", json={"user_ids": [crew["mate"].id]}),
        201,
    )
    invitations = _ok(mate_api.get("/api/v1/war-rooms?scope=invitations"))["items"]
    assert [r["id"] for r in invitations] == [room["id"]]
    assert mate_api.get(customer_url).status_code == 404  # an invitation grants nothing
    assert _ok(mate_api.get(f"/api/v1/war-rooms/{room['id']}")).get("targets") is None  # outline only

    joined = _ok(mate_api.post(f"/api/v1/war-rooms/{room['id']}/invitations/accept"))
    assert joined["my_role"] == "member" and len(joined["targets"]) == 1
    assert mate_api.get(customer_url).status_code == 200  # granted through the room
    grants = db_session.exec(
        select(CustomerGrant).where(
            CustomerGrant.user_id == crew["mate"].id, CustomerGrant.source_id == room["id"]
        )
    ).all()
    assert [(g.source_type, g.revoked_at) for g in grants] == [("war_room", None)]

    # The mate's customer added as a target is shared with the owner (and the observer lead).
    _ok(
        mate_api.post(
            f"/api/v1/war-rooms/{room['id']}/targets",
            json={"customer_id": crew["mate_customer"].id, "amount_cents": 100_00},
        ),
        201,
    )
    assert owner_api.get(f"/api/v1/customers/{crew['mate_customer'].id}").status_code == 200

    _ok(owner_api.delete(f"/api/v1/war-rooms/{room['id']}/members/{crew['mate'].id}"))
    assert mate_api.get(customer_url).status_code == 404  # access ends with membership
    # ... and the mate's customer leaves with its RM: the owner's grant on it ends too.
    assert owner_api.get(f"/api/v1/customers/{crew['mate_customer'].id}").status_code == 404
    assert _ok(mate_api.get("/api/v1/war-rooms?scope=mine"))["items"] == []
    denied = mate_api.get(f"/api/v1/war-rooms/{room['id']}/events")
    assert denied.status_code == 403 and denied.get_json()["code"] == "not-a-member"

    db_session.expire_all()
    actions = [
        (a.action, a.object_id, a.detail.get("user_id"))
        for a in db_session.exec(
            select(AuditEntry).where(AuditEntry.action.in_(["customer.grant", "customer.revoke"]))
        ).all()
        if a.detail.get("source_id") == room["id"] and a.detail.get("source_type") == "war_room"
    ]
    assert ("customer.grant", str(crew["own_customer"].id), crew["mate"].id) in actions
    assert ("customer.revoke", str(crew["own_customer"].id), crew["mate"].id) in actions
    assert ("customer.grant", str(crew["mate_customer"].id), crew["owner"].id) in actions


def test_decline_leave_and_owner_rules(login, crew):
    owner_api, mate_api, remote_api = login(crew["owner"]), login(crew["mate"]), login(crew["remote"])
    room = _create(owner_api, invite_user_ids=[crew["mate"].id, crew["remote"].id])
    roles = {m["user"]["id"]: (m["role"], m["status"]) for m in room["members"]}
    assert roles[crew["remote"].id] == ("remote_expert", "invited")  # another branch: a remote expert
    _ok(remote_api.post(f"/api/v1/war-rooms/{room['id']}/invitations/decline"))
    again = remote_api.post(f"/api/v1/war-rooms/{room['id']}/invitations/accept")
    assert again.status_code == 409 and again.get_json()["code"] == "no-invitation"

    _ok(mate_api.post(f"/api/v1/war-rooms/{room['id']}/invitations/accept"))
    not_owner = mate_api.post(
        f"/api/v1/war-rooms/{room['id']}/invitations", json={"user_ids": [crew["outsider"].id]}
    )
    assert not_owner.status_code == 403
    _ok(mate_api.post(f"/api/v1/war-rooms/{room['id']}/leave"))
    assert owner_api.post(f"/api/v1/war-rooms/{room['id']}/leave").get_json()["code"] == "owner-stays"
    kinds = [e["kind"] for e in _ok(owner_api.get(f"/api/v1/war-rooms/{room['id']}/events"))["items"]]
    assert kinds[-3:] == ["member.declined", "member.joined", "member.left"]


def test_unknown_room_and_outsider(login, crew):
    outsider_api = login(crew["outsider"])
    room = _create(login(crew["owner"]))
    missing = outsider_api.get("/api/v1/war-rooms/999999999")
    assert missing.status_code == 404 and missing.get_json()["code"] == "unknown-room"
    for response in (
        outsider_api.get(f"/api/v1/war-rooms/{room['id']}"),
        outsider_api.post(f"/api/v1/war-rooms/{room['id']}/messages", json={"text": "hi"}),
    ):
        assert response.status_code == 403 and response.get_json()["code"] == "not-a-member"
    bad = outsider_api.post("/api/v1/war-rooms", json={"title": "x", "kind": "nope"})
    assert bad.status_code == 422 and bad.get_json()["code"] == "validation"


def test_quick_war_room_from_customer_suggests_rm_and_product_experts(login, crew, db_session, data_key):
    expert = factories.make_user(db_session, branch=crew["branch"], qualifications=["fund_sales"])
    factories.make_user(db_session, branch=crew["branch"], qualifications=["insurance"])  # not an expert
    product = Product(
        code=factories.unique("P")[:16],
        name="稳健基金",
        category=ProductCategory.fund,
        segment="both",
        terms="T+1",
        required_qualification="fund_sales",
    )
    db_session.add(product)
    db_session.commit()
    # The team lead opens a room from a team member's customer: the customer's RM is suggested.
    lead_api = login(crew["lead"])
    response = lead_api.post(
        "/api/v1/war-rooms/quick",
        json={
            "source_type": "customer",
            "source_id": crew["mate_customer"].id,
            "product_id": product.id,
            "invite_suggested": True,
        },
    )
    room = _ok(response, 201)
    assert room["title"] == f"{crew['mate_customer'].name} 作战室"
    assert room["source"] == {
        "type": "customer",
        "id": crew["mate_customer"].id,
        "title": crew["mate_customer"].name,
    }
    suggested = {s["id"]: s["reason"] for s in room["suggested_members"]}
    assert suggested == {crew["mate"].id: "customer_rm", expert.id: "product_expert"}
    invited = {m["user"]["id"] for m in room["members"] if m["status"] == "invited"}
    assert invited == set(suggested)
    assert [t["customer_id"] for t in room["targets"]] == [crew["mate_customer"].id]

    # From an opportunity: its title, its product's experts, and the opportunity linked to the room.
    owner_api = login(crew["owner"])
    opp = _draft_opportunity(owner_api, crew["own_customer"].id, product_id=product.id)
    opp_room = _ok(
        owner_api.post(
            "/api/v1/war-rooms/quick",
            json={
                "source_type": "opportunity",
                "source_id": opp["id"],
                "customer_id": crew["own_customer"].id,
            },
        ),
        201,
    )
    assert opp_room["title"] == opp["title"]
    assert opp_room["opportunities"] == [{"id": opp["id"], "title": opp["title"], "status": "draft"}]
    assert [t["customer_id"] for t in opp_room["targets"]] == [crew["own_customer"].id]
    assert {s["id"] for s in opp_room["suggested_members"]} == {expert.id}
    kinds = [e["kind"] for e in _ok(owner_api.get(f"/api/v1/war-rooms/{opp_room['id']}/events"))["items"]]
    assert "opportunity.linked" in kinds
    # An opportunity or an alert the caller may not open is not a door into a room.
    for source_type, source_id in (
        ("opportunity", opp["id"]),
        ("opportunity", 999_999_999),
        ("intel_alert", 42),
    ):
        body = {"source_type": source_type, "source_id": source_id}
        assert login(crew["outsider"]).post("/api/v1/war-rooms/quick", json=body).status_code == 404
    # From an intel alert: named after it, its customer the first target.
    alert = factories.make_alert(
        db_session, rm=crew["owner"], customer=crew["own_customer"], title="园区扩建项目中标"
    )
    alert_room = _ok(
        owner_api.post("/api/v1/war-rooms/quick", json={"source_type": "intel_alert", "source_id": alert.id}),
        201,
    )
    title = f"{crew['own_customer'].name}：园区扩建项目中标"
    assert alert_room["title"] == title
    assert alert_room["source"] == {"type": "intel_alert", "id": alert.id, "title": title}
    assert [t["customer_id"] for t in alert_room["targets"]] == [crew["own_customer"].id]
    assert (
        login(crew["mate"])
        .post("/api/v1/war-rooms/quick", json={"source_type": "intel_alert", "source_id": alert.id})
        .status_code
        == 404
    )  # another RM's alert
    # Someone else's customer is not a door into a room.
    hidden = login(crew["outsider"]).post(
        "/api/v1/war-rooms/quick", json={"source_type": "customer", "source_id": crew["own_customer"].id}
    )
    assert hidden.status_code == 404


def test_board_changes_versions_and_progress(login, crew):
    owner_api, mate_api, lead_api = login(crew["owner"]), login(crew["mate"]), login(crew["lead"])
    room = _create(owner_api, invite_user_ids=[crew["mate"].id], customer_ids=[crew["own_customer"].id])
    rid = room["id"]
    _ok(mate_api.post(f"/api/v1/war-rooms/{rid}/invitations/accept"))
    task = _ok(
        owner_api.post(
            f"/api/v1/war-rooms/{rid}/tasks",
            json={"item": "拜访财务总监", "assignee_id": crew["mate"].id, "due_on": "2026-12-05"},
        ),
        201,
    )
    assert task["assignee"]["display_name"] == "李经理" and task["version"] == 1
    moved = _ok(
        mate_api.patch(f"/api/v1/war-rooms/{rid}/tasks/{task['id']}", json={"status": "done", "version": 1})
    )
    assert moved["status"] == "done" and moved["version"] == 2
    stale = owner_api.patch(
        f"/api/v1/war-rooms/{rid}/tasks/{task['id']}", json={"status": "doing"}, headers={"If-Match": '"1"'}
    )
    assert stale.status_code == 412 and stale.get_json()["current"]["status"] == "done"
    not_member = owner_api.post(
        f"/api/v1/war-rooms/{rid}/tasks", json={"item": "x", "assignee_id": crew["outsider"].id}
    )
    assert not_member.status_code == 422
    observer = lead_api.post(f"/api/v1/war-rooms/{rid}/tasks", json={"item": "盯一下"})
    assert observer.status_code == 403  # the observing lead steers in chat

    target_id = room["targets"][0]["id"]
    _ok(
        mate_api.patch(
            f"/api/v1/war-rooms/{rid}/targets/{target_id}",
            json={"stage": "won", "amount_cents": 2_500_000_00},
        )
    )
    _ok(owner_api.post(f"/api/v1/war-rooms/{rid}/targets", json={"prospect_name": "张江某新材料公司"}), 201)
    opp = _draft_opportunity(owner_api, crew["own_customer"].id)
    _ok(owner_api.post(f"/api/v1/war-rooms/{rid}/opportunities", json={"opportunity_id": opp["id"]}), 201)
    hidden_opp = mate_api.post(f"/api/v1/war-rooms/{rid}/opportunities", json={"opportunity_id": opp["id"]})
    assert hidden_opp.status_code == 404  # a member links only what they may see

    board = {r["id"]: r for r in _ok(lead_api.get("/api/v1/war-rooms/board"))["items"]}
    progress = board[rid]["progress"]
    assert progress == {
        "won_amount_cents": 2_500_000_00,
        "won_customers": 1,
        "targets": 2,
        "tasks_done": 1,
        "tasks": 1,
        "percent": round(100 * (0.5 + 1 / 3) / 2),
    }
    assert board[rid]["members"] == 3
    assert login(crew["owner"]).get("/api/v1/war-rooms/board").status_code == 403
    detail = _ok(owner_api.get(f"/api/v1/war-rooms/{rid}"))
    assert detail["opportunity_ids"] == [opp["id"]]

    events = _ok(owner_api.get(f"/api/v1/war-rooms/{rid}/events"))
    seqs = [e["seq"] for e in events["items"]]
    assert seqs == list(range(1, len(seqs) + 1)) and events["last_seq"] == seqs[-1]

    closed = _ok(
        owner_api.patch(f"/api/v1/war-rooms/{rid}", json={"status": "won", "version": detail["version"]})
    )
    assert closed["status"] == "won"
    assert (
        mate_api.get(f"/api/v1/customers/{crew['own_customer'].id}").status_code == 404
    )  # room over, access over
    late = mate_api.post(f"/api/v1/war-rooms/{rid}/messages", json={"text": "还在吗"})
    assert late.status_code == 409 and late.get_json()["code"] == "room-closed"
    reopened = _ok(owner_api.patch(f"/api/v1/war-rooms/{rid}", json={"status": "active"}))
    assert reopened["status"] == "active"
    assert mate_api.get(f"/api/v1/customers/{crew['own_customer'].id}").status_code == 200


def test_messages_cards_mentions_size_and_idempotent_resend(login, crew, db_session):
    owner_api, mate_api = login(crew["owner"]), login(crew["mate"])
    room = _create(owner_api, invite_user_ids=[crew["mate"].id])
    rid = room["id"]
    _ok(mate_api.post(f"/api/v1/war-rooms/{rid}/invitations/accept"))
    opp = _draft_opportunity(owner_api, crew["own_customer"].id)
    _ok(owner_api.post(f"/api/v1/war-rooms/{rid}/opportunities", json={"opportunity_id": opp["id"]}), 201)
    client_id = str(uuid.uuid4())
    body = {
        "text": "<b>@李经理</b> 明天一起去",
        "client_id": client_id,
        "mentions": [crew["mate"].id, crew["outsider"].id],
        "cards": [
            {"type": "customer", "id": crew["own_customer"].id},
            {"type": "opportunity", "id": opp["id"]},
        ],
    }
    first = _ok(owner_api.post(f"/api/v1/war-rooms/{rid}/messages", json=body), 201)
    assert first["payload"]["text"] == body["text"]  # stored as text; the client renders it as text
    assert first["payload"]["mentions"] == [crew["mate"].id]  # only members can be mentioned
    assert first["payload"]["cards"][0]["title"] == crew["own_customer"].name
    assert first["payload"]["cards"][1] == {
        "type": "opportunity",
        "id": opp["id"],
        "title": opp["title"],
        "subtitle": "draft",
    }
    again = _ok(owner_api.post(f"/api/v1/war-rooms/{rid}/messages", json=body), 200)
    assert again["seq"] == first["seq"]
    stored = db_session.exec(
        select(WarRoomEvent).where(WarRoomEvent.room_id == rid, WarRoomEvent.client_id == client_id)
    ).all()
    assert len(stored) == 1 and stored[0].payload == first["payload"]  # the checked cards and mentions stored
    # A member cannot show a card for a customer they may not see.
    hidden = mate_api.post(
        f"/api/v1/war-rooms/{rid}/messages",
        json={"text": "看看", "cards": [{"type": "customer", "id": crew["own_customer"].id}]},
    )
    assert hidden.status_code == 404
    # The room's linked opportunity is shown to members even if they could not open it alone.
    linked = _ok(
        mate_api.post(
            f"/api/v1/war-rooms/{rid}/messages",
            json={"text": "看这个", "cards": [{"type": "opportunity", "id": opp["id"]}]},
        ),
        201,
    )
    assert linked["payload"]["cards"][0]["title"] == opp["title"]
    other_opp = _draft_opportunity(owner_api, crew["own_customer"].id, title="另一个商机")
    unseen = mate_api.post(
        f"/api/v1/war-rooms/{rid}/messages",
        json={"text": "x", "cards": [{"type": "opportunity", "id": other_opp["id"]}]},
    )
    assert unseen.status_code == 404
    longest = _ok(
        mate_api.post(f"/api/v1/war-rooms/{rid}/messages", json={"text": "好" * 1365}), 201
    )  # 4095 bytes
    assert longest["seq"] == linked["seq"] + 1  # a refused card took no number
    big = mate_api.post(f"/api/v1/war-rooms/{rid}/messages", json={"text": "好" * 1366})  # 4098 bytes
    assert big.status_code == 413 and big.get_json()["code"] == "too-large"

    mine = {r["id"]: r for r in _ok(mate_api.get("/api/v1/war-rooms"))["items"]}
    assert mine[rid]["unread"] > 0
    _ok(mate_api.post(f"/api/v1/war-rooms/{rid}/read", json={"seq": mine[rid]["last_seq"]}))
    assert {r["id"]: r for r in _ok(mate_api.get("/api/v1/war-rooms"))["items"]}[rid]["unread"] == 0


def test_sequence_is_gapless_under_concurrent_writers(app, login, crew, monkeypatch):
    monkeypatch.setattr(app.config["SETTINGS"], "WARROOM_RATE_LIMIT", 1000)  # one user writes 32
    owner_api = login(crew["owner"])
    room = _create(owner_api)
    rid, start = room["id"], room["last_seq"]
    writers, per_writer, errors = 4, 8, []

    def write(n: int) -> None:
        try:
            for i in range(per_writer):
                with app.app_context(), Session(db.engine_for(app), expire_on_commit=False) as session:
                    user = session.get(User, crew["owner"].id)
                    chat.post_message(
                        session,
                        room_id=rid,
                        user=user,
                        data=MessageIn(text=f"w{n}-{i}", client_id=f"w{n}-{i}"),
                    )
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    items = _ok(owner_api.get(f"/api/v1/war-rooms/{rid}/events?after_seq={start}"))["items"]
    assert [e["seq"] for e in items] == list(range(start + 1, start + 1 + writers * per_writer))
    # Each writer's own messages keep their order.
    for n in range(writers):
        mine = [e["payload"]["text"] for e in items if e["payload"]["text"].startswith(f"w{n}-")]
        assert mine == [f"w{n}-{i}" for i in range(per_writer)]


def test_a_member_message_is_two_statements_and_a_resend_is_answered_from_the_unique_key(app, login, crew):
    """Every chat message pays each statement as a round trip: the sequence is taken only if the
    room is open and the sender an active member (one UPDATE), then the INSERT; a re-sent client_id
    is found through the unique key, not looked up before every first send. A non-member and a
    closed room still get their own codes."""
    from sqlalchemy import event

    from server.errors import Problem

    owner_api = login(crew["owner"])
    room = _create(owner_api)
    rid = room["id"]
    engine = db.engine_for(app)
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    def post(user_id: int, client_id: str) -> tuple[dict, bool]:
        with app.app_context(), Session(engine, expire_on_commit=False) as session:
            user = session.get(User, user_id)
            event.listen(engine, "before_cursor_execute", count)
            try:
                return chat.post_message(
                    session, room_id=rid, user=user, data=MessageIn(text="到园区了", client_id=client_id)
                )
            finally:
                event.remove(engine, "before_cursor_execute", count)

    first, created = post(crew["owner"].id, "once-1")
    assert created and statements == ["UPDATE", "INSERT"], statements
    again, created = post(crew["owner"].id, "once-1")
    assert not created and again["seq"] == first["seq"] and again["payload"] == first["payload"]
    items = _ok(owner_api.get(f"/api/v1/war-rooms/{rid}/events?after_seq={first['seq'] - 1}"))["items"]
    assert [e["seq"] for e in items] == [first["seq"]]  # the resend took no number
    with pytest.raises(Problem) as refused:
        post(crew["outsider"].id, "outsider-1")
    assert refused.value.code == "not-a-member"
    version = _ok(owner_api.get(f"/api/v1/war-rooms/{rid}"))["version"]
    _ok(owner_api.patch(f"/api/v1/war-rooms/{rid}", json={"status": "won", "version": version}))
    with pytest.raises(Problem) as closed:
        post(crew["owner"].id, "late-1")
    assert closed.value.code == "room-closed"


def test_people_search_finds_colleagues_to_invite(login, crew):
    api = login(crew["owner"])
    found = _ok(api.get("/api/v1/war-rooms/people?q=李经理"))["items"]
    assert crew["mate"].id in [p["id"] for p in found]
    assert set(found[0]) == {"id", "display_name", "role", "branch_id"}  # nothing personal
    assert api.get("/api/v1/war-rooms/people").status_code == 422


def test_remove_target_revokes_its_grants_and_is_numbered_like_any_change(login, crew, db_session):
    owner_api, mate_api, lead_api = login(crew["owner"]), login(crew["mate"]), login(crew["lead"])
    room = _create(owner_api, invite_user_ids=[crew["mate"].id], customer_ids=[crew["own_customer"].id])
    rid = room["id"]
    _ok(mate_api.post(f"/api/v1/war-rooms/{rid}/invitations/accept"))
    own_target = room["targets"][0]
    prospect = _ok(
        mate_api.post(f"/api/v1/war-rooms/{rid}/targets", json={"prospect_name": "某新材料公司"}), 201
    )
    customer_url = f"/api/v1/customers/{crew['own_customer'].id}"
    assert mate_api.get(customer_url).status_code == 200  # shared through the room

    # A member removes only what they added; the observing lead changes nothing; the owner any.
    denied = mate_api.delete(f"/api/v1/war-rooms/{rid}/targets/{own_target['id']}")
    assert denied.status_code == 403 and denied.get_json()["code"] == "forbidden"
    assert lead_api.delete(f"/api/v1/war-rooms/{rid}/targets/{prospect['id']}").status_code == 403
    stale = owner_api.delete(
        f"/api/v1/war-rooms/{rid}/targets/{own_target['id']}", headers={"If-Match": '"7"'}
    )
    assert stale.status_code == 412 and stale.get_json()["current"]["id"] == own_target["id"]
    _ok(mate_api.delete(f"/api/v1/war-rooms/{rid}/targets/{prospect['id']}"))
    before = _ok(owner_api.get(f"/api/v1/war-rooms/{rid}"))["last_seq"]
    _ok(owner_api.delete(f"/api/v1/war-rooms/{rid}/targets/{own_target['id']}", headers={"If-Match": '"1"'}))
    gone = owner_api.delete(f"/api/v1/war-rooms/{rid}/targets/{own_target['id']}")
    assert gone.status_code == 404 and gone.get_json()["code"] == "not-found"

    detail = _ok(owner_api.get(f"/api/v1/war-rooms/{rid}"))
    assert detail["targets"] == [] and detail["progress"]["targets"] == 0
    events = _ok(owner_api.get(f"/api/v1/war-rooms/{rid}/events?after_seq={before}"))["items"]
    assert [(e["seq"], e["kind"], e["payload"]["target"]["id"]) for e in events] == [
        (before + 1, "target.removed", own_target["id"])
    ]
    assert mate_api.get(customer_url).status_code == 404  # access ended with the target
    db_session.expire_all()
    audit = [
        (a.action, a.detail.get("user_id"))
        for a in db_session.exec(
            select(AuditEntry).where(
                AuditEntry.object_type == "customer", AuditEntry.object_id == str(crew["own_customer"].id)
            )
        ).all()
        if rid in (a.detail.get("room_id"), a.detail.get("source_id"))
    ]
    assert ("customer.revoke", crew["mate"].id) in audit and ("warroom.untarget", None) in audit
    # Added again later, it is shared again.
    _ok(
        owner_api.post(f"/api/v1/war-rooms/{rid}/targets", json={"customer_id": crew["own_customer"].id}), 201
    )
    assert mate_api.get(customer_url).status_code == 200


def test_invitations_and_mentions_reach_the_inbox_once(login, crew):
    owner_api, mate_api, remote_api = login(crew["owner"]), login(crew["mate"]), login(crew["remote"])
    room = _create(owner_api, invite_user_ids=[crew["mate"].id])
    rid = room["id"]

    def warroom_inbox(api):
        items = _ok(api.get("/api/v1/inbox"))["items"]
        return [(n["title"], n["url"]) for n in items if n["kind"] == "warroom"]

    assert warroom_inbox(mate_api) == [("作战室邀请", f"/war-rooms/{rid}")]
    _ok(mate_api.post(f"/api/v1/war-rooms/{rid}/invitations/accept"))

    body = {"text": "@李经理 @王经理 明天九点碰头", "client_id": str(uuid.uuid4())}
    body["mentions"] = [crew["mate"].id, crew["owner"].id, crew["remote"].id]
    _ok(owner_api.post(f"/api/v1/war-rooms/{rid}/messages", json=body), 201)
    _ok(owner_api.post(f"/api/v1/war-rooms/{rid}/messages", json=body), 200)  # a re-send
    mentioned = warroom_inbox(mate_api)
    assert mentioned.count(("王经理 在作战室提到了你", f"/war-rooms/{rid}")) == 1
    assert warroom_inbox(owner_api) == []  # mentioning yourself notifies no one
    assert warroom_inbox(remote_api) == []  # not a member: neither mentioned nor told


def test_http_messages_share_the_rate_limit(app, login, crew, monkeypatch):
    """The offline outbox posts over HTTP: the same per-user budget as the socket applies there."""
    monkeypatch.setattr(app.config["SETTINGS"], "WARROOM_RATE_LIMIT", 3)
    owner_api = login(crew["owner"])
    room = _create(owner_api)
    url = f"/api/v1/war-rooms/{room['id']}/messages"
    for i in range(3):
        _ok(owner_api.post(url, json={"text": f"第{i}条", "client_id": f"rl-{i}"}), 201)
    limited = owner_api.post(url, json={"text": "刷屏", "client_id": "rl-3"})
    assert limited.status_code == 429, limited.get_data(as_text=True)
    assert limited.get_json()["code"] == "rate-limited"
    assert int(limited.headers["Retry-After"]) >= 1
    events = _ok(owner_api.get(f"/api/v1/war-rooms/{room['id']}/events"))["items"]
    assert [e["payload"]["text"] for e in events if e["kind"] == "message"] == ["第0条", "第1条", "第2条"]


def _join(owner_api, member_api, room_id, user_id):
    _ok(owner_api.post(f"/api/v1/war-rooms/{room_id}/invitations", json={"user_ids": [user_id]}), 201)
    _ok(member_api.post(f"/api/v1/war-rooms/{room_id}/invitations/accept"))


def test_ids_of_others_customers_answer_exactly_like_missing_ones(login, crew, db_session, data_key):
    """A member cannot pull a colleague's customer into the room by its id: the answer is the one a
    missing id gets (status, code and body), nothing is stored and nothing is lent."""
    owner_api, mate_api = login(crew["owner"]), login(crew["mate"])
    room = _create(owner_api)
    _join(owner_api, mate_api, room["id"], crew["mate"].id)
    stranger = factories.make_customer(db_session, owner=crew["remote"], data_key=data_key)
    url = f"/api/v1/war-rooms/{room['id']}/targets"
    missing = mate_api.post(url, json={"customer_id": 987_654_321})
    answers = [
        mate_api.post(url, json={"customer_id": cid})
        for cid in (crew["own_customer"].id, stranger.id)  # a fellow member's, an outsider RM's
    ]
    assert missing.status_code == 404
    for answer in answers:
        assert (answer.status_code, answer.get_json()) == (missing.status_code, missing.get_json())
    assert _ok(owner_api.get(f"/api/v1/war-rooms/{room['id']}"))["targets"] == []
    assert mate_api.get(f"/api/v1/customers/{crew['own_customer'].id}").status_code == 404
    lent = select(CustomerGrant).where(
        CustomerGrant.source_type == "war_room", CustomerGrant.source_id == room["id"]
    )
    assert db_session.exec(lent).all() == []


def test_a_request_waits_for_the_owners_approval(login, crew, db_session):
    """The team lead sees the team's customers but owns none of them: a target they add is a pending
    request that lends nothing and names no one until the customer's RM approves it from the inbox
    item or the room; a declined request is removed."""
    lead_api, owner_api, mate_api = login(crew["lead"]), login(crew["owner"]), login(crew["mate"])
    room = _create(lead_api, customer_ids=[crew["own_customer"].id])
    rid = room["id"]
    [pending] = room["targets"]
    assert pending["consent"] == "pending" and pending["owner_id"] == crew["owner"].id
    _join(lead_api, owner_api, rid, crew["owner"].id)
    _join(lead_api, mate_api, rid, crew["mate"].id)
    customer_url = f"/api/v1/customers/{crew['own_customer'].id}"
    assert mate_api.get(customer_url).status_code == 404  # a request lends nothing
    [seen_by_mate] = _ok(mate_api.get(f"/api/v1/war-rooms/{rid}"))["targets"]
    assert seen_by_mate["name"] is None and seen_by_mate["consent"] == "pending"
    [seen_by_owner] = _ok(owner_api.get(f"/api/v1/war-rooms/{rid}"))["targets"]
    assert seen_by_owner["name"] == crew["own_customer"].name
    added = [
        e
        for e in _ok(mate_api.get(f"/api/v1/war-rooms/{rid}/events"))["items"]
        if e["kind"] == "target.added"
    ]
    assert added[0]["payload"]["target"]["name"] is None  # the broadcast names no one either

    items = _ok(owner_api.get("/api/v1/inbox"))["items"]
    asks = [n for n in items if n["kind"] == "warroom" and "?approve=" in n["url"]]
    assert [n["url"] for n in asks] == [f"/war-rooms/{rid}?approve={pending['id']}"]

    approve_url = f"/api/v1/war-rooms/{rid}/targets/{pending['id']}/approve"
    # Only the customer's RM decides; to anyone else the request does not exist.
    for api in (mate_api, lead_api):
        refused = api.post(approve_url)
        assert refused.status_code == 404 and refused.get_json()["code"] == "not-found"
    approved = _ok(owner_api.post(approve_url))
    assert approved["consent"] == "approved" and approved["name"] == crew["own_customer"].name
    assert mate_api.get(customer_url).status_code == 200
    assert owner_api.post(approve_url).status_code == 404  # decided once

    # A second request, declined: removed, nothing lent.
    request = _ok(
        lead_api.post(f"/api/v1/war-rooms/{rid}/targets", json={"customer_id": crew["mate_customer"].id}), 201
    )
    assert request["consent"] == "pending" and request["name"] is None
    assert owner_api.get(f"/api/v1/customers/{crew['mate_customer'].id}").status_code == 404
    _ok(mate_api.post(f"/api/v1/war-rooms/{rid}/targets/{request['id']}/decline"))
    targets = _ok(lead_api.get(f"/api/v1/war-rooms/{rid}"))["targets"]
    assert [t["id"] for t in targets] == [pending["id"]]
    assert owner_api.get(f"/api/v1/customers/{crew['mate_customer'].id}").status_code == 404

    db_session.expire_all()
    actions = [
        a.action
        for a in db_session.exec(select(AuditEntry).where(AuditEntry.action.like("warroom.target_%"))).all()
        if a.detail.get("room_id") == rid
    ]
    assert actions.count("warroom.target_request") == 2
    assert actions.count("warroom.target_approve") == 1 and actions.count("warroom.target_decline") == 1


def test_grants_on_an_rms_customers_end_when_that_rm_leaves(login, crew):
    owner_api, mate_api = login(crew["owner"]), login(crew["mate"])
    room = _create(owner_api)
    rid = room["id"]
    _join(owner_api, mate_api, rid, crew["mate"].id)
    target = _ok(
        mate_api.post(f"/api/v1/war-rooms/{rid}/targets", json={"customer_id": crew["mate_customer"].id}), 201
    )
    assert target["consent"] == "approved"  # the RM's own customer goes in at once
    mate_customer_url = f"/api/v1/customers/{crew['mate_customer'].id}"
    assert owner_api.get(mate_customer_url).status_code == 200
    _ok(mate_api.post(f"/api/v1/war-rooms/{rid}/leave"))
    assert owner_api.get(mate_customer_url).status_code == 404
    [withheld] = _ok(owner_api.get(f"/api/v1/war-rooms/{rid}"))["targets"]
    assert withheld["consent"] == "pending" and withheld["name"] is None
    kinds = [e["kind"] for e in _ok(owner_api.get(f"/api/v1/war-rooms/{rid}/events"))["items"]]
    assert kinds[-2:] == ["member.left", "target.withheld"]


def test_adding_targets_is_rate_limited(app, login, crew, monkeypatch):
    """Every id tried counts, found or not: 200 probes in a second are not possible."""
    monkeypatch.setattr(app.config["SETTINGS"], "WARROOM_TARGET_RATE_LIMIT", 5)
    owner_api = login(crew["owner"])
    room = _create(owner_api)
    url = f"/api/v1/war-rooms/{room['id']}/targets"
    codes = [owner_api.post(url, json={"customer_id": 900_000 + i}).status_code for i in range(4)]
    codes.append(owner_api.post(url, json={"prospect_name": "张江科技"}).status_code)
    assert codes == [404, 404, 404, 404, 201]
    limited = owner_api.post(url, json={"prospect_name": "陆家嘴金融"})
    assert limited.status_code == 429 and limited.get_json()["code"] == "rate-limited"


def test_a_card_shows_a_colleagues_customer_only_once_it_is_an_approved_target(login, crew):
    """The team lead sees the whole team's book, but a card would name a member's customer to the
    room: like a target, it enters only by its RM's consent."""
    owner_api, lead_api = login(crew["owner"]), login(crew["lead"])
    room = _create(owner_api)
    rid = room["id"]
    card = {"text": "看看这家", "cards": [{"type": "customer", "id": crew["mate_customer"].id}]}
    refused = lead_api.post(f"/api/v1/war-rooms/{rid}/messages", json=card)
    missing = lead_api.post(
        f"/api/v1/war-rooms/{rid}/messages",
        json={"text": "看看这家", "cards": [{"type": "customer", "id": 987_654_321}]},
    )
    assert refused.status_code == missing.status_code == 404
    assert refused.get_json()["code"] == missing.get_json()["code"]
    # The owner's own customer, added by the owner, is an approved target: any member may show it.
    assert (
        owner_api.post(
            f"/api/v1/war-rooms/{rid}/targets", json={"customer_id": crew["own_customer"].id}
        ).status_code
        == 201
    )
    shown = lead_api.post(
        f"/api/v1/war-rooms/{rid}/messages",
        json={"text": "这家", "cards": [{"type": "customer", "id": crew["own_customer"].id}]},
    )
    assert shown.status_code == 201, shown.get_data(as_text=True)


def test_a_refused_target_with_an_idempotency_key_is_a_clean_404_and_replays(login, crew):
    """The room lock the view takes ends with the refusal: the key's record is stored (no 'database
    is locked' on SQLite) and the same key answers the same 404 again."""
    owner_api = login(crew["owner"])
    room = _create(owner_api)
    url = f"/api/v1/war-rooms/{room['id']}/targets"
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    first = owner_api.post(url, json={"customer_id": 987_654_321}, headers=headers)
    assert first.status_code == 404, first.get_json()
    again = owner_api.post(url, json={"customer_id": 987_654_321}, headers=headers)
    assert (again.status_code, again.get_json()) == (404, first.get_json())
    assert again.headers.get("Idempotent-Replayed") == "true"


def test_messages_posted_in_one_session_that_holds_the_room_take_fresh_numbers(app, login, crew):
    """A session that already holds the room (the demo loader creating a room and then its chat, a
    request that read the room first) keeps objects across commits: each message's number must come
    from the row the UPDATE returned, not from the room object the session had before."""
    owner_api = login(crew["owner"])
    rid = _create(owner_api)["id"]
    with app.app_context(), Session(db.engine_for(app), expire_on_commit=False) as session:
        user = session.get(User, crew["owner"].id)
        held = session.get(WarRoom, rid)
        before = held.last_seq
        seqs = [
            chat.post_message(session, room_id=rid, user=user, data=MessageIn(text=f"第{n}条"))[0]["seq"]
            for n in range(3)
        ]
        assert seqs == [before + 1, before + 2, before + 3]
        assert held.last_seq == before + 3  # the object the session holds shows the new counter too
    items = _ok(owner_api.get(f"/api/v1/war-rooms/{rid}/events?after_seq={before}"))["items"]
    assert [(e["seq"], e["payload"]["text"]) for e in items] == [
        (before + 1 + n, f"第{n}条") for n in range(3)
    ]
