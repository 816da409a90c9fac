"""Campaigns: bulk targets from a source (a chain, a park, a search filter, a company's staff, a file),
each one numbered event with contiguous seqs, idempotent on retry, others' customers by consent, and
the room's access ending with it."""

import base64
import io
import uuid
import zipfile
from collections import Counter

import pytest
from sqlmodel import Session, col, select

from server.audit.models import AuditEntry
from server.customers.models import (
    CorporateProfile,
    Customer,
    CustomerGrant,
    CustomerKind,
    CustomerLink,
    IndividualProfile,
)
from server.inbox.models import Notification
from server.opportunities.models import Opportunity
from server.org.models import User
from server.performance.models import PerformanceEntry
from server.pinyin import initials
from server.timeutil import utcnow
from server.warrooms.models import WarRoomEvent, WarRoomOpportunity, WarRoomTarget
from tests import factories


@pytest.fixture
def crew(db_session, data_key):
    branch = factories.make_branch(db_session)
    team = factories.make_team(db_session, branch=branch)
    owner = factories.make_user(db_session, team=team, branch=branch, display_name="王经理")
    mate = factories.make_user(db_session, team=team, branch=branch, display_name="李经理")
    third = factories.make_user(db_session, team=team, branch=branch, display_name="赵经理")
    outsider = factories.make_user(db_session, branch=branch)
    return dict(
        lead=db_session.get(User, team.lead_id), owner=owner, mate=mate, third=third, outsider=outsider
    )


def _firms(
    session: Session, owner: User, count: int, *, prefix: str, address: str | None = None
) -> list[int]:
    """Many corporate customers in one flush (the factory commits one by one)."""
    rows = []
    for i in range(count):
        name = f"{prefix}{uuid.uuid4().hex[:8]}{i}有限公司"
        rows.append(
            Customer(
                kind=CustomerKind.corporate,
                name=name,
                name_initials=initials(name)[:64],
                owner_id=owner.id,
                branch_id=owner.branch_id,
                region_code="310115",
                industry_code="C36",
            )
        )
    session.add_all(rows)
    session.flush()
    session.add_all(
        CorporateProfile(customer_id=c.id, credit_code=factories.credit_code(), address=address) for c in rows
    )
    session.commit()
    return [c.id for c in rows]


def _ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def _room(api, kind="project_marketing", invite=()):
    body = {"title": "核心企业上下游项目", "kind": kind, "mode": "joint", "invite_user_ids": list(invite)}
    return _ok(api.post("/api/v1/war-rooms", json=body), 201)


def _bulk(api, room_id, source, key=None, status=201):
    body = {"client_key": key or uuid.uuid4().hex, "source": source}
    return _ok(api.post(f"/api/v1/war-rooms/{room_id}/targets/bulk", json=body), status)


def _seqs(session: Session, room_id: int, bulk_id: int) -> list[int]:
    session.expire_all()
    events = session.exec(
        select(WarRoomEvent).where(WarRoomEvent.room_id == room_id, WarRoomEvent.kind == "target.added")
    ).all()
    return sorted(e.seq for e in events if e.payload.get("bulk_id") == bulk_id)


