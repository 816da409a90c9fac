"""War room API: thin routes over the war-room domain modules (live changes also come over /warroom)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app
from spectree import Response as Responses

from server import db
from server.api import Download, JsonOrFile, base64_field, body, expected_version, idempotent, ok, query, spec
from server.db import row_id
from server.redis_client import get_redis
from server.schemas import problems
from server.security import client_ip, current_user
from server.warrooms import (
    access,
    board,
    campaigns,
    chainview,
    chat,
    consent,
    eventlog,
    experts,
    funnel,
    membership,
    outcome,
    reads,
    rooms,
    stage,
)
from server.warrooms.call_schemas import BookableExpertList, ExpertBooked, StageShow
from server.warrooms.campaign_schemas import (
    AssignIn,
    AssignResult,
    BulkResult,
    BulkTargetsIn,
    CampaignBoard,
    CampaignOutcome,
    ChainQuery,
    ChainView,
    MoveIn,
    MoveResult,
)
from server.warrooms.schemas import (
    BoardList,
    ColleagueList,
    Declined,
    EventPage,
    EventsQuery,
    Invited,
    InviteIn,
    MemberRemoved,
    MessageIn,
    OpportunityLink,
    OpportunityLinked,
    PeopleQuery,
    QuickCreate,
    QuickRoom,
    ReadMark,
    ReadMarked,
    RoomCreate,
    RoomDetail,
    RoomEvent,
    RoomLeft,
    RoomList,
    RoomListQuery,
    RoomUpdate,
    TargetDeclined,
    TargetIn,
    TargetPublic,
    TargetRemove,
    TargetRemoved,
    TargetUpdate,
    TaskIn,
    TaskPublic,
    TaskUpdate,
)

bp = Blueprint("warrooms", __name__, url_prefix="/api/v1/war-rooms")
TAGS = ["war-rooms"]
# A room answers 403 `not-a-member` to others, 404 when there is none, 409 once closed.
ROOM_PROBLEMS = problems(403, 404, 409)


def _detail(room_id: int, status: int = 200):
    return ok(rooms.room_detail(db.session(), room_id=room_id, user=current_user()), status, personal=True)


@bp.get("")
@spec.validate(query=RoomListQuery, resp=Responses(HTTP_200=RoomList, **problems(403)), tags=TAGS)
def list_rooms():
    """My rooms (scope=mine, with unread counts), my invitations, or my team's (team leads)."""
    q: RoomListQuery = query()
    return ok({"items": rooms.list_rooms(db.session(), user=current_user(), scope=q.scope)}, personal=True)


@bp.get("/board")
@spec.validate(resp=Responses(HTTP_200=BoardList, **problems(403)), tags=TAGS)
def live_board():
    """The team lead's live board: every room of the team with its progress."""
    return ok({"items": rooms.live_board(db.session(), user=current_user())}, personal=True)


@bp.get("/people")
@spec.validate(query=PeopleQuery, resp=Responses(HTTP_200=ColleagueList), tags=TAGS)
def people():
    """Colleagues to invite, by name."""
    q: PeopleQuery = query()
    return ok({"items": rooms.find_people(db.session(), q=q.q)}, personal=True)


@bp.post("")
@idempotent
@spec.validate(json=RoomCreate, resp=Responses(HTTP_201=RoomDetail, **problems(403, 404)), tags=TAGS)
def create_room():
    room = rooms.create_room(db.session(), user=current_user(), data=body(), ip=client_ip())
    return _detail(row_id(room), 201)


@bp.post("/quick")
@idempotent
@spec.validate(json=QuickCreate, resp=Responses(HTTP_201=QuickRoom, **problems(403, 404)), tags=TAGS)
def quick_create():
    """快速搭建: a room from a customer, an opportunity or an intel alert, with suggested members."""
    room, suggested = rooms.quick_create(db.session(), user=current_user(), data=body(), ip=client_ip())
    detail = rooms.room_detail(db.session(), room_id=row_id(room), user=current_user())
    return ok({**detail, "suggested_members": suggested}, 201, personal=True)


@bp.get("/<int:room_id>")
@spec.validate(resp=Responses(HTTP_200=RoomDetail, **ROOM_PROBLEMS), tags=TAGS)
def get_room(room_id: int):
    return _detail(room_id)


@bp.patch("/<int:room_id>")
@idempotent
@spec.validate(
    json=RoomUpdate, resp=Responses(HTTP_200=RoomDetail, **ROOM_PROBLEMS, **problems(412)), tags=TAGS
)
def update_room(room_id: int):
    data: RoomUpdate = body()
    rooms.update_room(
        db.session(),
        room_id=room_id,
        user=current_user(),
        data=data,
        expected_version=expected_version(data.version),
        ip=client_ip(),
    )
    return _detail(room_id)


