"""Read marks: how far a member has read, for unread counts."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col

from server.org.models import User
from server.warrooms.access import require_member
from server.warrooms.eventlog import last_seq
from server.warrooms.models import (
    WarRoomMember,
)


def mark_read(session: Session, *, room_id: int, user: User, seq: int) -> int:
    member = require_member(session, room_id=room_id, user=user)
    session.execute(
        update(WarRoomMember)
        .where(col(WarRoomMember.id) == member.id, col(WarRoomMember.last_read_seq) < seq)
        .values(last_read_seq=min(seq, last_seq(session, room_id)))
    )
    session.commit()
    session.refresh(member)
    return member.last_read_seq