def test_chain_of_1000_one_seq_each_no_gap_no_duplicate_consent_and_access_ends(login, crew, db_session):
    owner, mate = crew["owner"], crew["mate"]
    core = _firms(db_session, owner, 1, prefix="核心")[0]
    own_up = _firms(db_session, owner, 500, prefix="上游")
    mates_down = _firms(db_session, mate, 300, prefix="下游")
    second_hop = _firms(db_session, owner, 99, prefix="二级")
    links = [
        CustomerLink(from_customer_id=core, to_customer_id=c, kind="supplier", label="原材料供应")
        for c in own_up
    ]
    # Downstream recorded on the buyer's side: the buyer names the core as its supplier.
    links += [
        CustomerLink(from_customer_id=c, to_customer_id=core, kind="supplier", label="采购")
        for c in mates_down
    ]
    links += [
        CustomerLink(from_customer_id=own_up[i], to_customer_id=c, kind="supplier", label="配件")
        for i, c in enumerate(second_hop)
    ]
    links += [
        CustomerLink(from_customer_id=core, to_name=f"未开户供应商{i}有限公司", kind="supplier")
        for i in range(100)
    ]
    db_session.add_all(links)
    db_session.commit()

    owner_api, mate_api, third_api = login(owner), login(mate), login(crew["third"])
    room = _room(owner_api, invite=[crew["third"].id])
    _ok(third_api.post(f"/api/v1/war-rooms/{room['id']}/invitations/accept"))
    source = {"type": "chain", "core_customer_id": core, "direction": "both", "hops": 2}

    preview = _ok(
        owner_api.post(
            f"/api/v1/war-rooms/{room['id']}/targets/bulk",
            json={"client_key": uuid.uuid4().hex, "source": source, "dry_run": True},
        )
    )
    assert (preview["found"], preview["added"], preview["requested"], preview["prospects"]) == (
        1000,
        600,
        300,
        100,
    )

    key = uuid.uuid4().hex
    result = _bulk(owner_api, room["id"], source, key)
    assert (result["added"], result["requested"], result["prospects"], result["owners_asked"]) == (
        600,
        300,
        100,
        1,
    )
    seqs = _seqs(db_session, room["id"], result["bulk_id"])
    assert len(seqs) == 1000 and seqs == list(range(seqs[0], seqs[0] + 1000))
    assert (result["first_seq"], result["last_seq"]) == (seqs[0], seqs[-1])

    again = _bulk(owner_api, room["id"], source, key, status=200)  # a retry adds nothing
    assert again["replayed"] and again["bulk_id"] == result["bulk_id"]
    other_key = _bulk(owner_api, room["id"], source)  # a new bulk of the same chain: all already in
    assert other_key["added"] == 0 and other_key["skipped"] == 1000 and other_key["first_seq"] is None
    db_session.expire_all()
    targets = db_session.exec(select(WarRoomTarget).where(WarRoomTarget.room_id == room["id"])).all()
    assert len(targets) == 1000
    assert len({t.customer_id for t in targets if t.customer_id}) == 900
    notes = {t.customer_id: t.source_note for t in targets}
    assert notes[core] == "核心企业" and notes[own_up[0]] == "上游 1 级 · 原材料供应"
    assert notes[second_hop[0]] == "上游 2 级 · 配件" and notes[mates_down[0]] == "下游 1 级 · 采购"

    # The mate's 300 customers are requests: one inbox item for the mate for the whole bulk, no grant.
    inbox = db_session.exec(select(Notification).where(Notification.user_id == mate.id)).all()
    assert len(inbox) == 1 and "300" in inbox[0].body
    assert third_api.get(f"/api/v1/customers/{mates_down[0]}").status_code == 404
    assert third_api.get(f"/api/v1/customers/{own_up[0]}").status_code == 200  # the owner's: lent
    # The owner's 600 customers lent to the other active members (the third RM and the team lead, an
    # observer): 1,200 grants, each audited once.
    grants = db_session.exec(
        select(CustomerGrant).where(
            CustomerGrant.source_type == "war_room", CustomerGrant.source_id == room["id"]
        )
    ).all()
    lent_to = {crew["third"].id, crew["lead"].id}
    assert Counter(g.user_id for g in grants) == {u: 600 for u in lent_to}
    assert {g.customer_id for g in grants} == {core, *own_up, *second_hop}
    granted = db_session.exec(select(AuditEntry).where(AuditEntry.action == "customer.grant")).all()
    granted = [a for a in granted if a.detail.get("source_id") == room["id"]]
    assert Counter((int(a.object_id), a.detail["user_id"]) for a in granted) == Counter(
        (g.customer_id, g.user_id) for g in grants
    )
    audits = db_session.exec(
        select(AuditEntry).where(col(AuditEntry.action).in_(["warroom.target_add", "warroom.target_request"]))
    ).all()
    mine = [a for a in audits if a.detail.get("bulk_id") == result["bulk_id"]]
    assert len(mine) == 1000 and sorted(a.detail["seq"] for a in mine) == seqs

    # Access ends with the room.
    detail = _ok(owner_api.get(f"/api/v1/war-rooms/{room['id']}"))
    _ok(
        owner_api.patch(
            f"/api/v1/war-rooms/{room['id']}", json={"status": "won", "version": detail["version"]}
        )
    )
    assert third_api.get(f"/api/v1/customers/{own_up[0]}").status_code == 404
    closed = owner_api.post(
        f"/api/v1/war-rooms/{room['id']}/targets/bulk",
        json={"client_key": uuid.uuid4().hex, "source": source},
    )
    assert closed.status_code == 409 and closed.get_json()["code"] == "room-closed"
    assert mate_api.get(f"/api/v1/war-rooms/{room['id']}/events").status_code == 403


