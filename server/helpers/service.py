"""Helpers for super RMs (助手): a super RM hands a teammate — newcomers first, they learn by doing — a
task on one of the super RM's customers (collect documents, book a meeting, prepare a proposal) with a
due date. The task lends the helper that one customer through `customers.grants` from its creation
until it is done or cancelled; every grant and revocation is audited there. The helper's progress
reaches the super RM live through the inbox (stored, then sent on by socket and push), and a done
task books the helper's benefit credit on the performance ledger.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from server.audit import service as audit
from server.customers import grants
from server.customers.models import Customer
from server.db import row_id, rows_affected
from server.errors import Problem, conflict, forbidden, not_found, stale, unprocessable
from server.helpers.models import LIVE_STATUSES, HelperTask, HelperTaskStatus
from server.helpers.schemas import TaskCreate, TaskUpdate
from server.inbox import service as inbox
from server.opportunities.benefits import credit_helper
from server.org.models import Persona, RmProfile, Role, User
from server.org.teams import team_rm_ids
from server.timeutil import iso, utcnow

MAX_HELPERS = 2  # a super RM takes one or two helpers
PERSONA_ORDER = {
    Persona.newcomer: 0,
    Persona.general: 1,
    Persona.excellent: 2,
    Persona.veteran: 3,
    Persona.super: 4,
}
KIND_ZH = {"collect_documents": "收集资料", "book_meeting": "预约会面", "prepare_proposal": "准备方案"}


def _persona(session: Session, user_id: int) -> str | None:
    profile = session.get(RmProfile, user_id)
    return str(profile.persona) if profile else None


def _require_super(session: Session, user: User) -> None:
    if user.role != Role.rm or _persona(session, row_id(user)) != Persona.super:
        raise forbidden("Helper tasks are handed out by super relationship managers.")


def live_helper_ids(session: Session, *, owner_id: int) -> set[int]:
    return set(
        session.exec(
            select(HelperTask.helper_id).where(
                HelperTask.owner_id == owner_id, col(HelperTask.status).in_(LIVE_STATUSES)
            )
        ).all()
    )


def candidates(session: Session, *, user: User) -> list[dict[str, Any]]:
    """Teammates who may help, newcomers first (then the most recently hired); current helpers marked."""
    _require_super(session, user)
    ids = [i for i in team_rm_ids(session, rm=user) if i != user.id]
    if not ids:
        return []
    current = live_helper_ids(session, owner_id=row_id(user))
    rows = session.exec(
        select(User, RmProfile)
        .join(RmProfile, col(RmProfile.user_id) == User.id)
        .where(col(User.id).in_(ids))
    ).all()
    rows = sorted(rows, key=lambda r: (PERSONA_ORDER.get(r[1].persona, 9), -r[1].hire_date.toordinal()))
    return [
        {
            "id": u.id,
            "display_name": u.display_name,
            "persona": p.persona,
            "hire_date": iso(p.hire_date),
            "current": u.id in current,
        }
        for u, p in rows
    ]


def create_task(
    session: Session, *, user: User, data: TaskCreate, ip: str | None, now: datetime | None = None
) -> HelperTask:
    _require_super(session, user)
    now = now or utcnow()
    customer = session.get(Customer, data.customer_id)
    if customer is None or customer.owner_id != user.id:
        raise not_found("customer")  # only one's own customers are lent
    helper = session.get(User, data.helper_id)
    if (
        helper is None
        or helper.id == user.id
        or helper.role != Role.rm
        or not helper.is_active
        or helper.id not in team_rm_ids(session, rm=user)
    ):
        raise not_found("helper")
    current = live_helper_ids(session, owner_id=row_id(user))
    if helper.id not in current and len(current) >= MAX_HELPERS:
        raise conflict("A super RM takes at most two helpers at a time.", code="helper-limit")
    task = HelperTask(
        owner_id=row_id(user),
        helper_id=row_id(helper),
        customer_id=row_id(customer),
        kind=data.kind,
        title=data.title,
        note=data.note,
        due_on=data.due_on,
        credit_cents=data.credit_cents,
        created_at=now,
        updated_at=now,
    )
    session.add(task)
    session.flush()
    grants.grant(
        session,
        customer_id=row_id(customer),
        owner_id=customer.owner_id,
        user_id=row_id(helper),
        source_type=grants.SOURCE_HELPER_TASK,
        source_id=row_id(task),
        actor_id=row_id(user),
        ip=ip,
    )
    audit.record(
        session,
        actor_id=user.id,
        action="helper.task_created",
        object_type="helper_task",
        object_id=task.id,
        ip=ip,
        detail={
            "helper_id": helper.id,
            "customer_id": customer.id,
            "kind": data.kind,
            "due_on": iso(data.due_on),
        },
    )
    inbox.notify(
        session,
        user_id=row_id(helper),
        kind="helper_task",
        title=f"超级客户经理 {user.display_name} 交给你一个任务",
        body=f"{KIND_ZH.get(data.kind, '')}：{data.title}",
        url=f"/helpers/{task.id}",
        source_key=f"helper_task:{task.id}:created",
        now=now,
    )
    session.commit()
    return task


def get_task_for(session: Session, *, user: User, task_id: int) -> HelperTask:
    """The task if the user owns it or helps on it; anyone else gets 404 (as for a missing task)."""
    task = session.get(HelperTask, task_id)
    if task is None or user.id not in (task.owner_id, task.helper_id):
        raise not_found("helper task")
    return task


def _end(
    session: Session,
    *,
    task: HelperTask,
    status: HelperTaskStatus,
    actor: User,
    ip: str | None,
    now: datetime,
) -> None:
    """Ends the task and the access it lent, with the reason; a done task books the helper's credit."""
    task.status = status
    task.ended_at = now
    grants.revoke(
        session,
        source_type=grants.SOURCE_HELPER_TASK,
        source_ids=[row_id(task)],
        reason=f"task {status.value}",
        actor_id=actor.id,
        ip=ip,
        now=now,
    )
    if status == HelperTaskStatus.done:
        task.progress = 100
        credit_helper(
            session,
            rm_id=task.helper_id,
            amount=task.credit_cents,
            customer_id=task.customer_id,
            task_id=row_id(task),
            booked_on=now.date(),
        )


