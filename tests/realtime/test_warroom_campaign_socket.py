"""A campaign's bulk change on the live server: every member's socket gets each numbered event once,
in compact batches, in seq order, with no gap; expanded, they are exactly the events the database
replays to a member who was away."""

from __future__ import annotations

import base64
import threading
import uuid

import pytest

from server.warrooms.eventlog import BATCH_SIZE, FIRST_BATCH_SIZE, expand_batch
from tests import factories

NS = "/warroom"


@pytest.fixture
def people(db_session):
    branch = factories.make_branch(db_session)
    return [factories.make_user(db_session, branch=branch, display_name=name) for name in ("甲", "乙")]


def test_bulk_add_reaches_every_member_as_numbered_batches(socket_client, live_server, people):
    owner, mate = people
    owner_client, mate_client = socket_client(owner, NS), socket_client(mate, NS)
    got: dict[str, list] = {"owner": [], "mate": []}
    sizes: dict[str, list[int]] = {"owner": [], "mate": []}
    cond = threading.Condition()

    def recorder(name):
        def record(batch):
            with cond:
                assert set(batch) == {"room_id", "first_seq", "count", "base", "rows"}
                assert batch["count"] == len(batch["rows"])
                sizes[name].append(batch["count"])
                got[name].extend(expand_batch(batch))
                cond.notify_all()

        return record

    owner_client.on("batch", recorder("owner"), namespace=NS)
    mate_client.on("batch", recorder("mate"), namespace=NS)
    base = live_server.url
    created = owner_client.http.post(
        base + "/api/v1/war-rooms",
        json={"title": "批发名单", "kind": "wholesale", "invite_user_ids": [mate.id]},
    )
    room_id = created.json()["id"]
    assert mate_client.http.post(f"{base}/api/v1/war-rooms/{room_id}/invitations/accept").status_code == 200
    for client in (owner_client, mate_client):
        assert client.call("join", {"room_id": room_id, "last_seq": 10**9}, namespace=NS, timeout=10)["ok"]

    names = "\n".join(["客户名称"] + [f"名单企业{i}有限公司" for i in range(1200)])
    body = {
        "client_key": uuid.uuid4().hex,
        "source": {
            "type": "file",
            "filename": "名单.csv",
            "content_base64": base64.b64encode(names.encode()).decode(),
        },
    }
    response = owner_client.http.post(f"{base}/api/v1/war-rooms/{room_id}/targets/bulk", json=body)
    assert response.status_code == 201, response.text
    result = response.json()
    expected = list(range(result["first_seq"], result["last_seq"] + 1))
    assert len(expected) == 1200
    with cond:
        assert cond.wait_for(lambda: len(got["owner"]) >= 1200 and len(got["mate"]) >= 1200, 20)
    for name in ("owner", "mate"):
        assert [e["seq"] for e in got[name]] == expected
        assert {e["kind"] for e in got[name]} == {"target.added"}
        # A small first batch, so the change shows at once; then full ones.
        assert sizes[name] == [
            FIRST_BATCH_SIZE,
            BATCH_SIZE,
            BATCH_SIZE,
            1200 - FIRST_BATCH_SIZE - 2 * BATCH_SIZE,
        ]
    names_sent = {e["payload"]["target"]["name"] for e in got["mate"]}
    assert names_sent == {f"名单企业{i}有限公司" for i in range(1200)}
    # A retry of the same bulk sends nothing more.
    again = owner_client.http.post(f"{base}/api/v1/war-rooms/{room_id}/targets/bulk", json=body)
    assert again.status_code == 200 and again.json()["replayed"]
    # Replay from the database gives the same events to a member who missed them.
    ack = mate_client.call(
        "join", {"room_id": room_id, "last_seq": expected[0] - 1}, namespace=NS, timeout=10
    )
    assert ack["ok"] and [e["seq"] for e in ack["events"]] == expected[: len(ack["events"])]
    # Expanded, each live event is exactly what the database replays.
    assert ack["events"] == got["mate"][: len(ack["events"])]
    with cond:
        cond.wait(0.5)
    assert len(got["mate"]) == 1200

    # A bulk move: one `target.updated` per target, compact on the wire, exact when expanded.
    detail = owner_client.http.get(f"{base}/api/v1/war-rooms/{room_id}").json()
    ids = sorted(t["id"] for t in detail["targets"])[:700]
    moved = owner_client.http.post(
        f"{base}/api/v1/war-rooms/{room_id}/targets/move",
        json={"client_key": uuid.uuid4().hex, "target_ids": ids, "stage": "contacted"},
    )
    assert moved.status_code == 200, moved.text
    first, last = moved.json()["first_seq"], moved.json()["last_seq"]
    assert last - first + 1 == 700
    with cond:
        assert cond.wait_for(lambda: len(got["owner"]) >= 1900 and len(got["mate"]) >= 1900, 20)
    for name in ("owner", "mate"):
        live = got[name][1200:]
        assert [e["seq"] for e in live] == list(range(first, last + 1))
        assert sizes[name][4:] == [FIRST_BATCH_SIZE, BATCH_SIZE, 700 - FIRST_BATCH_SIZE - BATCH_SIZE]
        assert {e["payload"]["target"]["id"] for e in live} == set(ids)
        assert {(e["kind"], e["payload"]["target"]["stage"], e["payload"]["from_stage"]) for e in live} == {
            ("target.updated", "contacted", "to_contact")
        }
    synced = mate_client.call("sync", {"room_id": room_id, "after_seq": first - 1}, namespace=NS, timeout=10)
    assert synced["events"] == got["mate"][1200:1700]
