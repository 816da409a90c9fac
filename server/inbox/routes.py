from __future__ import annotations

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response

from server import db
from server.api import body, idempotent, ok, query, spec
from server.inbox import service
from server.inbox.schemas import InboxPage, NotificationRead, ReadAllResult, UnreadCount
from server.schemas import problems
from server.security import current_user

bp = Blueprint("inbox", __name__, url_prefix="/api/v1/inbox")


class InboxQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unread: bool = False
    before_id: int | None = Field(default=None, ge=1, description="older than this id (paging back)")
    after_id: int | None = Field(default=None, ge=0, description="newer than this id (catching up)")
    limit: int = Field(default=30, ge=1, le=100)


class ReadAll(BaseModel):
    model_config = ConfigDict(extra="forbid")
    up_to_id: int | None = Field(default=None, ge=1)


@bp.get("")
@spec.validate(query=InboxQuery, resp=Response(HTTP_200=InboxPage), tags=["inbox"])
def list_inbox():
    q: InboxQuery = query()
    user_id = current_user().id
    if q.after_id is not None:
        rows = service.since(db.session(), user_id=user_id, after_id=q.after_id, limit=q.limit)  # type: ignore[arg-type]
        total = len(rows)
    else:
        rows, total = service.list_inbox(
            db.session(),
            user_id=user_id,  # type: ignore[arg-type]
            unread_only=q.unread,
            before_id=q.before_id,
            limit=q.limit,
        )
    return ok(
        {
            "items": [service.public(n) for n in rows],
            "total": total,
            "unread": service.unread_count(db.session(), user_id=user_id),  # type: ignore[arg-type]
        },
        personal=True,
    )


@bp.get("/unread-count")
@spec.validate(resp=Response(HTTP_200=UnreadCount), tags=["inbox"])
def unread_count():
    return ok({"unread": service.unread_count(db.session(), user_id=current_user().id)}, personal=True)  # type: ignore[arg-type]


@bp.post("/<int:notification_id>/read")
@idempotent
@spec.validate(resp=Response(HTTP_200=NotificationRead, **problems(404)), tags=["inbox"])
def mark_read(notification_id: int):
    user_id = current_user().id
    n = service.mark_read(db.session(), user_id=user_id, notification_id=notification_id)  # type: ignore[arg-type]
    return ok(
        {**service.public(n), "unread": service.unread_count(db.session(), user_id=user_id)},  # type: ignore[arg-type]
        personal=True,
    )


@bp.post("/read-all")
@idempotent
@spec.validate(json=ReadAll, resp=Response(HTTP_200=ReadAllResult), tags=["inbox"])
def mark_all_read():
    data: ReadAll = body()
    user_id = current_user().id
    changed = service.mark_all_read(db.session(), user_id=user_id, up_to_id=data.up_to_id)  # type: ignore[arg-type]
    return ok({"marked": changed, "unread": service.unread_count(db.session(), user_id=user_id)})  # type: ignore[arg-type]