def _csv(rows: list[list[str]]) -> str:
    text = "\n".join(",".join(r) for r in rows)
    return base64.b64encode(text.encode("utf-8-sig")).decode()


def test_list_of_1000_from_a_file_with_row_errors_and_retry(login, crew, db_session):
    owner, mate = crew["owner"], crew["mate"]
    mine = _firms(db_session, owner, 400, prefix="名单")
    theirs = _firms(db_session, mate, 100, prefix="同事")
    codes = dict(
        db_session.exec(
            select(CorporateProfile.customer_id, CorporateProfile.credit_code).where(
                col(CorporateProfile.customer_id).in_(mine + theirs)
            )
        ).all()
    )
    rows = [["客户编号", "统一社会信用代码", "客户名称", "预计金额"]]
    rows += [[str(c), "", "", "1000"] for c in mine]
    rows += [["", codes[c], "", '"2,500.50"'] for c in theirs]
    rows += [["", "", f"批发名单{i}有限公司", ""] for i in range(500)]
    owner_api = login(owner)
    room = _room(owner_api, kind="wholesale")

    bad = rows + [[str(theirs[0]), "", "", ""], ["", "", "X", ""], ["", "", "某某有限公司", "abc"]]
    response = owner_api.post(
        f"/api/v1/war-rooms/{room['id']}/targets/bulk",
        json={
            "client_key": uuid.uuid4().hex,
            "source": {"type": "file", "filename": "名单.csv", "content_base64": _csv(bad)},
        },
    )
    problem = response.get_json()
    assert response.status_code == 422 and problem["code"] == "bad-file"
    # The mate's customer by internal id answers like a missing one; lines count the header as 1.
    assert [(e["line"], e["field"]) for e in problem["errors"]] == [
        (1002, "customer_id"),
        (1003, "name"),
        (1004, "amount"),
    ]
    assert db_session.exec(select(WarRoomTarget).where(WarRoomTarget.room_id == room["id"])).first() is None

    source = {"type": "file", "filename": "名单.csv", "content_base64": _csv(rows)}
    key = uuid.uuid4().hex
    result = _bulk(owner_api, room["id"], source, key)
    assert (result["added"], result["requested"], result["prospects"]) == (400, 100, 500)
    seqs = _seqs(db_session, room["id"], result["bulk_id"])
    assert seqs == list(range(result["first_seq"], result["first_seq"] + 1000))
    assert _bulk(owner_api, room["id"], source, key, status=200)["replayed"]
    assert _seqs(db_session, room["id"], result["bulk_id"]) == seqs
    db_session.expire_all()
    amounts = {
        t.customer_id: t.amount_cents
        for t in db_session.exec(select(WarRoomTarget).where(WarRoomTarget.room_id == room["id"])).all()
    }
    assert amounts[mine[0]] == 100_000 and amounts[theirs[0]] == 250_050


def test_file_bounds_are_checked_before_parsing(login, crew):
    owner_api = login(crew["owner"])
    room = _room(owner_api, kind="wholesale")
    url = f"/api/v1/war-rooms/{room['id']}/targets/bulk"
    # An XLSX that declares a huge uncompressed member is refused before openpyxl reads it.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (30 * 1024 * 1024) + b">")
    bomb = base64.b64encode(buffer.getvalue()).decode()
    response = owner_api.post(
        url,
        json={
            "client_key": uuid.uuid4().hex,
            "source": {"type": "file", "filename": "a.xlsx", "content_base64": bomb},
        },
    )
    assert response.status_code == 422 and response.get_json()["code"] == "bad-file"
    too_many = _csv([["客户名称"]] + [[f"公司{i}有限公司"] for i in range(5001)])
    response = owner_api.post(
        url,
        json={
            "client_key": uuid.uuid4().hex,
            "source": {"type": "file", "filename": "a.csv", "content_base64": too_many},
        },
    )
    assert response.status_code == 422 and response.get_json()["code"] == "too-many-targets"


