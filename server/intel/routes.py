from __future__ import annotations

from flask import Blueprint
from spectree import Response

from server import db
from server.api import base64_field, body, idempotent, ok, query, spec
from server.errors import not_found, unprocessable
from server.intel import alerts, jobs_admin, mutes, pipeline, sources
from server.intel.models import CATEGORY_LABELS
from server.intel.schemas import (
    AlertDetail,
    AlertFeed,
    AlertList,
    AlertQuery,
    AlertState,
    AlertStateResult,
    CategoryList,
    FailedJobList,
    ItemsAdded,
    JobRequeued,
    ManualItem,
    MuteCreate,
    MuteList,
    MutePublic,
    PollQueued,
    Removed,
    SourceCreate,
    SourceErrorList,
    SourceList,
    SourcePublic,
    SourceUpdate,
    UnreadByCategory,
    Upload,
    UploadResult,
)
from server.org.models import Role
from server.redis_client import get_redis
from server.schemas import problems
from server.security import client_ip, current_user, require_role

bp = Blueprint("intel", __name__, url_prefix="/api/v1/intel")


@bp.get("/categories")
@spec.validate(resp=Response(HTTP_200=CategoryList), tags=["intel"])
def categories():
    return ok([{"value": k.value, "label": v} for k, v in CATEGORY_LABELS.items()])


# --- the RM's feed ----------------------------------------------------------------------------


@bp.get("/alerts")
@spec.validate(query=AlertQuery, resp=Response(HTTP_200=AlertFeed, **problems(403)), tags=["intel"])
def list_alerts():
    q: AlertQuery = query()
    items = alerts.feed(
        db.session(),
        user=current_user(),
        category=q.category,
        unread=q.unread,
        customer_id=q.customer_id,
        min_score=q.min_score,
        before_id=q.before_id,
        limit=q.limit,
    )
    return ok(
        {"items": items, "next_before_id": items[-1]["id"] if len(items) == q.limit else None}, personal=True
    )


@bp.get("/alerts/counts")
@spec.validate(resp=Response(HTTP_200=UnreadByCategory, **problems(403)), tags=["intel"])
def alert_counts():
    return ok({"unread": alerts.unread_counts(db.session(), user=current_user())}, personal=True)


@bp.get("/alerts/<int:alert_id>")
@spec.validate(resp=Response(HTTP_200=AlertDetail, **problems(403, 404)), tags=["intel"])
def get_alert(alert_id: int):
    return ok(alerts.alert_detail(db.session(), user=current_user(), alert_id=alert_id), personal=True)


@bp.post("/alerts/<int:alert_id>/state")
@idempotent
@spec.validate(
    json=AlertState, resp=Response(HTTP_200=AlertStateResult, **problems(403, 404)), tags=["intel"]
)
def set_alert_state(alert_id: int):
    data: AlertState = body()
    result = alerts.set_alert_state(
        db.session(), user=current_user(), alert_id=alert_id, read=data.read, dismissed=data.dismissed
    )
    return ok(result, personal=True)


@bp.get("/customers/<int:customer_id>/alerts")
@spec.validate(resp=Response(HTTP_200=AlertList, **problems(403, 404)), tags=["intel"])
def customer_alerts(customer_id: int):
    items = alerts.customer_alerts(db.session(), user=current_user(), customer_id=customer_id)
    return ok({"items": items}, personal=True)


@bp.get("/mutes")
@spec.validate(resp=Response(HTTP_200=MuteList, **problems(403)), tags=["intel"])
def list_mutes():
    return ok({"items": mutes.list_mutes(db.session(), user=current_user())}, personal=True)


@bp.post("/mutes")
@idempotent
@spec.validate(json=MuteCreate, resp=Response(HTTP_201=MutePublic, **problems(403, 404)), tags=["intel"])
def add_mute():
    data: MuteCreate = body()
    try:
        data.checked()
    except ValueError:
        raise unprocessable(
            "Mute a known category or a customer id.",
            errors=[{"field": "value", "message": "Unknown category or customer."}],
        ) from None
    return ok(mutes.add_mute(db.session(), user=current_user(), kind=data.kind, value=data.value), 201)


