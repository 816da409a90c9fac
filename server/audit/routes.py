from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from server import db
from server.api import ok, query, spec
from server.audit import service
from server.org.models import Role
from server.security import require_role
from server.timeutil import iso

bp = Blueprint("audit", __name__, url_prefix="/api/v1/audit")


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor_id: int | None = None
    action: str | None = Field(default=None, max_length=48)
    since: datetime | None = None
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=50, ge=1, le=200)


@bp.get("")
@require_role(Role.risk_officer)
@spec.validate(query=AuditQuery, tags=["audit"])
def list_audit():
    q: AuditQuery = query()
    rows, total = service.list_entries(
        db.session(),
        actor_id=q.actor_id,
        action_prefix=q.action,
        since=q.since,
        page=q.page,
        page_size=q.page_size,
    )
    items = [{**r.model_dump(mode="json"), "at": iso(r.at)} for r in rows]
    return ok({"items": items, "total": total, "page": q.page, "page_size": q.page_size}, personal=True)