def test_park_search_and_employees_sources(login, crew, db_session, data_key):
    owner, mate = crew["owner"], crew["mate"]
    # a park of this test's own: the test database holds every other test's customers too
    park_name = factories.unique("张江高科技园区")
    park_mine = _firms(db_session, owner, 3, prefix="园区", address=f"上海市浦东新区{park_name}碧波路88号")
    park_mate = _firms(db_session, mate, 2, prefix="园区", address=f"上海市浦东新区{park_name}祖冲之路1号")
    _firms(db_session, owner, 2, prefix="园外", address="上海市徐汇区漕河泾开发区")
    owner_api = login(owner)
    room = _room(owner_api, kind="wholesale")
    park = _bulk(owner_api, room["id"], {"type": "park", "address": park_name})
    assert (park["added"], park["requested"], park["found"]) == (3, 2, 5)

    # The search filter covers the caller's own book only (the mate's park firms are not found).
    search = _bulk(owner_api, room["id"], {"type": "search", "q": "园"})
    assert search["found"] == 5 and search["added"] == 2 and search["skipped"] == 3
    assert set(park_mate).isdisjoint(
        t.customer_id
        for t in db_session.exec(
            select(WarRoomTarget).where(WarRoomTarget.bulk_id == search["bulk_id"])
        ).all()
    )

    company = factories.make_customer(db_session, owner=owner, data_key=data_key, name="张江芯片制造有限公司")
    profile = db_session.get(CorporateProfile, company.id)
    profile.employees = 120
    db_session.add(profile)
    staff = []
    for who in (owner, owner, mate):
        person = factories.make_customer(
            db_session, owner=who, data_key=data_key, kind=CustomerKind.individual
        )
        ip = db_session.get(IndividualProfile, person.id)
        ip.employer = company.name
        db_session.add(ip)
        staff.append(person.id)
    db_session.commit()
    retail = _room(owner_api, kind="wholesale")
    employees = _bulk(owner_api, retail["id"], {"type": "employees", "company_customer_id": company.id})
    assert (employees["added"], employees["requested"]) == (2, 1)
    assert employees["employees_declared"] == 120 and employees["not_yet_customers_estimate"] == 117
    assert park_mine  # used above


def test_rate_limit_counts_bulks_not_rows_and_others_core_is_missing(login, crew, db_session, app):
    owner_api = login(crew["owner"])
    room = _room(owner_api, kind="wholesale")
    _firms(db_session, crew["owner"], 30, prefix="限速")
    result = _bulk(owner_api, room["id"], {"type": "search", "q": "限速"})
    assert result["added"] == 30  # 30 rows, one hit of the target budget (20 per minute)
    theirs = _firms(db_session, crew["outsider"], 1, prefix="别人")[0]
    hidden = owner_api.post(
        f"/api/v1/war-rooms/{room['id']}/targets/bulk",
        json={"client_key": uuid.uuid4().hex, "source": {"type": "chain", "core_customer_id": theirs}},
    )
    assert hidden.status_code == 404
    limit = app.config["SETTINGS"].WARROOM_TARGET_RATE_LIMIT
    codes = [
        owner_api.post(
            f"/api/v1/war-rooms/{room['id']}/targets/bulk",
            json={"client_key": uuid.uuid4().hex, "source": {"type": "search", "q": "无此客户"}},
        ).status_code
        for _ in range(limit)
    ]
    assert codes[-1] == 429 and codes.count(201) == limit - 2


def _replay_board(session: Session, room_id: int) -> dict[str, tuple[int, int]]:
    """The board rebuilt from the timeline alone: stage and amount of each target, by its events."""
    session.expire_all()
    state: dict[int, tuple[str, int]] = {}
    for event in session.exec(
        select(WarRoomEvent).where(WarRoomEvent.room_id == room_id).order_by(col(WarRoomEvent.seq))
    ).all():
        target = event.payload.get("target")
        if not target:
            continue
        if event.kind in ("target.removed", "target.declined"):
            state.pop(target["id"], None)
        else:
            state[target["id"]] = (target["stage"], target["amount_cents"])
    out: dict[str, tuple[int, int]] = {}
    for stage, amount in state.values():
        n, total = out.get(stage, (0, 0))
        out[stage] = (n + 1, total + amount)
    return out


