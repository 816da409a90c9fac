"""Typed responses: every operation of the OpenAPI document describes what it answers (or is listed in
UNTYPED, which only shrinks), errors are problem details, and real answers of the demo bank match the
document the PWA's types are generated from. The app's own check (server/api.py) turns a mismatch
into a failing 500 in tests and a logged warning in production; both are tested here on a small app."""

from __future__ import annotations

import base64
import logging
import re
import uuid
from typing import Any

import jsonschema_rs
import pytest
from flask import Flask, request
from flask import Response as FlaskResponse
from pydantic import BaseModel
from spectree import Response
from sqlmodel import Session, col, select

from server import create_app, db
from server.api import JsonOrFile, ok, openapi_document
from server.conduct import cases as conduct_cases
from server.conduct import departing, runs
from server.conduct.models import DepartingCheck
from server.customers.models import Customer
from server.errors import init_app as init_problems
from server.helpers.models import HelperTask
from server.inbox.models import Notification
from server.intel.models import IntelAlert, IntelSource
from server.mirror import service as mirror_service
from server.notebook.models import Note
from server.opportunities.models import Opportunity, OpportunityStatus
from server.org.models import Role, User
from server.personas.models import Mentorship
from server.products.models import Product
from server.prospects.models import Prospect, ProspectModel
from server.schemas import Strict, problems
from server.warrooms.models import MemberStatus, WarRoomMember
from tests.server.demo.conftest import demo_bank  # noqa: F401  (the demo bank, loaded once)