def update_task(
    session: Session,
    *,
    user: User,
    task_id: int,
    data: TaskUpdate,
    expected_version: int | None,
    ip: str | None,
    now: datetime | None = None,
) -> HelperTask:
    """The helper reports progress and marks the task doing or done; the owner may also mark it done
    or cancel it. A stale version gets 412; an ended task changes no more (409)."""
    now = now or utcnow()
    task = get_task_for(session, user=user, task_id=task_id)
    is_owner = user.id == task.owner_id
    if task.status not in LIVE_STATUSES:
        raise conflict("This task has ended.", code="task-ended")
    if expected_version is None:
        raise Problem(428, "Precondition Required", "Send `version`.", code="version-required")
    if data.status == HelperTaskStatus.cancelled and not is_owner:
        raise forbidden("Only the super RM cancels a task.")
    if data.status == HelperTaskStatus.open:
        raise unprocessable("A task cannot be reopened.")
    if (data.progress is not None or data.progress_note is not None) and is_owner:
        raise forbidden("Progress is the helper's to report.")
    changed = rows_affected(
        session,
        update(HelperTask)
        .where(col(HelperTask.id) == task_id, col(HelperTask.version) == expected_version)
        .values(version=expected_version + 1, updated_at=now),
    )
    if changed != 1:
        session.rollback()
        raise stale(
            "The task changed after you loaded it.",
            current=task_public(session, task=session.get(HelperTask, task_id), viewer=user),
        )
    session.refresh(task)
    before = task.status
    if data.progress is not None:
        task.progress = data.progress
    if data.progress_note is not None:
        task.progress_note = data.progress_note
    if data.status == HelperTaskStatus.doing or (data.progress and task.status == HelperTaskStatus.open):
        task.status = HelperTaskStatus.doing
    if data.status in (HelperTaskStatus.done, HelperTaskStatus.cancelled):
        _end(session, task=task, status=HelperTaskStatus(data.status), actor=user, ip=ip, now=now)
    session.add(task)
    if task.status != before:
        audit.record(
            session,
            actor_id=user.id,
            action=f"helper.task_{task.status}",
            object_type="helper_task",
            object_id=task.id,
            ip=ip,
            detail={"from": before, "to": task.status},
        )
    other = task.helper_id if is_owner else task.owner_id
    inbox.notify(
        session,
        user_id=other,
        kind="helper_task",
        title=f"{user.display_name}：{task.title}"[:128],
        body=f"进度 {task.progress}%" + (f" · {task.progress_note}" if task.progress_note else ""),
        url=f"/helpers/{task.id}",
        source_key=f"helper_task:{task.id}:v{task.version}",
        now=now,
    )
    session.commit()
    return task