def test_move_assign_board_against_events_and_daily_summary(login, crew, db_session, worker):
    owner, mate, third = crew["owner"], crew["mate"], crew["third"]
    own = _firms(db_session, owner, 60, prefix="看板")
    mates = _firms(db_session, mate, 6, prefix="同事看板")
    owner_api, mate_api, third_api = login(owner), login(mate), login(third)
    room = _room(owner_api, kind="wholesale", invite=[mate.id, third.id])
    rid = room["id"]
    for api in (mate_api, third_api):
        _ok(api.post(f"/api/v1/war-rooms/{rid}/invitations/accept"))
    rows = [["客户编号", "预计金额"]] + [[str(c), str(10_000 + i)] for i, c in enumerate(own)]
    _bulk(owner_api, rid, {"type": "file", "filename": "a.csv", "content_base64": _csv(rows)})
    _ok(
        mate_api.post(f"/api/v1/war-rooms/{rid}/targets", json={"customer_id": mates[0], "amount_cents": 5}),
        201,
    )
    _bulk(owner_api, rid, {"type": "search", "q": "同事看板"})  # owner's search: finds none of the mate's
    targets = _ok(owner_api.get(f"/api/v1/war-rooms/{rid}"))["targets"]
    ids = sorted(t["id"] for t in targets)
    assert len(ids) == 61

    # Assignment: the mate knows their own customer; the rest is balanced across the three players.
    mate_target = next(t for t in targets if t["customer_id"] == mates[0])
    knows = _ok(
        owner_api.post(
            f"/api/v1/war-rooms/{rid}/targets/assign",
            json={"client_key": uuid.uuid4().hex, "strategy": "knows", "target_ids": [mate_target["id"]]},
        )
    )
    assert knows["by_knowing"] == 1 and knows["load"][str(mate.id)] == 1
    key = uuid.uuid4().hex
    assigned = _ok(owner_api.post(f"/api/v1/war-rooms/{rid}/targets/assign", json={"client_key": key}))
    assert assigned["assigned"] == 60
    load = sorted(assigned["load"].values())
    assert load == [20, 20, 21]  # the mate had 1 (known) and got 19 more
    assert assigned["last_seq"] - assigned["first_seq"] == 59
    again = _ok(owner_api.post(f"/api/v1/war-rooms/{rid}/targets/assign", json={"client_key": key}))
    assert again["replayed"] and again["first_seq"] == assigned["first_seq"]
    by_target = {t["id"]: t for t in _ok(owner_api.get(f"/api/v1/war-rooms/{rid}"))["targets"]}
    assert by_target[mate_target["id"]]["assignee_id"] == mate.id
    assert Counter(t["assignee_id"] for t in by_target.values()) == Counter(
        {int(k): v for k, v in assigned["load"].items()}
    )
    not_owner = mate_api.post(
        f"/api/v1/war-rooms/{rid}/targets/assign", json={"client_key": uuid.uuid4().hex}
    )
    assert not_owner.status_code == 403

    # Moving 40 at once: one event per target, contiguous; a retry changes nothing.
    key = uuid.uuid4().hex
    moved = _ok(
        third_api.post(
            f"/api/v1/war-rooms/{rid}/targets/move",
            json={"client_key": key, "target_ids": ids[:40], "stage": "contacted"},
        )
    )
    assert moved["moved"] == 40 and moved["last_seq"] - moved["first_seq"] == 39
    assert _ok(
        third_api.post(
            f"/api/v1/war-rooms/{rid}/targets/move",
            json={"client_key": key, "target_ids": ids[:40], "stage": "contacted"},
        )
    )["replayed"]
    _ok(
        owner_api.post(
            f"/api/v1/war-rooms/{rid}/targets/move",
            json={"client_key": uuid.uuid4().hex, "target_ids": ids[:10], "stage": "won"},
        )
    )
    _ok(
        owner_api.post(
            f"/api/v1/war-rooms/{rid}/targets/move",
            json={"client_key": uuid.uuid4().hex, "target_ids": ids[10:15], "stage": "approval"},
        )
    )
    _ok(
        owner_api.post(
            f"/api/v1/war-rooms/{rid}/targets/move",
            json={"client_key": uuid.uuid4().hex, "target_ids": ids[55:], "stage": "lost"},
        )
    )

    board = _ok(owner_api.get(f"/api/v1/war-rooms/{rid}/campaign"))
    counts = {s["stage"]: (s["count"], s["amount_cents"]) for s in board["stages"] if s["count"]}
    assert counts == _replay_board(db_session, rid)
    assert counts["won"][0] == 10 and counts["contacted"][0] == 25 and counts["approval"][0] == 5
    assert board["goal"]["won_customers"] == 10 and board["total"] == 61
    assert sum(m["targets"] for m in board["members"]) == 61
    assert sum(m["won"] for m in board["members"]) == 10

    # The daily summary: an RQ job, once per room per day however often it runs.
    from tasks import warrooms as jobs

    for _ in range(2):
        jobs.post_daily_summaries.enqueue("2026-12-04")
        worker.work(burst=True)
    db_session.expire_all()
    summaries = db_session.exec(
        select(WarRoomEvent).where(WarRoomEvent.room_id == rid, WarRoomEvent.kind == "campaign.summary")
    ).all()
    assert len(summaries) == 1 and "成交 10" in summaries[0].payload["text"]
    assert summaries[0].payload["board"]["stages"] == board["stages"]


