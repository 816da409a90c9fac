"""The pool's rules (`claim_policy` row 1): read once per session, set by an administrator."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from server.audit import service as audit
from server.errors import forbidden
from server.opportunities.models import OPEN_CLAIM_STATUSES, ClaimPolicy, default_recycle_days, default_split
from server.opportunities.schemas import PolicyUpdate
from server.org.models import Role, User
from server.timeutil import iso, utcnow

OPEN = tuple(s.value for s in OPEN_CLAIM_STATUSES)
FULL_SHARE_BP = 10_000
DEFAULT_RECYCLE_DAYS = 7
_POLICY = "zhanye_claim_policy"  # the session.info key the policy is kept under


def get_policy(session: Session) -> ClaimPolicy:
    """The pool's rules (row 1, seeded by the migration); defaults if someone removed it. Read once
    per session: the session keeps it (its identity map alone holds rows only weakly, so a share or
    a claim would read it three times)."""
    policy = session.info.get(_POLICY)
    if policy is None or (policy.id is not None and policy not in session):
        policy = session.info[_POLICY] = session.get(ClaimPolicy, 1) or ClaimPolicy(id=1)
    return policy


def originator_share_for(policy: ClaimPolicy, source: str) -> int:
    """The originator's share (basis points) the policy gives an opportunity of this source."""
    return {**default_split(), **(policy.originator_share_bp or {})}.get(source, 3000)


def policy_public(policy: ClaimPolicy) -> dict[str, Any]:
    return {
        "require_qualification": policy.require_qualification,
        "max_open_claims": policy.max_open_claims,
        "priority_window_minutes": policy.priority_window_minutes,
        "recycle_days": {**default_recycle_days(), **(policy.recycle_days or {})},
        "originator_share_bp": {**default_split(), **(policy.originator_share_bp or {})},
        "updated_at": iso(policy.updated_at),
    }


def update_policy(session: Session, *, user: User, data: PolicyUpdate, ip: str | None) -> ClaimPolicy:
    if user.role != Role.admin:
        raise forbidden("Only an administrator sets the pool's rules.")
    policy = session.get(ClaimPolicy, 1)
    if policy is None:
        policy = ClaimPolicy(id=1)
    before = policy_public(policy)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for name, value in changes.items():
        if name in ("recycle_days", "originator_share_bp"):
            value = {**(getattr(policy, name) or {}), **value}  # merge: unmentioned keys stay
        setattr(policy, name, value)
    policy.updated_by = user.id
    policy.updated_at = utcnow()
    session.add(policy)
    audit.record(
        session,
        actor_id=user.id,
        action="opportunity.policy",
        object_type="claim_policy",
        object_id=1,
        ip=ip,
        detail={"before": before, "changes": changes},
    )
    session.commit()
    return policy


def recycle_days(policy: ClaimPolicy, tier: str) -> int:
    return {**default_recycle_days(), **(policy.recycle_days or {})}.get(tier, DEFAULT_RECYCLE_DAYS)
