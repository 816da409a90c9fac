from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response as Answers

from server import db
from server.api import Download, ok, query, spec
from server.audit import service
from server.db import row_id
from server.errors import too_many_requests
from server.org.models import Role
from server.ratelimit import hit
from server.redis_client import get_redis
from server.schemas import Strict, problems
from server.security import client_ip, current_user, require_role
from server.timeutil import iso

bp = Blueprint("audit", __name__, url_prefix="/api/v1/audit")


class AuditFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor_id: int | None = Field(default=None, ge=1, description="who acted")
    action: str | None = Field(
        default=None, max_length=48, description="action or prefix, e.g. customer.reveal"
    )
    object_type: str | None = Field(default=None, max_length=32, description="e.g. customer")
    object_id: str | None = Field(default=None, max_length=64, description="what was acted on")
    ip: str | None = Field(default=None, max_length=45, description="from where (address or prefix)")
    since: datetime | None = None
    until: datetime | None = None

    def as_filters(self) -> dict:
        return {
            "actor_id": self.actor_id,
            "action_prefix": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "ip": self.ip,
            "since": self.since,
            "until": self.until,
        }


class AuditQuery(AuditFilters):
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=50, ge=1, le=200)


class AuditEntryPublic(Strict):
    id: int
    at: str
    actor_id: int | None
    actor_name: str | None
    action: str
    object_type: str | None
    object_id: str | None
    ip: str | None
    detail: dict[str, Any] = Field(description="what the action recorded; its keys depend on the action")


class AuditPage(Strict):
    items: list[AuditEntryPublic]
    total: int
    page: int
    page_size: int


@bp.get("")
@require_role(Role.risk_officer)
@spec.validate(query=AuditQuery, resp=Answers(HTTP_200=AuditPage, **problems(403)), tags=["audit"])
def list_audit():
    """Who did what, when and from where: filters by actor, action (prefix), object, address, time."""
    q: AuditQuery = query()
    session = db.session()
    rows, total = service.list_entries(session, **q.as_filters(), page=q.page, page_size=q.page_size)
    names = service.actor_names(session, actor_ids={r.actor_id for r in rows if r.actor_id is not None})
    items = [
        AuditEntryPublic(
            **r.model_dump(exclude={"at"}),
            at=iso(r.at),
            actor_name=names.get(r.actor_id) if r.actor_id else None,
        )
        for r in rows
    ]
    return ok(AuditPage(items=items, total=total, page=q.page, page_size=q.page_size), personal=True)


@bp.get("/export")
@require_role(Role.risk_officer)
@spec.validate(
    query=AuditFilters,
    resp=Download("text/csv", "The filtered log as CSV (UTF-8 with BOM)", **problems(403, 429)),
    tags=["audit"],
)
def export_audit():
    """The filtered log as CSV (UTF-8 with BOM, at most 10,000 rows); rate-limited and itself audited."""
    q: AuditFilters = query()
    user = current_user()
    limit = current_app.config["SETTINGS"].AUDIT_EXPORT_RATE_PER_HOUR
    allowed, retry_after = hit(get_redis(), f"audit-export:{user.id}", limit=limit, window_seconds=3600)
    if not allowed:
        raise too_many_requests("Too many exports; wait a while.", retry_after=retry_after)
    rows = service.export_rows(db.session(), viewer_id=row_id(user), ip=client_ip(), filters=q.as_filters())
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csv.writer(buffer).writerows(rows)
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=audit.csv"
    response.headers["Cache-Control"] = "no-store"
    return response
