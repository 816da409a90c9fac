"""Personas from data: the monthly classification of every RM, a team lead's override with a reason
(audited), the history of changes, and who may read what (an RM themself, a team lead their team).

The effective persona (the override when there is one, else the latest classification) is written to
`RmProfile.persona`, which the home page, the opportunity pool and the lead's oversight already read;
so they all follow the classification without knowing about it."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from server.audit import service as audit
from server.customers.service import team_member_ids
from server.errors import forbidden, not_found, unprocessable
from server.org.models import Persona, RmProfile, Role, User
from server.overrides import service as model_overrides
from server.personas import features as feature_calc
from server.personas import mentoring
from server.personas.models import PersonaClassification, PersonaOverride
from server.personas.rules import CONFIG_NAME, DEFAULT_THRESHOLDS, LABELS, classify, validate_overrides
from server.timeutil import iso, month_key, utcnow

HISTORY_MONTHS = 24


def thresholds(session: Session) -> tuple[dict[str, float], int]:
    overrides, version = model_overrides.get_overrides(session, CONFIG_NAME)
    return {**DEFAULT_THRESHOLDS, **overrides}, version


def set_thresholds(
    session: Session, *, value: dict[str, Any], version: int, actor: User, ip: str | None
) -> int:
    return model_overrides.set_overrides(
        session,
        name=CONFIG_NAME,
        value=value,
        expected_version=version,
        validate=validate_overrides,
        actor=actor,
        ip=ip,
    )


def thresholds_public(session: Session) -> dict[str, Any]:
    overrides, version = model_overrides.get_overrides(session, CONFIG_NAME)
    return {
        "version": version,
        "defaults": DEFAULT_THRESHOLDS,
        "overrides": overrides,
        "effective": {**DEFAULT_THRESHOLDS, **overrides},
    }


def active_overrides(session: Session, rm_ids: list[int]) -> dict[int, PersonaOverride]:
    rows = session.exec(
        select(PersonaOverride).where(
            col(PersonaOverride.rm_id).in_(rm_ids), col(PersonaOverride.cleared_at).is_(None)
        )
    ).all()
    return {row.rm_id: row for row in rows}


def latest_classifications(session: Session, rm_ids: list[int]) -> dict[int, PersonaClassification]:
    out: dict[int, PersonaClassification] = {}
    for row in session.exec(
        select(PersonaClassification)
        .where(col(PersonaClassification.rm_id).in_(rm_ids))
        .order_by(col(PersonaClassification.month))
    ).all():
        out[row.rm_id] = row  # later months replace earlier ones
    return out


def _apply_effective(session: Session, rm_ids: list[int]) -> None:
    classified = latest_classifications(session, rm_ids)
    overridden = active_overrides(session, rm_ids)
    for profile in session.exec(select(RmProfile).where(col(RmProfile.user_id).in_(rm_ids))).all():
        if profile.user_id in overridden:
            profile.persona = Persona(overridden[profile.user_id].persona)
        elif profile.user_id in classified:
            profile.persona = Persona(classified[profile.user_id].persona)
        session.add(profile)


def classify_all(
    session: Session, *, as_of: date, rm_ids: list[int] | None = None, commit: bool = True
) -> dict[str, int]:
    """Classifies every active RM (or `rm_ids`) for the month of `as_of`; running it again for the
    same month replaces that month's rows (idempotent). Then pairs newcomers with mentors."""
    t, version = thresholds(session)
    figures = feature_calc.compute(session, as_of=as_of, rm_ids=rm_ids)
    month = month_key(as_of)
    ids = list(figures)
    if ids:
        session.execute(
            delete(PersonaClassification).where(
                col(PersonaClassification.rm_id).in_(ids), col(PersonaClassification.month) == month
            )
        )
    counts: dict[str, int] = {p.value: 0 for p in Persona}
    for rm_id, f in figures.items():
        persona, rule, reasons = classify(f, t)
        counts[persona.value] += 1
        session.add(
            PersonaClassification(
                rm_id=rm_id,
                month=month,
                persona=persona.value,
                rule=rule,
                features=f.as_dict(),
                reasons=reasons,
                thresholds_version=version,
            )
        )
    session.flush()
    _apply_effective(session, ids)
    session.flush()
    mentoring.pair_newcomers(session, today=as_of)
    if commit:
        session.commit()
    return counts