def list_tasks(session: Session, *, user: User) -> dict[str, Any]:
    own = session.exec(
        select(HelperTask)
        .where(HelperTask.owner_id == user.id)
        .order_by(col(HelperTask.due_on), col(HelperTask.id))
    ).all()
    helping = session.exec(
        select(HelperTask)
        .where(HelperTask.helper_id == user.id)
        .order_by(col(HelperTask.due_on), col(HelperTask.id))
    ).all()
    names = _names(session, {t.owner_id for t in helping} | {t.helper_id for t in own})
    customers = _customer_names(session, [*own, *helping])
    return {
        "is_super": user.role == Role.rm and _persona(session, row_id(user)) == Persona.super,
        "mine": [task_public(session, task=t, viewer=user, names=names, customers=customers) for t in own],
        "for_me": [
            task_public(session, task=t, viewer=user, names=names, customers=customers) for t in helping
        ],
    }


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.exec(select(User.id, User.display_name).where(col(User.id).in_(ids))).all())  # type: ignore[arg-type]


def _customer_names(session: Session, tasks: list[HelperTask]) -> dict[int, str]:
    ids = {t.customer_id for t in tasks}
    if not ids:
        return {}
    return dict(session.exec(select(Customer.id, Customer.name).where(col(Customer.id).in_(ids))).all())  # type: ignore[arg-type]


def task_public(
    session: Session,
    *,
    task: HelperTask | None,
    viewer: User,
    names: dict[int, str] | None = None,
    customers: dict[int, str] | None = None,
) -> dict[str, Any] | None:
    if task is None:
        return None
    names = names if names is not None else _names(session, {task.owner_id, task.helper_id})
    customers = customers if customers is not None else _customer_names(session, [task])
    # The helper sees the customer only while the task lends it: afterwards it is as if unknown.
    lent = viewer.id == task.owner_id or task.status in LIVE_STATUSES
    return {
        "id": task.id,
        "owner": {"id": task.owner_id, "display_name": names.get(task.owner_id, "")},
        "helper": {"id": task.helper_id, "display_name": names.get(task.helper_id, "")},
        "customer_id": task.customer_id if lent else None,
        "customer_name": customers.get(task.customer_id) if lent else None,
        "kind": task.kind,
        "title": task.title,
        "note": task.note,
        "due_on": iso(task.due_on),
        "status": task.status,
        "progress": task.progress,
        "progress_note": task.progress_note,
        "credit_cents": task.credit_cents,
        "version": task.version,
        "created_at": iso(task.created_at),
        "updated_at": iso(task.updated_at),
        "ended_at": iso(task.ended_at),
    }