# Operations whose answers no model describes yet. Type one, then remove it here: the test fails while
# a typed operation is still listed, so the list can only shrink.
UNTYPED = {
    ("GET", "/"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/r-assets/rating.js"),
    ("GET", "/r/{token}"),
    ("GET", "/{path}"),
}

USERS = ("rm_general", "rm_excellent", "rm_newcomer", "rm_super", "lead", "admin", "risk")
REQUIRED_QUERIES = {"/api/v1/war-rooms/people": {"q": "王"}, "/api/v1/ask": {"q": "授信"}}
# Reads of what the flows below make first (an import, a closed room, a room with a chain, a stage):
# the flows reach them, and the last test checks that they answered 2xx.
FLOW_READS = {
    "/api/v1/prospects/imports/{import_id}",
    "/api/v1/prospects/imports/{import_id}/errors",
    "/api/v1/war-rooms/{room_id}/chain",
    "/api/v1/war-rooms/{room_id}/outcome",
    "/api/v1/war-rooms/{room_id}/outcome.csv",
    "/api/v1/war-rooms/{room_id}/stage/download",
    "/api/v1/war-rooms/{room_id}/stage/pdf/{share_id}",
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_document(create_app)


def _operations(document: dict[str, Any]):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield method.upper(), path, operation


def _typed(operation: dict[str, Any]) -> bool:
    """Documents what it answers on success: a model, or a status without a body (204)."""
    return any(code.startswith("2") for code in operation["responses"])


def test_every_operation_documents_its_responses_or_is_untyped(document):
    operations = {(method, path): operation for method, path, operation in _operations(document)}
    untyped_unlisted = sorted(k for k, op in operations.items() if not _typed(op) and k not in UNTYPED)
    typed_but_listed = sorted(k for k in UNTYPED if k in operations and _typed(operations[k]))
    gone = sorted(k for k in UNTYPED if k not in operations)
    assert not untyped_unlisted, f"declare resp=Response(...) for: {untyped_unlisted}"
    assert not typed_but_listed, f"typed now: remove from UNTYPED: {typed_but_listed}"
    assert not gone, f"no such operation any more: remove from UNTYPED: {gone}"
    typed = [k for k, op in operations.items() if _typed(op)]
    assert len(typed) >= 20, typed


def test_errors_are_documented_as_problem_details(document):
    problem_ref = "#/components/schemas/ProblemDetails"
    for method, path, operation in _operations(document):
        for code, answer in operation["responses"].items():
            if code.startswith(("4", "5")) and "content" in answer:
                assert list(answer["content"]) == ["application/problem+json"], (method, path, code)
                assert answer["content"]["application/problem+json"]["schema"]["$ref"] == problem_ref
    assert document["components"]["schemas"]["ProblemDetails"].get("additionalProperties", True) is True


# ---------------------------------------------------------------------------------------------------
# Real answers of the demo bank against the document


class DocumentedClient:
    """Signs in as a demo user and checks every answer against the operation it called: the status
    is documented and the body matches the documented schema (problems: `application/problem+json`)."""

    def __init__(self, app, document: dict[str, Any], username: str, seen: dict):
        self.client = app.test_client()
        self.document = document
        self.seen = seen
        self.username = username
        self.csrf = ""
        signed_in = self.call(
            "POST", "/api/v1/auth/login", json={"username": username, "password": "demo1234"}
        )
        assert signed_in.status_code == 200, signed_in.get_data(as_text=True)
        self.csrf = signed_in.get_json()["csrf_token"]

    def call(self, method: str, template: str, *, json: Any = None, query: dict | None = None, **params):
        url = template.format(**params)
        headers = {"X-CSRF-Token": self.csrf}
        response = self.client.open(url, method=method, json=json, query_string=query, headers=headers)
        operation = self.document["paths"][template][method.lower()]
        where = f"{self.username}: {method} {url} -> {response.status_code}"
        assert response.status_code < 500, f"{where}: {response.get_data(as_text=True)[:500]}"
        answer = operation["responses"].get(str(response.status_code))
        assert answer is not None, f"{where}: status not documented ({sorted(operation['responses'])})"
        if "content" in answer:
            content = answer["content"].get(response.mimetype)
            assert content is not None, f"{where}: {response.mimetype} not in {sorted(answer['content'])}"
            if response.is_json:  # a file (CSV, PDF, text) has no schema, only its media type
                schema = {**content["schema"], "components": self.document["components"]}
                body = response.get_json()
                errors = [str(e) for e in jsonschema_rs.validator_for(schema).iter_errors(body)]
                assert not errors, f"{where}: {errors[:5]}"
        self.seen.setdefault((method, template), set()).add(response.status_code)
        return response


@pytest.fixture(scope="module")
def seen() -> dict:
    return {}


@pytest.fixture(scope="module")
def sign_in(demo_bank, document, seen):  # noqa: F811
    return lambda username: DocumentedClient(demo_bank, document, username, seen)


@pytest.fixture
def bank(demo_bank):  # noqa: F811
    with Session(db.engine_for(demo_bank), expire_on_commit=False) as session:
        yield session


def _user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).one()
    session.commit()  # ends the read: SQLite would keep the app's writes waiting on it
    return user


def _fact_learned_on_a_visit(session: Session, customer_id: int) -> dict[str, str]:
    """A fact of the customer's own kind (a firm's funding need, a person's financial goals)."""
    kind = session.get(Customer, customer_id).kind
    session.commit()
    if kind == "corporate":
        return {"key": "funding_need", "value": "扩产需流动资金"}
    return {"key": "financial_goals", "value": "三年内为子女准备教育金"}


def _path_ids(session: Session, user: User) -> dict[str, int | None]:
    """An object of each kind the user may see (as the screens would find it), by path parameter."""
    uid = user.id
    ids = {
        "customer_id": session.exec(
            select(Customer.id).where(Customer.owner_id == uid).order_by(Customer.id)
        ).first(),
        "opportunity_id": session.exec(
            select(Opportunity.id)
            .where((col(Opportunity.originator_id) == uid) | (col(Opportunity.owner_id) == uid))
            .order_by(Opportunity.id)
        ).first()
        or session.exec(
            select(Opportunity.id)
            .where(Opportunity.status == OpportunityStatus.shared)
            .order_by(Opportunity.id)
        ).first(),
        "note_id": session.exec(select(Note.id).where(Note.owner_id == uid).order_by(Note.id)).first(),
        "product_id": session.exec(select(Product.id).order_by(Product.id)).first(),
        "alert_id": session.exec(
            select(IntelAlert.id).where(IntelAlert.rm_id == uid).order_by(IntelAlert.id)
        ).first(),
        "room_id": session.exec(
            select(WarRoomMember.room_id)
            .where(WarRoomMember.user_id == uid, WarRoomMember.status == MemberStatus.active)
            .order_by(WarRoomMember.room_id)
        ).first(),
        "notification_id": session.exec(
            select(Notification.id).where(Notification.user_id == uid).order_by(Notification.id)
        ).first(),
        "prospect_id": session.exec(
            select(Prospect.id)
            .where(
                Prospect.status == "open", col(Prospect.claimed_by).is_(None), Prospect.kind == "corporate"
            )
            .order_by(Prospect.id)
        ).first(),
        # the user's own lookalike version, else the bank's (an admin's to read)
        "model_id": session.exec(
            select(ProspectModel.id)
            .where((ProspectModel.owner_id == uid) | col(ProspectModel.owner_id).is_(None))
            .order_by(col(ProspectModel.owner_id).is_(None), ProspectModel.id)
        ).first(),
        "source_id": session.exec(select(IntelSource.id).order_by(IntelSource.id)).first(),
    }
    session.commit()
    return ids


@pytest.fixture(scope="module")
def intel_alert(demo_bank) -> int:  # noqa: F811
    """An alert on rm_general's customer, as the matching job stores it (the demo's polls run in the
    worker, which this module does not start)."""
    from tests import factories

    with Session(db.engine_for(demo_bank), expire_on_commit=False) as session:
        rm = _user(session, "rm_general")
        customer = session.exec(
            select(Customer).where(Customer.owner_id == rm.id).order_by(Customer.id)
        ).first()
        assert customer is not None
        return factories.make_alert(session, rm=rm, customer=customer, title="某集团中标智慧园区项目").id


@pytest.fixture(scope="module")
def oversight(demo_bank) -> dict[str, Any]:  # noqa: F811
    """What the demo's worker would have made: the day's conduct run (scores, signals, evidence), a
    departing-RM check run to its result, a case, and a customer's rating link."""
    with demo_bank.app_context(), Session(db.engine_for(demo_bank), expire_on_commit=False) as session:
        runs.run_daily(session)
        risk, veteran, rm = (_user(session, u) for u in ("risk", "rm_veteran", "rm_general"))
        check = DepartingCheck(rm_id=veteran.id or 0, requested_by=risk.id or 0)
        session.add(check)
        session.commit()
        departing.run_departing_check(session, check_id=check.id or 0)
        case = conduct_cases.open_case(
            session, user=risk, rm_id=veteran.id or 0, rules=[], title=None, note="类型测试", ip=None
        )
        customer_id = _path_ids(session, rm)["customer_id"]
        link = mirror_service.create_rating_link(
            session, user=rm, customer_id=customer_id or 0, public_url="https://bank.example", ip=None
        )
        return {"check_id": check.id, "case_id": case["id"], "token": link["token"], "veteran": veteran.id}


def _people_path_ids(session: Session, user: User, oversight: dict[str, Any]) -> dict[str, Any]:
    """Path ids of the people, oversight and learning screens: an RM reads themself, a team lead
    the team's newcomer, a risk officer the flagged veteran; `{path: {...}}` where two screens give
    one name different meanings."""
    uid = user.id
    newcomer = _user(session, "rm_newcomer").id
    won = session.exec(
        select(Opportunity.id).where(Opportunity.status == OpportunityStatus.won).order_by(Opportunity.id)
    ).first()
    ids: dict[str, Any] = {
        "rm_id": uid
        if user.role == Role.rm
        else oversight["veteran"]
        if user.role == Role.risk_officer
        else newcomer,
        "mentorship_id": session.exec(
            select(Mentorship.id)
            .where((col(Mentorship.mentee_id) == uid) | (col(Mentorship.mentor_id) == uid))
            .order_by(col(Mentorship.ended_on).is_not(None), col(Mentorship.id).desc())
        ).first()
        or session.exec(
            select(Mentorship.id)
            .where(Mentorship.mentee_id == newcomer)
            .order_by(col(Mentorship.ended_on).is_not(None), col(Mentorship.id).desc())
        ).first(),
        "check_id": oversight["check_id"],
        "case_id": oversight["case_id"],
        "task_id": session.exec(
            select(HelperTask.id)
            .where((col(HelperTask.owner_id) == uid) | (col(HelperTask.helper_id) == uid))
            .order_by(HelperTask.id)
        ).first(),
        "name": "mirror",
        "token": oversight["token"],
        "/api/v1/learning/cases/{case_id}": {"case_id": f"opportunity-{won}" if won else None},
    }
    session.commit()
    return ids


@pytest.fixture(scope="module")
def trained_recommender(demo_bank) -> None:  # noqa: F811
    """The next-best-product model, as the worker's first retrain leaves it."""
    from server.assistant import recommender

    with demo_bank.app_context(), Session(db.engine_for(demo_bank)) as session:
        recommender.retrain(session)


def test_every_typed_read_answers_as_documented(
    sign_in, bank, document, intel_alert, oversight, trained_recommender
):
    reads = [
        path
        for method, path, operation in _operations(document)
        if method == "GET" and _typed(operation) and (method, path) not in UNTYPED and path not in FLOW_READS
    ]
    answered: dict[str, set[int]] = {}
    for username in USERS:
        api = sign_in(username)
        user = _user(bank, username)
        ids: dict[str, Any] = {**_path_ids(bank, user), **_people_path_ids(bank, user, oversight)}
        for path in reads:
            params = {name: ids.get(name) for name in re.findall(r"{(\w+)}", path)} | ids.get(path, {})
            if any(value is None for value in params.values()):
                continue
            response = api.call("GET", path, query=REQUIRED_QUERIES.get(path), **params)
            answered.setdefault(path, set()).add(response.status_code)
    never_ok = sorted(path for path in reads if not any(200 <= s < 300 for s in answered.get(path, ())))
    assert not never_ok, f"no demo user got a 2xx from: {[(p, answered.get(p)) for p in never_ok]}"


def test_customer_writes_answer_as_documented(sign_in, bank):
    api = sign_in("rm_general")
    created = api.call(
        "POST",
        "/api/v1/customers",
        json={"kind": "corporate", "name": "类型测试有限公司", "corporate": {"credit_code": _credit_code()}},
    )
    assert created.status_code == 201
    customer_id = created.get_json()["id"]
    updated = api.call(
        "PATCH",
        "/api/v1/customers/{customer_id}",
        customer_id=customer_id,
        json={"tags": ["类型"], "version": created.get_json()["version"]},
    )
    assert updated.status_code == 200
    stale = api.call(
        "PATCH",
        "/api/v1/customers/{customer_id}",
        customer_id=customer_id,
        json={"tier": "vip", "version": 1},
    )
    assert stale.status_code == 412
    revealed = api.call(
        "POST",
        "/api/v1/customers/{customer_id}/reveal",
        customer_id=customer_id,
        json={"field": "phone", "reason": "客户来电核实"},
    )
    assert revealed.status_code == 200
    other = bank.exec(select(Customer.id).where(Customer.owner_id != _user(bank, "rm_general").id)).first()
    bank.commit()
    assert api.call("GET", "/api/v1/customers/{customer_id}", customer_id=other).status_code == 404


def test_opportunity_flow_answers_as_documented(sign_in, bank):
    """Share, claim, follow up, win, adjust the split; the lead's desk; the admin's rules; an import."""
    originator, closer, lead, admin = (sign_in(u) for u in ("rm_general", "rm_excellent", "lead", "admin"))
    draft = originator.call(
        "POST",
        "/api/v1/opportunities",
        json={
            "title": "类型测试商机",
            "prospect_name": "类型测试潜在客户",
            "share": False,
            "visibility": "bank",
        },
    )
    assert draft.status_code == 201
    opp_id = draft.get_json()["id"]
    path = "/api/v1/opportunities/{opportunity_id}"
    assert originator.call("POST", path + "/share", opportunity_id=opp_id, json={}).status_code == 200
    originator.call("GET", "/api/v1/opportunities/feed")
    claimed = closer.call("POST", path + "/claim", opportunity_id=opp_id)
    if claimed.status_code == 409:  # inside the originator's team's priority window: a lead hands it over
        pytest.skip(f"claim refused: {claimed.get_json()}")
    assert claimed.status_code == 200
    assert closer.call("POST", path + "/claim", opportunity_id=opp_id).status_code == 409
    activity = closer.call(
        "POST", path + "/activities", opportunity_id=opp_id, json={"kind": "call", "note": "首访"}
    )
    assert activity.status_code == 201
    won = closer.call(
        "POST",
        path + "/close",
        opportunity_id=opp_id,
        json={"outcome": "won", "amount_cents": 1_000_000, "revenue_cents": 20_000},
    )
    assert won.status_code == 200
    closer.call("GET", "/api/v1/opportunities/mine", query={"role": "owner"})
    originator.call("GET", "/api/v1/opportunities/mine", query={"role": "originator"})
    originator.call("GET", "/api/v1/opportunities/benefits")
    lead.call("GET", "/api/v1/opportunities/mine", query={"role": "team"})
    lead.call("GET", path + "/assignees", opportunity_id=opp_id)
    lead.call(
        "POST",
        path + "/benefit-adjustments",
        opportunity_id=opp_id,
        json={"originator_share_bp": 4000, "reason": "类型测试调整"},
    )
    pooled = originator.call(
        "POST", "/api/v1/opportunities", json={"title": "类型测试团队商机", "prospect_name": "团队潜在客户"}
    ).get_json()["id"]
    moved = lead.call(
        "POST", path + "/transfer", opportunity_id=pooled, json={"visibility": "bank", "reason": "全行共享"}
    )
    assert moved.status_code == 200, moved.get_json()
    candidates = lead.call("GET", path + "/assignees", opportunity_id=pooled).get_json()["items"]
    rm_id = next(
        c["id"]
        for c in candidates
        if c["qualified"] and not c["at_cap"] and c["id"] != draft.get_json()["originator"]["id"]
    )
    handed = lead.call(
        "POST", path + "/reassign", opportunity_id=pooled, json={"rm_id": rm_id, "reason": "熟悉该行业"}
    )
    assert handed.status_code == 200, handed.get_json()
    policy = admin.call("GET", "/api/v1/opportunities/policy").get_json()
    assert (
        admin.call(
            "PUT", "/api/v1/opportunities/policy", json={"max_open_claims": policy["max_open_claims"]}
        ).status_code
        == 200
    )
    csv = "title,prospect_name,visibility\n类型测试导入,导入潜在客户,bank\n".encode()
    dry_run = originator.call(
        "POST",
        "/api/v1/opportunities/import",
        json={"filename": "t.csv", "content_base64": base64.b64encode(csv).decode(), "dry_run": True},
    )
    assert dry_run.status_code == 200 and dry_run.get_json()["dry_run"] is True


def test_notebook_inbox_and_session_answer_as_documented(sign_in, bank):
    api = sign_in("rm_general")
    customer_id = _path_ids(bank, _user(bank, "rm_general"))["customer_id"]
    note = api.call(
        "POST",
        "/api/v1/notes",
        json={
            "body": "类型测试记事",
            "customer_id": customer_id,
            "remind_at": "2030-01-02T01:00:00Z",
            "todo": True,
        },
    )
    assert note.status_code == 201
    note_id = note.get_json()["id"]
    path = "/api/v1/notes/{note_id}"
    assert api.call("PATCH", path, note_id=note_id, json={"tags": ["类型"], "version": 1}).status_code == 200
    assert api.call("PATCH", path, note_id=note_id, json={"urgent": True, "version": 1}).status_code == 412
    assert api.call("POST", path + "/snooze", note_id=note_id, json={"minutes": 30}).status_code == 200
    assert api.call("POST", path + "/done", note_id=note_id, json={"done": True}).status_code == 200
    assert api.call("GET", path, note_id=note_id).status_code == 200
    assert api.call("DELETE", path, note_id=note_id).status_code == 204
    assert api.call("GET", path, note_id=note_id).status_code == 404
    settings = api.call("PATCH", "/api/v1/reminder-settings", json={"birthday_days_ahead": 5})
    assert settings.status_code == 200 and settings.get_json()["birthday_days_ahead"] == 5
    notification_id = _path_ids(bank, _user(bank, "rm_general"))["notification_id"]
    assert notification_id is not None, "the demo bank leaves rm_general some notifications"
    read = api.call("POST", "/api/v1/inbox/{notification_id}/read", notification_id=notification_id)
    assert read.status_code == 200
    assert api.call("POST", "/api/v1/inbox/read-all", json={}).status_code == 200
    visit = api.call(
        "POST",
        "/api/v1/customers/{customer_id}/visits",
        customer_id=customer_id,
        json={
            "channel": "visit",
            "occurred_at": "2026-01-05T02:00:00Z",
            "outcome": "了解到下季度扩产计划",
            "next_step": "送授信方案",
            "next_step_at": "2030-01-10T02:00:00Z",
            "facts": [_fact_learned_on_a_visit(bank, customer_id)],
        },
    )
    assert visit.status_code == 201, visit.get_json()
    assert api.call("POST", "/api/v1/auth/logout").status_code == 204


def test_war_room_flow_answers_as_documented(sign_in, bank):
    """A joint room: invitations, targets (one a colleague's customer, approved or declined by its
    RM), tasks, chat, read marks, a linked opportunity; the quick build; the lead's board."""
    owner, colleague, lead = (sign_in(u) for u in ("rm_general", "rm_excellent", "lead"))
    mine = _path_ids(bank, _user(bank, "rm_general"))
    my_customers = bank.exec(
        select(Customer.id).where(Customer.owner_id == _user(bank, "rm_general").id).order_by(Customer.id)
    ).all()
    bank.commit()
    colleague_id = _user(bank, "rm_excellent").id
    owner_id = _user(bank, "rm_general").id
    assert owner.call("GET", "/api/v1/war-rooms/people", query={"q": "王"}).status_code == 200
    room = owner.call(
        "POST", "/api/v1/war-rooms", json={"title": "类型测试作战室", "kind": "project_marketing"}
    )
    assert room.status_code == 201
    room_id = room.get_json()["id"]
    path = "/api/v1/war-rooms/{room_id}"
    assert (
        owner.call(
            "POST", path + "/invitations", room_id=room_id, json={"user_ids": [colleague_id]}
        ).status_code
        == 201
    )
    assert colleague.call("GET", "/api/v1/war-rooms", query={"scope": "invitations"}).status_code == 200
    assert colleague.call("GET", path, room_id=room_id).status_code == 200  # the invitee's outline
    assert colleague.call("POST", path + "/invitations/accept", room_id=room_id).status_code == 200
    target = owner.call("POST", path + "/targets", room_id=room_id, json={"customer_id": mine["customer_id"]})
    assert target.status_code == 201
    target_id = target.get_json()["id"]
    moved = owner.call(
        "PATCH",
        path + "/targets/{target_id}",
        room_id=room_id,
        target_id=target_id,
        json={"stage": "contacted"},
    )
    assert moved.status_code == 200
    # The lead's room asks for two of the owner's customers: each waits for its RM's approval.
    asking = lead.call(
        "POST",
        "/api/v1/war-rooms",
        json={"title": "类型测试审批", "customer_ids": my_customers[1:3], "invite_user_ids": [owner_id]},
    ).get_json()
    asked, declined = asking["targets"]
    assert asked["consent"] == "pending", asked
    assert owner.call("POST", path + "/invitations/accept", room_id=asking["id"]).status_code == 200
    approve = path + "/targets/{target_id}/approve"
    assert owner.call("POST", approve, room_id=asking["id"], target_id=asked["id"]).status_code == 200
    decline = path + "/targets/{target_id}/decline"
    assert owner.call("POST", decline, room_id=asking["id"], target_id=declined["id"]).status_code == 200
    prospect = owner.call("POST", path + "/targets", room_id=room_id, json={"prospect_name": "类型测试潜客"})
    assert (
        owner.call(
            "DELETE", path + "/targets/{target_id}", room_id=room_id, target_id=prospect.get_json()["id"]
        ).status_code
        == 200
    )
    task = owner.call(
        "POST", path + "/tasks", room_id=room_id, json={"item": "准备授信材料", "assignee_id": colleague_id}
    )
    assert task.status_code == 201
    done = colleague.call(
        "PATCH",
        path + "/tasks/{task_id}",
        room_id=room_id,
        task_id=task.get_json()["id"],
        json={"status": "done"},
    )
    assert done.status_code == 200
    said = owner.call(
        "POST", path + "/messages", room_id=room_id, json={"text": "明天拜访", "client_id": uuid.uuid4().hex}
    )
    assert said.status_code == 201
    events = colleague.call("GET", path + "/events", room_id=room_id).get_json()
    assert (
        colleague.call("POST", path + "/read", room_id=room_id, json={"seq": events["last_seq"]}).status_code
        == 200
    )
    opportunity_id = mine["opportunity_id"]
    owner.call("POST", path + "/opportunities", room_id=room_id, json={"opportunity_id": opportunity_id})
    assert owner.call("PATCH", path, room_id=room_id, json={"goal_customers": 3}).status_code == 200
    assert colleague.call("POST", path + "/leave", room_id=room_id).status_code == 200
    owner.call("POST", path + "/invitations", room_id=room_id, json={"user_ids": [colleague_id]})
    assert colleague.call("POST", path + "/invitations/decline", room_id=room_id).status_code == 200
    owner.call("POST", path + "/invitations", room_id=room_id, json={"user_ids": [colleague_id]})
    colleague.call("POST", path + "/invitations/accept", room_id=room_id)
    removed = owner.call("DELETE", path + "/members/{user_id}", room_id=room_id, user_id=colleague_id)
    assert removed.status_code == 200
    quick = owner.call(
        "POST", "/api/v1/war-rooms/quick", json={"source_type": "customer", "source_id": mine["customer_id"]}
    )
    assert quick.status_code == 201
    assert lead.call("GET", "/api/v1/war-rooms", query={"scope": "team"}).status_code == 200


def test_intel_answers_as_documented(sign_in, intel_alert):
    rm, admin = sign_in("rm_general"), sign_in("admin")
    state = rm.call(
        "POST", "/api/v1/intel/alerts/{alert_id}/state", alert_id=intel_alert, json={"read": True}
    )
    assert state.status_code == 200 and state.get_json()["read"] is True
    muted = rm.call("POST", "/api/v1/intel/mutes", json={"kind": "category", "value": "weather"})
    assert muted.status_code == 201
    assert (
        rm.call("DELETE", "/api/v1/intel/mutes/{mute_id}", mute_id=muted.get_json()["id"]).status_code == 200
    )
    source = admin.call(
        "POST",
        "/api/v1/intel/sources",
        json={"name": "类型测试上传", "kind": "upload", "category": "industry"},
    )
    assert source.status_code == 201
    patched = admin.call(
        "PATCH",
        "/api/v1/intel/sources/{source_id}",
        source_id=source.get_json()["id"],
        json={"enabled": False},
    )
    assert patched.status_code == 200 and patched.get_json()["enabled"] is False


def test_people_and_oversight_writes_answer_as_documented(sign_in, bank, oversight):
    """Personas (override, thresholds, mentoring notes), conduct (a check, a case through its steps,
    a rule), learning (a quiz answer, consent), the mirror (an evaluation, a customer's rating),
    helper tasks, bookings, and the admin's users, configuration and retraining."""
    rm, newcomer, star, lead, admin, risk = (
        sign_in(u) for u in ("rm_general", "rm_newcomer", "rm_super", "lead", "admin", "risk")
    )
    newcomer_id = _user(bank, "rm_newcomer").id
    rm_id = _user(bank, "rm_general").id
    override = "/api/v1/personas/rms/{rm_id}/override"
    put = lead.call("PUT", override, rm_id=newcomer_id, json={"persona": "general", "reason": "类型测试"})
    assert put.status_code == 200 and put.get_json()["override"]["persona"] == "general"
    assert lead.call("DELETE", override, rm_id=newcomer_id).status_code == 200
    assert lead.call("DELETE", override, rm_id=newcomer_id).status_code == 404
    thresholds = admin.call("GET", "/api/v1/personas/thresholds").get_json()
    saved = admin.call(
        "PUT",
        "/api/v1/personas/thresholds",
        json={"value": {"newcomer_months": 6}, "version": thresholds["version"]},
    )
    assert saved.status_code == 200
    stale = {"value": {}, "version": thresholds["version"]}
    assert admin.call("PUT", "/api/v1/personas/thresholds", json=stale).status_code == 412
    mentorship_id = _people_path_ids(bank, _user(bank, "rm_newcomer"), oversight)["mentorship_id"]
    notes = "/api/v1/personas/mentorships/{mentorship_id}/notes"
    note = newcomer.call("POST", notes, mentorship_id=mentorship_id, json={"body": "类型测试：本周拜访两家"})
    assert note.status_code == 201

    veteran = oversight["veteran"]
    detail = risk.call("GET", "/api/v1/conduct/rms/{rm_id}", rm_id=veteran).get_json()
    assert detail["signals"] and detail["timeline"], "the flagged veteran's evidence is checked too"
    ended = risk.call("GET", "/api/v1/conduct/checks/{check_id}", check_id=oversight["check_id"]).get_json()
    assert ended["status"] == "done" and ended["result"]["signals"]
    check = risk.call("POST", "/api/v1/conduct/rms/{rm_id}/departing-check", rm_id=veteran)
    assert check.status_code == 202 and check.get_json()["status"] == "queued"
    case = risk.call("POST", "/api/v1/conduct/cases", json={"rm_id": veteran, "note": "类型测试核查"})
    assert case.status_code == 201
    case_id, version = case.get_json()["id"], case.get_json()["version"]
    actions = "/api/v1/conduct/cases/{case_id}/actions"
    risk_id = _user(bank, "risk").id
    for step in (
        {"action": "note", "note": "已调阅台账"},
        {"action": "assign", "assignee_id": risk_id},
        {"action": "escalate"},
        {"action": "close", "disposition": "false_alarm", "note": "经核实无异常"},
    ):
        done = risk.call("POST", actions, case_id=case_id, json={**step, "version": version})
        assert done.status_code == 200, done.get_json()
        version = done.get_json()["version"]
    assert risk.call("POST", actions, case_id=case_id, json={"action": "escalate"}).status_code == 409
    stale_note = {"action": "note", "note": "迟到的备注", "version": 1}
    assert risk.call("POST", actions, case_id=case_id, json=stale_note).status_code == 412
    rule = admin.call("GET", "/api/v1/conduct/rules").get_json()["items"][0]
    tuned = admin.call(
        "PUT",
        "/api/v1/conduct/rules/{rule}",
        rule=rule["rule"],
        json={"params": {}, "enabled": True, "version": rule["version"]},
    )
    assert tuned.status_code == 200
    assert admin.call("PUT", "/api/v1/conduct/rules/{rule}", rule="no_such_rule", json={}).status_code == 404

    question = rm.call("GET", "/api/v1/learning/quiz").get_json()["items"][0]
    graded = rm.call(
        "POST", "/api/v1/learning/quiz/answers", json={"question_key": question["key"], "choice": 0}
    )
    assert graded.status_code == 200
    assert rm.call("PUT", "/api/v1/learning/consent", json={"share_name": True}).status_code == 200
    assert rm.call("PUT", "/api/v1/learning/consent", json={"share_name": False}).status_code == 200
    assert lead.call("PUT", "/api/v1/learning/consent", json={"share_name": True}).status_code == 403

    scores = {"professional": 5, "responsive": 4, "trustworthy": 5, "proactive": 4}
    evaluated = rm.call("POST", "/api/v1/mirror/evaluations", json={"rm_id": rm_id, "scores": scores})
    assert evaluated.status_code == 201
    again = rm.call("POST", "/api/v1/mirror/evaluations", json={"rm_id": rm_id, "scores": scores})
    assert again.status_code == 409
    customer_id = _path_ids(bank, _user(bank, "rm_general"))["customer_id"]
    link = rm.call("POST", "/api/v1/mirror/rating-links", json={"customer_id": customer_id})
    assert link.status_code == 201
    rating = "/api/v1/public/ratings/{token}"
    token = link.get_json()["token"]
    assert (
        rm.call("POST", rating, token=token, json={"scores": scores, "comment": "服务周到"}).status_code
        == 201
    )
    assert rm.call("POST", rating, token=token, json={"scores": scores}).status_code == 410
    assert rm.call("GET", rating, token=token).status_code == 410

    candidates = star.call("GET", "/api/v1/helpers/candidates").get_json()["items"]
    star_customer = _path_ids(bank, _user(bank, "rm_super"))["customer_id"]
    task = star.call(
        "POST",
        "/api/v1/helpers/tasks",
        json={
            "helper_id": next(c["id"] for c in candidates if not c["current"]),
            "customer_id": star_customer,
            "kind": "book_meeting",
            "title": "类型测试：约财务总监",
            "due_on": "2030-01-10",
        },
    )
    assert task.status_code == 201
    helper = sign_in(_username(bank, task.get_json()["helper"]["id"]))
    task_path = "/api/v1/helpers/tasks/{task_id}"
    task_id = task.get_json()["id"]
    progress = {"progress": 50, "progress_note": "已联系", "version": 1}
    assert helper.call("PATCH", task_path, task_id=task_id, json=progress).status_code == 200
    assert helper.call("PATCH", task_path, task_id=task_id, json=progress).status_code == 412
    cancel = {"status": "cancelled", "version": 2}
    assert star.call("PATCH", task_path, task_id=task_id, json=cancel).status_code == 200
    assert helper.call("GET", task_path, task_id=task_id).get_json()["customer_id"] is None

    groups = rm.call("GET", "/api/v1/resources").get_json()
    resources = [r for group in ("product", "office", "collaboration") for r in groups[group]]
    room = next(r for r in resources if r["kind"] == "meeting_room")
    budget = next(r for r in resources if r["kind"] == "gift_budget")
    slot = {"starts_at": "2030-01-08T02:00:00Z", "ends_at": "2030-01-08T03:00:00Z", "purpose": "类型测试洽谈"}
    booking = rm.call("POST", "/api/v1/resources/{resource_id}/bookings", resource_id=room["id"], json=slot)
    assert booking.status_code == 201
    taken = rm.call("POST", "/api/v1/resources/{resource_id}/bookings", resource_id=room["id"], json=slot)
    assert taken.status_code == 409
    drawn = rm.call(
        "POST",
        "/api/v1/resources/{resource_id}/bookings",
        resource_id=budget["id"],
        json={"starts_at": "2026-06-01T02:00:00Z", "amount_cents": 10_000, "purpose": "类型测试礼品"},
    )
    assert drawn.status_code == 201
    cancel_booking = "/api/v1/resources/bookings/{booking_id}"
    assert rm.call("DELETE", cancel_booking, booking_id=booking.get_json()["id"]).status_code == 200

    team_id = admin.call("GET", "/api/v1/admin/teams").get_json()["items"][0]["id"]
    created = {
        "username": "typed_rm",
        "display_name": "类型测试",
        "password": "typed-pass-1234",
        "role": "rm",
        "team_id": team_id,
        "persona": "newcomer",
        "qualifications": ["wealth"],
    }
    user = admin.call("POST", "/api/v1/admin/users", json=created)
    assert user.status_code == 201
    assert admin.call("POST", "/api/v1/admin/users", json=created).status_code == 409
    patched = admin.call(
        "PATCH", "/api/v1/admin/users/{user_id}", user_id=user.get_json()["id"], json={"is_active": False}
    )
    assert patched.status_code == 200 and patched.get_json()["is_active"] is False
    config = "/api/v1/admin/workbench-config/{name}"
    assert admin.call("GET", config, name="knowledge").status_code == 200
    weights = admin.call("GET", config, name="mirror").get_json()
    stored = admin.call(
        "PUT",
        config,
        name="mirror",
        json={"value": {"combat_power": {"revenue": 30}}, "version": weights["version"]},
    )
    assert stored.status_code == 200
    assert admin.call("GET", config, name="nothing").status_code == 404
    assert admin.call("POST", "/api/v1/admin/next-products/retrain").status_code == 202


def _username(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    session.commit()
    assert user is not None
    return user.username


def test_intel_admin_answers_as_documented(sign_in, bank, demo_bank):  # noqa: F811
    """Manual items, an uploaded file, a poll, a source's error log and a failed job put back."""
    from rq import Queue
    from rq.job import Job
    from rq.registry import FailedJobRegistry

    from server.redis_client import get_redis

    admin = sign_in("admin")
    path = "/api/v1/intel/sources/{source_id}"
    manual = admin.call(
        "POST",
        "/api/v1/intel/sources",
        json={"name": "类型测试手工", "kind": "manual", "category": "industry"},
    ).get_json()["id"]
    added = admin.call("POST", path + "/items", source_id=manual, json={"title": "类型测试行业新闻"})
    assert added.status_code == 201 and added.get_json()["new_items"] == 1
    upload_id = admin.call(
        "POST",
        "/api/v1/intel/sources",
        json={"name": "类型测试上传文件", "kind": "upload", "category": "tender_contract"},
    ).get_json()["id"]
    csv = "标题,内容,类别\n类型测试医药签订供货合同,合同金额5000万元,tender_contract\n".encode()
    uploaded = admin.call(
        "POST",
        path + "/upload",
        source_id=upload_id,
        json={"filename": "x.csv", "content_base64": base64.b64encode(csv).decode()},
    )
    assert uploaded.status_code == 201 and uploaded.get_json()["rows"] == 1
    feed = bank.exec(
        select(IntelSource.id).where(IntelSource.kind == "feed").order_by(IntelSource.id)
    ).first()
    bank.commit()
    assert admin.call("POST", path + "/poll", source_id=feed).status_code == 202
    assert admin.call("GET", path + "/errors", source_id=feed).status_code == 200
    with demo_bank.app_context():
        redis = get_redis()
        queue = Queue("low", connection=redis)
        job = queue.enqueue("tasks.intel.poll_source", 0)  # never run: put in the failed registry here
        queue.remove(job)
        FailedJobRegistry(queue=queue).add(job, ttl=600, exc_string="FetchError: timeout")
        retried = admin.call("POST", "/api/v1/intel/jobs/failed/{job_id}/retry", job_id=job.id)
        assert retried.status_code == 202 and retried.get_json() == {"requeued": job.id}
        queue.remove(job)
        Job.fetch(job.id, connection=redis).delete()


def test_assistant_answers_as_documented(sign_in, bank, trained_recommender):
    rm = sign_in("rm_general")
    ids = _path_ids(bank, _user(bank, "rm_general"))
    path = "/api/v1/customers/{customer_id}"
    text = rm.call("GET", path + "/brief", customer_id=ids["customer_id"], query={"format": "text"})
    assert text.status_code == 200 and text.get_data(as_text=True).startswith("【拜访简报】")
    offered = rm.call("GET", path + "/next-products", customer_id=ids["customer_id"]).get_json()["items"]
    assert offered, "the trained recommender proposes something"
    dismissed = rm.call(
        "POST",
        path + "/next-products/dismissals",
        customer_id=ids["customer_id"],
        json={"product_id": offered[0]["product_id"], "reason": "timing"},
    )
    assert dismissed.status_code == 201
    kinds = {
        rm.call("GET", "/api/v1/ask", query={"q": q}).get_json()["result"]["kind"]
        for q in ("本月收入完成率", "上个月的商机", "利空情报", "今天的提醒", "有哪些理财产品", "制造业客户")
    }
    assert {"figure", "opportunities", "alerts", "reminders", "products", "customers"} <= kinds, kinds


def test_push_answers_as_documented(sign_in, demo_bank):  # noqa: F811
    from server.push import vapid
    from tests.push_service import PushServiceStandIn

    api = sign_in("rm_newcomer")
    settings = demo_bank.config["SETTINGS"]
    with PushServiceStandIn(expected_public_key=vapid.public_key(settings.VAPID_PRIVATE_KEY)) as push:
        phone, tablet = push.new_subscription(), push.new_subscription()
        path = "/api/v1/push/subscriptions"
        assert api.call("POST", path, json=phone.to_json()).status_code == 201
        tablet_id = api.call("POST", path, json=tablet.to_json()).get_json()["id"]
        assert len(api.call("GET", path).get_json()["items"]) == 2
        assert api.call("DELETE", path, json={"endpoint": phone.endpoint}).status_code == 204
        removed = api.call("DELETE", path + "/{subscription_id}", subscription_id=tablet_id)
        assert removed.status_code == 204
        assert api.call("DELETE", path + "/{subscription_id}", subscription_id=tablet_id).status_code == 404


PROSPECT_HEADER = "企业名称,统一社会信用代码,行业代码,规模,注册资本(万元),成立日期,地址,地区代码,纬度,经度,园区,供货给(客户信用代码)\n"


def test_prospect_flow_answers_as_documented(sign_in, bank):
    """Claim, record, release; the RM's own lookalike version; the admin's registry file and fetch."""
    rm, admin = sign_in("rm_general"), sign_in("admin")
    page = rm.call("GET", "/api/v1/prospects", query={"limit": 5}).get_json()
    placed = next(p for p in page["items"] if p["lat"] is not None)
    near = rm.call("GET", "/api/v1/prospects", query={"near": f"{placed['lat']},{placed['lng']},5"})
    assert any(p["distance_km"] is not None for p in near.get_json()["items"])
    path = "/api/v1/prospects/{prospect_id}"
    prospect_id = placed["id"]
    assert rm.call("POST", path + "/claim", prospect_id=prospect_id).status_code == 200
    assert rm.call("GET", path, prospect_id=prospect_id).get_json()["claimed_until"] is not None
    activity = rm.call(
        "POST",
        path + "/activities",
        prospect_id=prospect_id,
        json={"kind": "visit_planned", "note": "下周拜访"},
    )
    assert activity.status_code == 201
    assert rm.call("POST", path + "/release", prospect_id=prospect_id).status_code == 200
    own = rm.call("POST", "/api/v1/prospects/models", json={"seeds_kind": "default"})
    assert own.status_code == 202 and own.get_json()["metrics"] == {}
    assert (
        rm.call("GET", "/api/v1/prospects/models/{model_id}", model_id=own.get_json()["id"]).status_code
        == 200
    )

    source = admin.call(
        "POST",
        "/api/v1/intel/sources",
        json={"name": "类型测试工商登记", "kind": "upload", "category": "corporate_event"},
    ).get_json()["id"]
    row = f"类型测试潜客科技有限公司,{_credit_code()},C39,小型,500,2015-03-01,,310115,31.2,121.6,,\n"
    upload = {
        "source_id": source,
        "filename": "registry.csv",
        "content_base64": base64.b64encode((PROSPECT_HEADER + row).encode()).decode(),
    }
    started = admin.call("POST", "/api/v1/prospects/imports", json=upload)
    assert started.status_code == 202 and started.get_json()["already_imported"] is False
    again = admin.call("POST", "/api/v1/prospects/imports", json=upload)
    assert again.status_code == 200 and again.get_json()["already_imported"] is True
    import_id = started.get_json()["id"]
    assert admin.call("GET", "/api/v1/prospects/imports/{import_id}", import_id=import_id).status_code == 200
    errors = admin.call("GET", "/api/v1/prospects/imports/{import_id}/errors", import_id=import_id)
    assert errors.status_code == 200 and errors.get_json()["total"] == 0
    assert admin.call("GET", "/api/v1/prospects/imports", query={"limit": 5}).get_json()["items"]
    registry = bank.exec(
        select(IntelSource.id).where(IntelSource.kind == "json").order_by(IntelSource.id)
    ).first()
    bank.commit()
    fetch = admin.call("POST", "/api/v1/prospects/imports/fetch", json={"source_id": registry})
    assert fetch.status_code == 202 and fetch.get_json()["kind"] == "fetch"


def test_campaign_flow_answers_as_documented(sign_in, bank, demo_bank):  # noqa: F811
    """A chain campaign: bulk targets (a dry run, the bulk, its replay), the board, moves and
    assignments, the chain, an expert booked, a PDF and a product on the stage, the outcome."""
    from server.redis_client import get_redis
    from server.warrooms import stage

    owner, colleague = sign_in("rm_general"), sign_in("rm_excellent")
    core = _path_ids(bank, _user(bank, "rm_general"))["customer_id"]
    room = owner.call(
        "POST",
        "/api/v1/war-rooms",
        json={"title": "类型测试产业链", "kind": "project_marketing", "goal_customers": 5},
    ).get_json()["id"]
    path = "/api/v1/war-rooms/{room_id}"
    owner.call(
        "POST", path + "/invitations", room_id=room, json={"user_ids": [_user(bank, "rm_excellent").id]}
    )
    colleague.call("POST", path + "/invitations/accept", room_id=room)
    chain = {"type": "chain", "core_customer_id": core, "direction": "both", "hops": 2}
    bulk = {"client_key": uuid.uuid4().hex, "source": chain}
    dry = owner.call("POST", path + "/targets/bulk", room_id=room, json={**bulk, "dry_run": True})
    assert dry.status_code == 200 and dry.get_json()["dry_run"] is True
    added = owner.call("POST", path + "/targets/bulk", room_id=room, json=bulk)
    assert added.status_code == 201 and added.get_json()["core_customer_id"] == core
    replayed = owner.call("POST", path + "/targets/bulk", room_id=room, json=bulk)
    assert replayed.status_code == 200 and replayed.get_json()["replayed"] is True
    search = {"client_key": uuid.uuid4().hex, "source": {"type": "search", "kind": "corporate"}}
    assert owner.call("POST", path + "/targets/bulk", room_id=room, json=search).status_code == 201
    board = owner.call("GET", path + "/campaign", room_id=room).get_json()
    assert board["total"] > 0
    targets = [t["id"] for t in owner.call("GET", path, room_id=room).get_json()["targets"]]
    moved = owner.call(
        "POST",
        path + "/targets/move",
        room_id=room,
        json={"client_key": uuid.uuid4().hex, "target_ids": targets[:3], "stage": "contacted"},
    )
    assert moved.status_code == 200
    won = owner.call(
        "POST",
        path + "/targets/move",
        room_id=room,
        json={"client_key": uuid.uuid4().hex, "target_ids": targets[:1], "stage": "won"},
    )
    assert won.status_code == 200
    assigned = owner.call(
        "POST", path + "/targets/assign", room_id=room, json={"client_key": uuid.uuid4().hex}
    )
    assert assigned.status_code == 200
    assert owner.call("GET", path + "/chain", room_id=room).status_code == 200
    experts = owner.call("GET", path + "/experts", room_id=room).get_json()["items"]
    bookable = next(e for e in experts if e["slots"])
    slot = bookable["slots"][0]
    booked = owner.call(
        "POST",
        path + "/experts/bookings",
        room_id=room,
        json={"resource_id": bookable["resource_id"], **slot},
    )
    assert booked.status_code == 201
    pdf = b"%PDF-1.4\n%%EOF\n"
    shown = owner.call(
        "POST",
        path + "/stage/pdf",
        room_id=room,
        json={
            "filename": "方案.pdf",
            "content_base64": base64.b64encode(pdf).decode(),
            "pages": 1,
            "downloadable": True,
        },
    )
    assert shown.status_code == 201
    drawn = colleague.call(
        "GET", path + "/stage/pdf/{share_id}", room_id=room, share_id=shown.get_json()["share_id"]
    )
    assert drawn.status_code == 200 and drawn.data == pdf
    assert colleague.call("GET", path + "/stage/download", room_id=room).data == pdf
    product_id = _path_ids(bank, _user(bank, "rm_general"))["product_id"]
    with demo_bank.test_request_context():
        stage.share(
            db.session(),
            get_redis(),
            data=stage.ShareIn(room_id=room, kind="product", ref_id=product_id, downloadable=True),
            user=_user(db.session(), "rm_general"),
            ip=None,
        )
    pages = colleague.call("GET", path + "/stage/download", room_id=room)
    assert pages.status_code == 200 and pages.get_json()["kind"] == "product"
    version = owner.call("GET", path, room_id=room).get_json()["version"]
    closed = owner.call("PATCH", path, room_id=room, json={"status": "won", "version": version})
    assert closed.status_code == 200
    report = owner.call("GET", path + "/outcome", room_id=room).get_json()
    assert report["converted"] == 1
    exported = owner.call("GET", path + "/outcome.csv", room_id=room)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"


def _credit_code() -> str:
    from tests import factories

    return factories.credit_code()


# ---------------------------------------------------------------------------------------------------
# What a mismatch becomes


class Answer(Strict):
    id: int


def _small_app(testing: bool) -> Flask:
    from server.api import _FlaskPlugin, _SpecTree

    own_spec = _SpecTree("flask", backend=_FlaskPlugin, title="t", version="1")
    app = Flask(__name__)
    app.config["TESTING"] = testing
    init_problems(app)

    @app.get("/grown")
    @own_spec.validate(resp=Response(HTTP_200=Answer, **problems(404)))
    def grown():
        return ok({"id": 1, "secret": "a field no model describes"})

    @app.get("/fine")
    @own_spec.validate(resp=Response(HTTP_200=Answer))
    def fine():
        return ok({"id": 2}, personal=True)

    @app.get("/undocumented-status")
    @own_spec.validate(resp=Response(HTTP_200=Answer))
    def undocumented_status():
        return ok({"id": 3}, 201)

    @app.get("/brief")
    @own_spec.validate(resp=JsonOrFile(Answer, "text/plain"))
    def brief():
        if request.args.get("format") == "text":
            return FlaskResponse("shareable text", mimetype="text/plain")
        return ok({"id": 4, "secret": "the JSON form is still checked"})

    own_spec.register(app)
    return app


def test_a_mismatch_fails_loudly_in_tests(caplog):
    client = _small_app(testing=True).test_client()
    with caplog.at_level(logging.ERROR, logger="server.api"):
        grown = client.get("/grown")
    assert grown.status_code == 500
    assert grown.get_json()["code"] == "response-mismatch"
    assert "secret" in grown.get_json()["detail"]
    assert "GET /grown" in caplog.text
    assert client.get("/undocumented-status").status_code == 500
    fine = client.get("/fine")
    assert fine.status_code == 200 and fine.get_json() == {"id": 2}
    text = client.get("/brief?format=text")
    assert text.status_code == 200 and text.get_data(as_text=True) == "shareable text"
    assert client.get("/brief").get_json()["code"] == "response-mismatch"
    assert fine.headers["Cache-Control"] == "no-store"


def test_a_mismatch_in_production_is_logged_and_answered(caplog):
    client = _small_app(testing=False).test_client()
    with caplog.at_level(logging.WARNING, logger="server.api"):
        grown = client.get("/grown")
    assert grown.status_code == 200
    assert grown.get_json() == {"id": 1, "secret": "a field no model describes"}
    assert "response does not match its model: GET /grown" in caplog.text
    assert client.get("/undocumented-status").status_code == 201


def test_response_models_are_strict():
    assert issubclass(Answer, BaseModel)
    with pytest.raises(ValueError):
        Answer.model_validate({"id": 1, "extra": True})


def test_every_typed_operation_was_answered_as_documented(document, seen):
    """The tests above (reads for every demo role, the customer and opportunity flows) reach every
    typed operation with a 2xx answer at least once."""
    if not seen:
        pytest.skip("runs after the request tests of this module")
    typed = {(m, p) for m, p, op in _operations(document) if _typed(op) and (m != "GET" or p in FLOW_READS)}
    missed = sorted(k for k in typed if not any(200 <= s < 300 for s in seen.get(k, ())))
    assert not missed, f"typed but never answered 2xx here: {missed}"