# --- reading ---------------------------------------------------------------------------------------


def _readable_rm(session: Session, *, viewer: User, rm_id: int) -> User:
    """An RM reads themself; a team lead their team; anyone else gets not-found (as if absent)."""
    rm = session.get(User, rm_id)
    if rm is None or rm.role != Role.rm:
        raise not_found("relationship manager")
    if viewer.id == rm_id:
        return rm
    if viewer.role == Role.team_lead and rm_id in team_member_ids(session, lead=viewer):
        return rm
    raise not_found("relationship manager")


def _classification_public(row: PersonaClassification | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "month": row.month,
        "persona": row.persona,
        "label": LABELS[Persona(row.persona)],
        "rule": row.rule,
        "reasons": row.reasons,
        "explanation": "；".join(row.reasons[:3]),
        "features": row.features,
        "classified_at": iso(row.classified_at),
    }


def _override_public(
    row: PersonaOverride | None, names: dict[int, str] | None = None
) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "id": row.id,
        "persona": row.persona,
        "reason": row.reason,
        "by": (names or {}).get(row.by_id),
        "created_at": iso(row.created_at),
        "cleared_at": iso(row.cleared_at),
    }


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {
        int(u.id): u.display_name
        for u in session.exec(select(User).where(col(User.id).in_(ids))).all()
        if u.id
    }


def rm_persona(session: Session, *, viewer: User, rm_id: int) -> dict[str, Any]:
    """One RM's effective persona, the latest classification and why, the override, the history of
    changes (months where the classified persona changed, and overrides) and the mentoring pair."""
    rm = _readable_rm(session, viewer=viewer, rm_id=rm_id)
    rows = session.exec(
        select(PersonaClassification)
        .where(PersonaClassification.rm_id == rm_id)
        .order_by(col(PersonaClassification.month).desc())
        .limit(HISTORY_MONTHS)
    ).all()
    overrides = session.exec(
        select(PersonaOverride)
        .where(PersonaOverride.rm_id == rm_id)
        .order_by(col(PersonaOverride.created_at).desc())
    ).all()
    names = _names(session, {o.by_id for o in overrides})
    history: list[dict[str, Any]] = []
    chronological = list(reversed(rows))
    for n, row in enumerate(chronological):
        previous = chronological[n - 1].persona if n else None
        if previous != row.persona:
            history.append(
                {
                    "kind": "classified",
                    "month": row.month,
                    "persona": row.persona,
                    "from": previous,
                    "at": iso(row.classified_at),
                    "reasons": row.reasons[:3],
                }
            )
    for o in overrides:
        history.append(
            {
                "kind": "override",
                "month": month_key(o.created_at.date()),
                "persona": o.persona,
                "reason": o.reason,
                "by": names.get(o.by_id),
                "at": iso(o.created_at),
            }
        )
        if o.cleared_at is not None:
            history.append(
                {
                    "kind": "override_cleared",
                    "month": month_key(o.cleared_at.date()),
                    "persona": o.persona,
                    "at": iso(o.cleared_at),
                }
            )
    history.sort(key=lambda h: (h["month"], h["at"] or ""), reverse=True)
    profile = session.get(RmProfile, rm_id)
    active = next((o for o in overrides if o.cleared_at is None), None)
    return {
        "rm_id": rm_id,
        "display_name": rm.display_name,
        "persona": profile.persona if profile else None,
        "classification": _classification_public(rows[0] if rows else None),
        "override": _override_public(active, names),
        "history": history,
        "mentoring": mentoring.pair_of(session, rm_id=rm_id),
    }