@bp.post("/<int:room_id>/invitations")
@idempotent
@spec.validate(json=InviteIn, resp=Responses(HTTP_201=Invited, **ROOM_PROBLEMS), tags=TAGS)
def invite(room_id: int):
    invited = membership.invite(
        db.session(), room_id=room_id, user=current_user(), data=body(), ip=client_ip()
    )
    return ok({"invited": invited}, 201)


@bp.post("/<int:room_id>/invitations/accept")
@spec.validate(resp=Responses(HTTP_200=RoomDetail, **ROOM_PROBLEMS), tags=TAGS)
def accept(room_id: int):
    membership.respond(db.session(), room_id=room_id, user=current_user(), accept=True, ip=client_ip())
    return _detail(room_id)


@bp.post("/<int:room_id>/invitations/decline")
@spec.validate(resp=Responses(HTTP_200=Declined, **ROOM_PROBLEMS), tags=TAGS)
def decline(room_id: int):
    membership.respond(db.session(), room_id=room_id, user=current_user(), accept=False, ip=client_ip())
    return ok({"declined": True})


@bp.delete("/<int:room_id>/members/<int:user_id>")
@spec.validate(resp=Responses(HTTP_200=MemberRemoved, **ROOM_PROBLEMS), tags=TAGS)
def remove_member(room_id: int, user_id: int):
    membership.remove_member(
        db.session(), room_id=room_id, user=current_user(), member_user_id=user_id, ip=client_ip()
    )
    return ok({"removed": user_id})


@bp.post("/<int:room_id>/leave")
@spec.validate(resp=Responses(HTTP_200=RoomLeft, **ROOM_PROBLEMS), tags=TAGS)
def leave(room_id: int):
    membership.leave(db.session(), room_id=room_id, user=current_user(), ip=client_ip())
    return ok({"left": room_id})


@bp.post("/<int:room_id>/targets")
@idempotent
@spec.validate(
    json=TargetIn, resp=Responses(HTTP_201=TargetPublic, **ROOM_PROBLEMS, **problems(429)), tags=TAGS
)
def add_target(room_id: int):
    target = board.add_target(db.session(), room_id=room_id, user=current_user(), data=body(), ip=client_ip())
    return ok(target, 201, personal=True)


@bp.patch("/<int:room_id>/targets/<int:target_id>")
@idempotent
@spec.validate(
    json=TargetUpdate, resp=Responses(HTTP_200=TargetPublic, **ROOM_PROBLEMS, **problems(412)), tags=TAGS
)
def update_target(room_id: int, target_id: int):
    data: TargetUpdate = body()
    data.target_id = target_id
    data.version = expected_version(data.version)
    return ok(
        board.update_target(db.session(), room_id=room_id, user=current_user(), data=data), personal=True
    )


@bp.delete("/<int:room_id>/targets/<int:target_id>")
@idempotent
@spec.validate(resp=Responses(HTTP_200=TargetRemoved, **ROOM_PROBLEMS, **problems(412)), tags=TAGS)
def remove_target(room_id: int, target_id: int):
    """The owner or the member who added it takes a target off the list (`If-Match` for its version)."""
    data = TargetRemove(target_id=target_id, version=expected_version())
    removed = board.remove_target(
        db.session(), room_id=room_id, user=current_user(), data=data, ip=client_ip()
    )
    return ok({"removed": removed["id"]})


@bp.post("/<int:room_id>/targets/<int:target_id>/approve")
@idempotent
@spec.validate(resp=Responses(HTTP_200=TargetPublic, **ROOM_PROBLEMS), tags=TAGS)
def approve_target(room_id: int, target_id: int):
    """The customer's RM lets a member's request into the room (grants to the members, audited)."""
    target = consent.approve_target(
        db.session(), room_id=room_id, user=current_user(), target_id=target_id, ip=client_ip()
    )
    return ok(target, personal=True)


@bp.post("/<int:room_id>/targets/<int:target_id>/decline")
@idempotent
@spec.validate(resp=Responses(HTTP_200=TargetDeclined, **ROOM_PROBLEMS), tags=TAGS)
def decline_target(room_id: int, target_id: int):
    """The customer's RM turns a member's request down (the pending target is removed)."""
    target = consent.decline_target(
        db.session(), room_id=room_id, user=current_user(), target_id=target_id, ip=client_ip()
    )
    return ok({"declined": target["id"]})


@bp.post("/<int:room_id>/opportunities")
@spec.validate(json=OpportunityLink, resp=Responses(HTTP_201=OpportunityLinked, **ROOM_PROBLEMS), tags=TAGS)
def link_opportunity(room_id: int):
    data: OpportunityLink = body()
    board.link_opportunity(
        db.session(), room_id=room_id, user=current_user(), opportunity_id=data.opportunity_id
    )
    return ok({"opportunity_id": data.opportunity_id}, 201)


