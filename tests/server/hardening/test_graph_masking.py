"""The customer 360's relationship graph never names a customer the viewer may not read: a war-room
member lent one customer sees its linked companies as 本行其他客户 (masked, no name, no id)."""

from __future__ import annotations

import json

from server.customers.grants import grant
from server.customers.models import CustomerLink
from tests import factories


def test_graph_masks_customers_the_viewer_may_not_read(login, db_session, data_key):
    owner = factories.make_user(db_session)
    member = factories.make_user(db_session)
    center = factories.make_customer(
        db_session, owner=owner, data_key=data_key, name=factories.unique("中心制造")
    )
    supplier = factories.make_customer(
        db_session, owner=owner, data_key=data_key, name=factories.unique("周永刚")
    )
    buyer = factories.make_customer(
        db_session, owner=owner, data_key=data_key, name=factories.unique("下游商贸")
    )
    shared = factories.make_customer(
        db_session, owner=owner, data_key=data_key, name=factories.unique("共享客户")
    )
    db_session.add_all(
        [
            CustomerLink(from_customer_id=center.id, to_customer_id=supplier.id, kind="supplier"),
            CustomerLink(from_customer_id=center.id, to_customer_id=shared.id, kind="buyer"),
            CustomerLink(from_customer_id=buyer.id, to_customer_id=center.id, kind="supplier"),
            CustomerLink(from_customer_id=center.id, to_name="他行某公司", kind="buyer"),
            CustomerLink(from_customer_id=center.id, kind="shareholder"),
        ]
    )
    db_session.commit()
    for customer in (center, shared):
        grant(
            db_session,
            customer_id=customer.id,
            owner_id=owner.id,
            user_id=member.id,
            source_type="war_room",
            source_id=1,
            actor_id=owner.id,
        )
    db_session.commit()

    as_member = login(member).get(f"/api/v1/customers/{center.id}/360")
    assert as_member.status_code == 200
    graph = as_member.get_json()["graph"]
    raw = json.dumps(graph, ensure_ascii=False)
    for hidden in (supplier, buyer):
        assert hidden.name not in raw and f"c{hidden.id}" not in raw
    labels = {n["label"] for n in graph["nodes"]}
    assert shared.name in labels  # lent to the member too: named
    assert "他行某公司" in labels  # recorded on the customer the member may read
    masked = [n for n in graph["nodes"] if n.get("masked")]
    assert sorted(n["kind"] for n in masked) == ["customer", "customer", "external"]
    assert all(n["label"] == "" for n in masked)
    assert len(graph["edges"]) == 5
    assert login(member).get(f"/api/v1/customers/{supplier.id}").status_code == 404

    as_owner = login(owner).get(f"/api/v1/customers/{center.id}/360").get_json()["graph"]
    owner_labels = {n["label"] for n in as_owner["nodes"]}
    assert {supplier.name, buyer.name, shared.name} <= owner_labels
    assert [n["kind"] for n in as_owner["nodes"] if n.get("masked")] == ["external"]