def team_personas(session: Session, *, lead: User) -> list[dict[str, Any]]:
    """The lead's team: each RM's effective persona, the classification and its explanation, any override."""
    if lead.role != Role.team_lead:
        raise forbidden()
    ids = team_member_ids(session, lead=lead)
    if not ids:
        return []
    users = {
        u.id: u for u in session.exec(select(User).where(col(User.id).in_(ids), col(User.is_active))).all()
    }
    profiles = {
        p.user_id: p for p in session.exec(select(RmProfile).where(col(RmProfile.user_id).in_(ids))).all()
    }
    classified = latest_classifications(session, ids)
    overridden = active_overrides(session, ids)
    names = _names(session, {o.by_id for o in overridden.values()})
    out = []
    for uid in sorted(users, key=lambda i: users[i].display_name):
        profile = profiles.get(uid)  # type: ignore[arg-type]
        out.append(
            {
                "rm_id": uid,
                "display_name": users[uid].display_name,
                "persona": profile.persona if profile else None,
                "classification": _classification_public(classified.get(uid)),  # type: ignore[arg-type]
                "override": _override_public(overridden.get(uid), names),  # type: ignore[arg-type]
            }
        )
    return out


# --- overriding ------------------------------------------------------------------------------------


def override(
    session: Session, *, lead: User, rm_id: int, persona: Persona, reason: str, ip: str | None
) -> dict[str, Any]:
    """A team lead sets an RM's persona by hand, with a reason; audited. Replaces an active override."""
    if lead.role != Role.team_lead:
        raise forbidden()
    _readable_rm(session, viewer=lead, rm_id=rm_id)
    reason = reason.strip()
    if not reason:
        raise unprocessable("Give a reason.", errors=[{"field": "reason", "message": "required"}])
    now = utcnow()
    for old in active_overrides(session, [rm_id]).values():
        old.cleared_at, old.cleared_by = now, lead.id
        session.add(old)
    row = PersonaOverride(
        rm_id=rm_id, persona=persona.value, reason=reason, by_id=lead.id or 0, created_at=now
    )
    session.add(row)
    classified = latest_classifications(session, [rm_id]).get(rm_id)
    audit.record(
        session,
        actor_id=lead.id,
        action="persona.override",
        object_type="user",
        object_id=rm_id,
        ip=ip,
        detail={
            "persona": persona.value,
            "classified": classified.persona if classified else None,
            "reason": reason,
        },
    )
    session.flush()
    _apply_effective(session, [rm_id])
    session.flush()
    mentoring.pair_newcomers(session, today=now.date())
    session.commit()
    return rm_persona(session, viewer=lead, rm_id=rm_id)


def clear_override(session: Session, *, lead: User, rm_id: int, ip: str | None) -> dict[str, Any]:
    if lead.role != Role.team_lead:
        raise forbidden()
    _readable_rm(session, viewer=lead, rm_id=rm_id)
    active = active_overrides(session, [rm_id]).get(rm_id)
    if active is None:
        raise not_found("override")
    now = utcnow()
    active.cleared_at, active.cleared_by = now, lead.id
    session.add(active)
    audit.record(
        session,
        actor_id=lead.id,
        action="persona.override_cleared",
        object_type="user",
        object_id=rm_id,
        ip=ip,
        detail={"persona": active.persona},
    )
    session.flush()
    _apply_effective(session, [rm_id])
    session.flush()
    mentoring.pair_newcomers(session, today=now.date())
    session.commit()
    return rm_persona(session, viewer=lead, rm_id=rm_id)


def persona_summary(session: Session, *, rm_id: int) -> dict[str, Any]:
    """What the RM's home shows about their persona: the label, the explanation, who overrode it."""
    classified = latest_classifications(session, [rm_id]).get(rm_id)
    active = active_overrides(session, [rm_id]).get(rm_id)
    profile = session.get(RmProfile, rm_id)
    return {
        "persona": profile.persona if profile else None,
        "classification": _classification_public(classified),
        "override": _override_public(active, _names(session, {active.by_id}) if active else None),
    }