def test_chain_view_and_outcome_report_with_audited_export(login, crew, db_session):
    owner, mate, outsider = crew["owner"], crew["mate"], crew["outsider"]
    core = _firms(db_session, owner, 1, prefix="核心")[0]
    up = _firms(db_session, owner, 3, prefix="上游")
    down = _firms(db_session, mate, 2, prefix="下游")
    db_session.add_all(
        [CustomerLink(from_customer_id=core, to_customer_id=c, kind="supplier", label="钢材") for c in up]
        + [CustomerLink(from_customer_id=core, to_customer_id=c, kind="buyer") for c in down]
        + [CustomerLink(from_customer_id=up[0], to_name="某矿业有限公司", kind="supplier")]
    )
    db_session.commit()
    owner_api = login(owner)
    room = _room(owner_api, invite=[mate.id])
    rid = room["id"]
    _ok(login(mate).post(f"/api/v1/war-rooms/{rid}/invitations/accept"))
    _bulk(owner_api, rid, {"type": "chain", "core_customer_id": core, "direction": "upstream", "hops": 1})

    view = _ok(owner_api.get(f"/api/v1/war-rooms/{rid}/chain?hops=2&direction=both"))
    assert view["core"]["stage"] == "to_contact" and view["core"]["owner"] == "王经理"
    sides = {(n["side"], n["hop"]) for n in view["nodes"]}
    assert sides == {("upstream", 1), ("upstream", 2), ("downstream", 1)}
    mine = next(n for n in view["nodes"] if n["side"] == "upstream" and n["hop"] == 1)
    assert mine["stage"] == "to_contact" and mine["link"] == "钢材" and mine["via"] == "core"
    mine_2 = next(n for n in view["nodes"] if n["hop"] == 2)
    assert mine_2["prospect"] and mine_2["stage"] is None and mine_2["via"] == up[0]
    assert all(n["stage"] is None for n in view["nodes"] if n["side"] == "downstream")
    # The core is lent to the room, so a member sees its chain as its customer 360 shows it; the
    # mate's own downstream customers are not in the room and show no stage.
    mate_view = _ok(login(mate).get(f"/api/v1/war-rooms/{rid}/chain?hops=2&direction=both"))
    assert len(mate_view["nodes"]) == len(view["nodes"]) == 6 and mate_view["hidden"] == 0
    assert login(outsider).get(f"/api/v1/war-rooms/{rid}/chain").status_code == 403

    early = owner_api.get(f"/api/v1/war-rooms/{rid}/outcome")
    assert early.status_code == 409 and early.get_json()["code"] == "room-open"
    ids = [t["id"] for t in _ok(owner_api.get(f"/api/v1/war-rooms/{rid}"))["targets"]]
    _ok(owner_api.post(f"/api/v1/war-rooms/{rid}/targets/assign", json={"client_key": uuid.uuid4().hex}))
    for stage in ("contacted", "negotiating", "approval", "won"):
        _ok(
            owner_api.post(
                f"/api/v1/war-rooms/{rid}/targets/move",
                json={"client_key": uuid.uuid4().hex, "target_ids": ids[:2], "stage": stage},
            )
        )
    _ok(
        owner_api.patch(
            f"/api/v1/war-rooms/{rid}/targets/{ids[0]}", json={"amount_cents": 300_000_00, "version": 6}
        )
    )
    detail = _ok(owner_api.get(f"/api/v1/war-rooms/{rid}"))
    _ok(owner_api.patch(f"/api/v1/war-rooms/{rid}", json={"status": "won", "version": detail["version"]}))
    report = _ok(owner_api.get(f"/api/v1/war-rooms/{rid}/outcome"))
    assert (report["targets"], report["reached"], report["converted"], report["amount_cents"]) == (
        4,
        2,
        2,
        300_000_00,
    )
    stages = {s["stage"]: s for s in report["stage_days"]}
    assert stages["approval"]["targets"] == 2 and stages["to_contact"]["targets"] == 4
    assert sum(c["won"] for c in report["contributors"]) == 2
    assert {c["user"]["id"] for c in report["contributors"]} == {owner.id, mate.id}

    exported = owner_api.get(f"/api/v1/war-rooms/{rid}/outcome.csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    text = exported.get_data(as_text=True)
    assert "成交金额（元）,300000.00" in text and "王经理" in text
    db_session.expire_all()
    assert db_session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "warroom.outcome_export", AuditEntry.object_id == str(rid)
        )
    ).first()