@bp.post("/<int:room_id>/tasks")
@idempotent
@spec.validate(json=TaskIn, resp=Responses(HTTP_201=TaskPublic, **ROOM_PROBLEMS), tags=TAGS)
def create_task(room_id: int):
    return ok(board.create_task(db.session(), room_id=room_id, user=current_user(), data=body()), 201)


@bp.patch("/<int:room_id>/tasks/<int:task_id>")
@idempotent
@spec.validate(
    json=TaskUpdate, resp=Responses(HTTP_200=TaskPublic, **ROOM_PROBLEMS, **problems(412)), tags=TAGS
)
def update_task(room_id: int, task_id: int):
    data: TaskUpdate = body()
    data.task_id = task_id
    data.version = expected_version(data.version)
    return ok(board.update_task(db.session(), room_id=room_id, user=current_user(), data=data))


@bp.post("/<int:room_id>/messages")
@idempotent
@spec.validate(
    json=MessageIn,
    resp=Responses(HTTP_200=RoomEvent, HTTP_201=RoomEvent, **ROOM_PROBLEMS, **problems(429)),
    tags=TAGS,
)
def post_message(room_id: int):
    """The HTTP path for the offline outbox; live clients send `message` on the socket."""
    event, created = chat.post_message(db.session(), room_id=room_id, user=current_user(), data=body())
    return ok(event, 201 if created else 200, personal=True)


@bp.get("/<int:room_id>/events")
@spec.validate(query=EventsQuery, resp=Responses(HTTP_200=EventPage, **ROOM_PROBLEMS), tags=TAGS)
def list_events(room_id: int):
    """Chat and timeline in room order: events with seq > after_seq."""
    q: EventsQuery = query()
    access.require_member(db.session(), room_id=room_id, user=current_user())
    items = eventlog.events_after(db.session(), room_id=room_id, after_seq=q.after_seq, limit=q.limit)
    return ok({"items": items, "last_seq": eventlog.last_seq(db.session(), room_id)}, personal=True)


@bp.post("/<int:room_id>/read")
@spec.validate(json=ReadMark, resp=Responses(HTTP_200=ReadMarked, **ROOM_PROBLEMS), tags=TAGS)
def mark_read(room_id: int):
    data: ReadMark = body()
    return ok(
        {"last_read_seq": reads.mark_read(db.session(), room_id=room_id, user=current_user(), seq=data.seq)}
    )


@bp.post("/<int:room_id>/targets/bulk")
@idempotent
@spec.validate(
    json=BulkTargetsIn,
    resp=Responses(HTTP_200=BulkResult, HTTP_201=BulkResult, **ROOM_PROBLEMS, **problems(429)),
    tags=TAGS,
)
def add_targets_bulk(room_id: int):
    """Adds every target a source brings: a customer search filter, a core enterprise's chain, a
    park, a company's employees or a CSV/XLSX list; each target one event with its seq. The body's
    `client_key` makes a retry add nothing; `dry_run` only counts."""
    result = campaigns.add_targets(
        db.session(), room_id=room_id, user=current_user(), data=body(), ip=client_ip()
    )
    status = 200 if result.get("dry_run") or result.get("replayed") else 201
    return ok(result, status, personal=True)


@bp.get("/<int:room_id>/campaign")
@spec.validate(resp=Responses(HTTP_200=CampaignBoard, **problems(403, 404)), tags=TAGS)
def campaign_board(room_id: int):
    """作战看板: targets by stage (counts, amounts), each member's progress, the goal against the won."""
    board_now = funnel.board(db.session(), room_id=room_id, user=current_user())
    return ok(CampaignBoard.model_validate(board_now), personal=True)


@bp.post("/<int:room_id>/targets/move")
@idempotent
@spec.validate(json=MoveIn, resp=Responses(HTTP_200=MoveResult, **ROOM_PROBLEMS), tags=TAGS)
def move_targets(room_id: int):
    """Moves many targets to one stage: one event per target (`client_key` makes a retry a no-op)."""
    moved = funnel.move_targets(db.session(), room_id=room_id, user=current_user(), data=body())
    return ok(MoveResult.model_validate(moved))


@bp.post("/<int:room_id>/targets/assign")
@idempotent
@spec.validate(json=AssignIn, resp=Responses(HTTP_200=AssignResult, **ROOM_PROBLEMS), tags=TAGS)
def assign_targets(room_id: int):
    """The owner hands targets to members, balanced by load or to whoever knows the customer."""
    assigned = funnel.assign_targets(db.session(), room_id=room_id, user=current_user(), data=body())
    return ok(AssignResult.model_validate(assigned))