@bp.delete("/mutes/<int:mute_id>")
@spec.validate(resp=Response(HTTP_200=Removed, **problems(403, 404)), tags=["intel"])
def remove_mute(mute_id: int):
    mutes.remove_mute(db.session(), user=current_user(), mute_id=mute_id)
    return ok({"ok": True})


# --- admin: sources and failed jobs -----------------------------------------------------------


@bp.get("/sources")
@require_role(Role.admin)
@spec.validate(resp=Response(HTTP_200=SourceList, **problems(403)), tags=["intel-admin"])
def list_sources():
    return ok({"items": [sources.source_public(s) for s in sources.list_sources(db.session())]})


@bp.post("/sources")
@require_role(Role.admin)
@idempotent
@spec.validate(json=SourceCreate, resp=Response(HTTP_201=SourcePublic, **problems(403)), tags=["intel-admin"])
def create_source():
    source = sources.create_source(db.session(), actor=current_user(), data=body(), ip=client_ip())
    return ok(sources.source_public(source), 201)


@bp.patch("/sources/<int:source_id>")
@require_role(Role.admin)
@idempotent
@spec.validate(
    json=SourceUpdate, resp=Response(HTTP_200=SourcePublic, **problems(403, 404)), tags=["intel-admin"]
)
def update_source(source_id: int):
    source = sources.update_source(
        db.session(), actor=current_user(), source_id=source_id, data=body(), ip=client_ip()
    )
    return ok(sources.source_public(source))


@bp.get("/sources/<int:source_id>/errors")
@require_role(Role.admin)
@spec.validate(resp=Response(HTTP_200=SourceErrorList, **problems(403, 404)), tags=["intel-admin"])
def source_errors(source_id: int):
    sources.get_source(db.session(), source_id)
    return ok(
        SourceErrorList.model_validate({"items": sources.source_errors(db.session(), source_id=source_id)})
    )


@bp.post("/sources/<int:source_id>/poll")
@require_role(Role.admin)
@spec.validate(resp=Response(HTTP_202=PollQueued, **problems(403, 404, 409)), tags=["intel-admin"])
def poll_source(source_id: int):
    sources.request_poll(db.session(), actor=current_user(), source_id=source_id)
    return ok(PollQueued(queued=True), 202)


@bp.post("/sources/<int:source_id>/items")
@require_role(Role.admin)
@idempotent
@spec.validate(
    json=ManualItem, resp=Response(HTTP_201=ItemsAdded, **problems(403, 404, 409)), tags=["intel-admin"]
)
def add_item(source_id: int):
    created = pipeline.add_manual_item(
        db.session(), actor=current_user(), source_id=source_id, data=body(), ip=client_ip()
    )
    return ok(ItemsAdded(new_items=created), 201)


@bp.post("/sources/<int:source_id>/upload")
@require_role(Role.admin)
@idempotent
@spec.validate(
    json=Upload, resp=Response(HTTP_201=UploadResult, **problems(403, 404, 409)), tags=["intel-admin"]
)
def upload(source_id: int):
    data: Upload = body()
    content = base64_field(data.content_base64)
    result = pipeline.upload(
        db.session(),
        actor=current_user(),
        source_id=source_id,
        filename=data.filename,
        content=content,
        ip=client_ip(),
    )
    return ok(UploadResult.model_validate(result), 201)


@bp.get("/jobs/failed")
@require_role(Role.admin)
@spec.validate(resp=Response(HTTP_200=FailedJobList, **problems(403)), tags=["intel-admin"])
def failed_jobs():
    return ok({"items": jobs_admin.failed_jobs(get_redis())})


@bp.post("/jobs/failed/<job_id>/retry")
@require_role(Role.admin)
@spec.validate(resp=Response(HTTP_202=JobRequeued, **problems(403, 404)), tags=["intel-admin"])
def retry_job(job_id: str):
    if not jobs_admin.retry(get_redis(), job_id):
        raise not_found("failed job")
    return ok(JobRequeued(requeued=job_id), 202)