def test_outcome_books_shared_opportunities_once_and_offers_the_case_card(login, crew, db_session):
    """Closing a room puts the benefit share of each shared opportunity it won on the ledger — the
    originator's share of the amount won, the rest to the member credited with the win — audited,
    once however often the room is closed, and not again when the opportunity itself is closed won.
    The won room is a case card of the learning module."""
    owner, mate, third, outsider = crew["owner"], crew["mate"], crew["third"], crew["outsider"]
    a, b, c = _firms(db_session, owner, 3, prefix="批发")
    owner_api, mate_api = login(owner), login(mate)
    room = _room(owner_api, kind="wholesale", invite=[mate.id])
    rid = room["id"]
    _ok(mate_api.post(f"/api/v1/war-rooms/{rid}/invitations/accept"))
    rows = [["客户编号", "客户名称", "预计金额"], [str(a), "", "100000"], [str(b), "", "50000"]]
    rows += [[str(c), "", "10000"], ["", "某新开户科技有限公司", "20000"]]
    _bulk(owner_api, rid, {"type": "file", "filename": "名单.csv", "content_base64": _csv(rows)})

    now = utcnow()

    def shared(**fields) -> Opportunity:
        opp = Opportunity(
            title=fields.pop("title"),
            source=fields.pop("source", "rm_referral"),
            status=fields.pop("status", "shared"),
            shared_at=now,
            branch_id=owner.branch_id,
            **fields,
        )
        db_session.add(opp)
        db_session.flush()
        return opp

    # A's opportunity: the outsider shared it, still in the pool (the policy's split for its source).
    opp_a = shared(title="A 代发工资", customer_id=a, originator_id=outsider.id)
    # B's: the outsider shared it and the mate claimed it (split fixed at the claim: 25 %).
    opp_b = shared(
        title="B 票据池",
        customer_id=b,
        originator_id=outsider.id,
        owner_id=mate.id,
        status="claimed",
        claimed_at=now,
        originator_share_bp=2500,
        closer_share_bp=7500,
    )
    # The prospect's: shared from the room's targets tab by the third RM (not linked, found by source).
    opp_p = shared(
        title="新开户",
        prospect_name="某新开户科技有限公司",
        originator_id=third.id,
        source="war_room",
        source_ref=f"war_room:{rid}",
    )
    # A draft is no shared opportunity; nor is the one C's own RM (the owner) shared and won himself.
    shared(title="C 草稿", customer_id=c, originator_id=outsider.id, status="draft")
    db_session.add_all(
        WarRoomOpportunity(room_id=rid, opportunity_id=o.id, linked_by=owner.id) for o in (opp_a, opp_b)
    )
    db_session.commit()

    targets = {
        t["customer_id"] or t["name"]: t["id"]
        for t in _ok(owner_api.get(f"/api/v1/war-rooms/{rid}"))["targets"]
    }
    _ok(
        owner_api.post(
            f"/api/v1/war-rooms/{rid}/targets/assign",
            json={"client_key": uuid.uuid4().hex, "target_ids": [targets[a]], "member_ids": [mate.id]},
        )
    )
    for stage in ("contacted", "won"):
        _ok(
            owner_api.post(
                f"/api/v1/war-rooms/{rid}/targets/move",
                json={"client_key": uuid.uuid4().hex, "target_ids": list(targets.values()), "stage": stage},
            )
        )

    def close(status: str) -> None:
        version = _ok(owner_api.get(f"/api/v1/war-rooms/{rid}"))["version"]
        _ok(owner_api.patch(f"/api/v1/war-rooms/{rid}", json={"status": status, "version": version}))

    def ledger() -> list[tuple[int, int, str | None]]:
        db_session.expire_all()
        entries = db_session.exec(
            select(PerformanceEntry)
            .where(PerformanceEntry.kind == "shared_credit")
            .order_by(col(PerformanceEntry.id))
        ).all()
        # only this test's opportunities: other tests' rows share the database
        own = tuple(f"opportunity:{o.id}:" for o in (opp_a, opp_b, opp_p))
        return [
            (e.rm_id, e.amount_cents, e.source_ref) for e in entries if (e.source_ref or "").startswith(own)
        ]

    close("won")
    first = ledger()
    assert sorted(first) == sorted(
        [
            (outsider.id, 30_000_00, f"opportunity:{opp_a.id}:war_room-{rid}-originator"),
            (mate.id, 70_000_00, f"opportunity:{opp_a.id}:war_room-{rid}-closer"),  # A's assignee
            (outsider.id, 12_500_00, f"opportunity:{opp_b.id}:war_room-{rid}-originator"),
            (owner.id, 37_500_00, f"opportunity:{opp_b.id}:war_room-{rid}-closer"),  # unassigned: the adder
            (third.id, 6_000_00, f"opportunity:{opp_p.id}:war_room-{rid}-originator"),
            (owner.id, 14_000_00, f"opportunity:{opp_p.id}:war_room-{rid}-closer"),
        ]
    )
    audits = db_session.exec(select(AuditEntry).where(AuditEntry.action == "warroom.benefit_credit")).all()
    mine = {opp_a.id, opp_b.id, opp_p.id}  # other tests' rooms audit their credits in the same table
    assert sorted(int(x.object_id) for x in audits if int(x.object_id) in mine) == sorted(mine)
    by_opp = {int(x.object_id): x.detail for x in audits}
    assert by_opp[opp_b.id] == {
        "room_id": rid,
        "target_id": targets[b],
        "originator_id": outsider.id,
        "closer_id": owner.id,
        "amount_cents": 50_000_00,
        "originator_cents": 12_500_00,
        "closer_cents": 37_500_00,
    }

    # Re-opened and closed again: nothing booked twice. Nor by the opportunity's own close.
    close("active")
    close("closed")
    assert ledger() == first
    closed_b = mate_api.post(
        f"/api/v1/opportunities/{opp_b.id}/close",
        json={"outcome": "won", "amount_cents": 50_000_00, "revenue_cents": 1_000_00},
    )
    assert closed_b.status_code == 200, closed_b.get_data(as_text=True)
    assert ledger() == first
    credits = db_session.exec(select(AuditEntry).where(AuditEntry.action == "warroom.benefit_credit")).all()
    assert len([x for x in credits if int(x.object_id) in mine]) == 3

    # The originator's statement shows them as originator, from this room.
    statement = _ok(login(outsider).get("/api/v1/opportunities/benefits"))
    assert statement["total_cents"] == 42_500_00
    assert {(i["opportunity_id"], i["role"], i["war_room_id"]) for i in statement["items"]} == {
        (opp_a.id, "originator", rid),
        (opp_b.id, "originator", rid),
    }

    # The outcome reports what was booked; a won room offers its case card (here closed: none).
    report = _ok(owner_api.get(f"/api/v1/war-rooms/{rid}/outcome"))
    booked = {row["opportunity_id"]: row for row in report["benefits"]}
    assert booked[opp_a.id]["originator"] == {
        "user_id": outsider.id,
        "display_name": outsider.display_name,
        "amount_cents": 30_000_00,
    }
    assert booked[opp_a.id]["closer"] == {
        "user_id": mate.id,
        "display_name": "李经理",
        "amount_cents": 70_000_00,
    }
    csv_text = owner_api.get(f"/api/v1/war-rooms/{rid}/outcome.csv").get_data(as_text=True)
    assert f"B 票据池,{outsider.display_name},12500.00,王经理,37500.00" in csv_text
    assert booked[opp_a.id]["title"] == "A 代发工资" and set(booked) == {opp_a.id, opp_b.id, opp_p.id}
    assert report["case_card"] is None
    close("active")
    close("won")
    assert ledger() == first
    card = _ok(owner_api.get(f"/api/v1/war-rooms/{rid}/outcome"))["case_card"]
    assert card["id"] == f"war_room-{rid}" and card["url"] == f"/learning/cases/war_room-{rid}"
    case = _ok(login(third).get(f"/api/v1/learning/cases/war_room-{rid}"))
    kinds = [step["kind"] for step in case["steps"]]
    assert kinds[0] == "room.opened" and kinds[-3:] == ["stage.to_contact", "stage.contacted", "stage.won"]
    assert case["outcome"] == "won" and "批发" not in str(case)  # anonymised: no customer name