@bp.get("/<int:room_id>/chain")
@spec.validate(query=ChainQuery, resp=Responses(HTTP_200=ChainView, **problems(403, 404)), tags=TAGS)
def chain(room_id: int):
    """The chain view: the core enterprise and its upstream/downstream firms with stage and RM."""
    q: ChainQuery = query()
    view = chainview.chain_view(db.session(), room_id=room_id, user=current_user(), query=q)
    return ok(ChainView.model_validate(view), personal=True)


@bp.get("/<int:room_id>/outcome")
@spec.validate(resp=Responses(HTTP_200=CampaignOutcome, **ROOM_PROBLEMS), tags=TAGS)
def campaign_outcome(room_id: int):
    """作战复盘 of a won or closed room: reached, converted, amount, days per stage, contributors."""
    report = outcome.outcome(db.session(), room_id=room_id, user=current_user())
    return ok(CampaignOutcome.model_validate(report), personal=True)


@bp.get("/<int:room_id>/outcome.csv")
@spec.validate(
    resp=Download("text/csv", "The outcome as CSV (UTF-8 with BOM)", **ROOM_PROBLEMS, **problems(429)),
    tags=TAGS,
)
def campaign_outcome_csv(room_id: int):
    """The outcome as CSV for the branch (audited, rate-limited)."""
    text, filename = outcome.export_csv(db.session(), room_id=room_id, user=current_user(), ip=client_ip())
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:room_id>/experts")
@spec.validate(resp=Responses(HTTP_200=BookableExpertList, **ROOM_PROBLEMS), tags=TAGS)
def list_experts(room_id: int):
    """预约专家: the experts among my collaboration resources, each with free half-hour slots."""
    found = experts.list_experts(db.session(), room_id=room_id, user=current_user())
    return ok(BookableExpertList.model_validate({"items": found}), personal=True)


@bp.post("/<int:room_id>/experts/bookings")
@idempotent
@spec.validate(json=experts.ExpertBooking, resp=Responses(HTTP_201=ExpertBooked, **ROOM_PROBLEMS), tags=TAGS)
def book_expert(room_id: int):
    """Book an expert's slot (409 `slot-taken` when gone): invites them as remote_expert and
    reminds both before the call."""
    booked = experts.book_expert(
        db.session(), room_id=room_id, user=current_user(), data=body(), ip=client_ip()
    )
    return ok(ExpertBooked.model_validate(booked), 201, personal=True)


@bp.get("/<int:room_id>/stage/download")
@spec.validate(resp=JsonOrFile(StageShow, "application/pdf", **problems(403, 404)), tags=TAGS)
def download_stage(room_id: int):
    """What is on the shared stage, as a file, only when its sharer allowed it (else 403); audited."""
    shown = stage.download(db.session(), get_redis(), room_id=room_id, user=current_user(), ip=client_ip())
    if shown["kind"] == "pdf":
        content = stage.pdf_bytes(
            db.session(), get_redis(), room_id=room_id, share_id=shown["share_id"], user=current_user()
        )
        response = Response(content, mimetype="application/pdf")
        response.headers["Cache-Control"] = "no-store"
        filename = "proposal.pdf"
    else:
        response = ok(StageShow.model_validate(shown), personal=True)
        filename = "stage.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.post("/<int:room_id>/stage/pdf")
@spec.validate(
    json=stage.PdfShareIn, resp=Responses(HTTP_201=StageShow, **ROOM_PROBLEMS, **problems(413)), tags=TAGS
)
def share_pdf(room_id: int):
    """A PDF proposal on the shared stage ({filename, content_base64, pages, downloadable}); audited;
    413 `too-large` past WARROOM_STAGE_PDF_MAX_BYTES, 422 when it is not a PDF."""
    data: stage.PdfShareIn = body()
    content = base64_field(data.content_base64)
    shown = stage.share_pdf(
        db.session(),
        get_redis(),
        room_id=room_id,
        data=data,
        content=content,
        max_bytes=current_app.config["SETTINGS"].WARROOM_STAGE_PDF_MAX_BYTES,
        user=current_user(),
        ip=client_ip(),
    )
    return ok(StageShow.model_validate(shown), 201, personal=True)


@bp.get("/<int:room_id>/stage/pdf/<share_id>")
@spec.validate(resp=Download("application/pdf", "The PDF on the stage", **problems(403, 404)), tags=TAGS)
def stage_pdf(room_id: int, share_id: str):
    """The PDF on the stage now, for the room's members, to draw in the app: inline, never cached."""
    content = stage.pdf_bytes(
        db.session(), get_redis(), room_id=room_id, share_id=share_id, user=current_user()
    )
    response = Response(content, mimetype="application/pdf")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = "inline"
    return response
