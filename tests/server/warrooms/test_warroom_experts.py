"""Booking an expert from a war room: free slots, the resources' booking rules, the invitation as
remote_expert, the timeline, and a reminder for both before the call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from server.notebook.models import Reminder
from server.resources.models import Resource, ResourceBooking
from server.warrooms.experts import free_slots
from server.warrooms.models import WarRoomMember
from tests import factories


def test_free_slots_skip_the_past_weekends_and_bookings():
    now = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai
    busy = [(datetime(2026, 12, 4, 3, 0, tzinfo=UTC), datetime(2026, 12, 4, 4, 0, tzinfo=UTC))]
    slots = free_slots(busy, now=now, days=3)  # Friday, Saturday, Sunday
    starts = [s["starts_at"] for s in slots]
    assert starts[0] == "2026-12-04T02:30:00Z"  # 10:30; 10:00 has started
    assert "2026-12-04T03:00:00Z" not in starts and "2026-12-04T03:30:00Z" not in starts  # booked 11-12
    assert starts[-1] == "2026-12-04T09:30:00Z"  # 17:30, the last office slot; the weekend has none
    assert len(starts) == 1 + 8  # 10:30-11:00 in the morning, 14:00-18:00 in the afternoon


def test_booking_an_expert_invites_them_and_reminds_both(db_session, login):
    branch = factories.make_branch(db_session)
    head_office = factories.make_branch(db_session)
    owner = factories.make_user(db_session, branch=branch, display_name="王敏")
    member = factories.make_user(db_session, branch=branch, display_name="李强")
    expert = factories.make_user(db_session, branch=head_office, display_name="赵专家")
    resource = Resource(
        kind="expert", name="赵专家(授信审批)", expert_user_id=expert.id, detail={"topics": ["授信方案"]}
    )
    db_session.add(resource)
    db_session.commit()
    api, other = login(owner), login(member)
    room = api.post(
        "/api/v1/war-rooms", json={"title": "远程连线作战室", "invite_user_ids": [member.id]}
    ).get_json()
    other.post(f"/api/v1/war-rooms/{room['id']}/invitations/accept")

    listed = api.get(f"/api/v1/war-rooms/{room['id']}/experts").get_json()["items"]
    mine = next(item for item in listed if item["resource_id"] == resource.id)
    assert mine["expert"] == {"id": expert.id, "display_name": "赵专家"} and mine["slots"]
    slot = mine["slots"][0]

    url = f"/api/v1/war-rooms/{room['id']}/experts/bookings"
    body = {"resource_id": resource.id, **slot}
    assert other.post(url, json=body).status_code == 403  # inviting is the owner's
    booked = api.post(url, json=body)
    assert booked.status_code == 201, booked.get_data(as_text=True)
    assert (
        api.post(url, json=body).get_json()["code"] == "slot-taken"
    )  # the resources' rule: no double booking

    db_session.expire_all()
    row = db_session.exec(
        select(WarRoomMember).where(WarRoomMember.room_id == room["id"], WarRoomMember.user_id == expert.id)
    ).one()
    assert (row.role, row.status) == ("remote_expert", "invited")
    booking = db_session.exec(select(ResourceBooking).where(ResourceBooking.resource_id == resource.id)).one()
    reminders = db_session.exec(
        select(Reminder).where(Reminder.source_key == f"expert_call:{booking.id}")
    ).all()
    assert sorted(r.user_id for r in reminders) == sorted([owner.id, expert.id])
    starts = datetime.fromisoformat(slot["starts_at"].replace("Z", "+00:00"))
    assert all(r.urgent and r.url == f"/war-rooms/{room['id']}" for r in reminders)
    # 15 minutes before the call (or at once, for a call sooner than that)
    assert all(
        r.due_at.replace(tzinfo=UTC) <= max(starts - timedelta(minutes=15), datetime.now(UTC))
        for r in reminders
    )

    events = api.get(f"/api/v1/war-rooms/{room['id']}/events?after_seq=0").get_json()["items"]
    kinds = [e["kind"] for e in events]
    assert "expert.booked" in kinds and kinds[-2:] == ["member.invited", "expert.booked"]
    again = api.get(f"/api/v1/war-rooms/{room['id']}/experts").get_json()["items"]
    assert slot not in next(i for i in again if i["resource_id"] == resource.id)["slots"]
    # The reminder scan fires both before the call, into each one's inbox.
    from server.inbox.models import Notification
    from server.notebook.reminders import fire_due

    fired = fire_due(db_session, now=starts)
    notes = db_session.exec(select(Notification).where(Notification.id.in_(fired.notification_ids))).all()
    mine = sorted((n.user_id, n.title, n.url) for n in notes if n.url == f"/war-rooms/{room['id']}")
    assert mine == sorted(
        (u.id, "远程连线 · 远程连线作战室", f"/war-rooms/{room['id']}") for u in (owner, expert)
    )
    # The expert sees the invitation and accepts it like any other.
    assert login(expert).post(f"/api/v1/war-rooms/{room['id']}/invitations/accept").status_code == 200


def test_turn_credentials_expire_and_match_coturns_rest_scheme():
    import base64
    import hashlib
    import hmac
    from types import SimpleNamespace

    from server.warrooms.calls import ice_servers

    settings = SimpleNamespace(
        WEBRTC_ICE_SERVERS=[{"urls": "stun:stun.bank.example:3478"}],
        WEBRTC_TURN_URLS=["turn:turn.bank.example:3478?transport=udp"],
        WEBRTC_TURN_SECRET="s3cret",
        WEBRTC_TURN_TTL_SECONDS=3600,
    )
    stun, turn = ice_servers(settings, user_id=7, now=1_000_000)
    assert stun == {"urls": "stun:stun.bank.example:3478"}
    assert turn["username"] == "1003600:7"
    expected = base64.b64encode(hmac.new(b"s3cret", b"1003600:7", hashlib.sha1).digest()).decode()
    assert turn["credential"] == expected and turn["urls"] == ["turn:turn.bank.example:3478?transport=udp"]
    settings.WEBRTC_TURN_SECRET = ""
    assert ice_servers(settings, user_id=7) == [{"urls": "stun:stun.bank.example:3478"}]
