"""Conduct rule settings: the admin's threshold overrides over the rules' defaults in code, and the
overview of every rule beside its precision from closed cases."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from server.audit import service as audit
from server.conduct.cases import rule_precision
from server.conduct.models import ConductThreshold
from server.conduct.rules.registry import RULES, RULES_BY_NAME, SCORE_DEFAULTS
from server.errors import not_found, stale, unprocessable
from server.org.models import User
from server.timeutil import utcnow


def load_settings(session: Session) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for row in session.exec(select(ConductThreshold)).all():
        out[row.rule] = {**row.params, **({} if row.enabled else {"enabled": False})}
    return out


def effective_settings(settings: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    if name == "_score":
        return {**SCORE_DEFAULTS, **settings.get("_score", {})}
    return {
        **RULES_BY_NAME[name].defaults,
        **{k: v for k, v in settings.get(name, {}).items() if k != "enabled"},
    }


def longest_window_days(settings: dict[str, dict[str, Any]]) -> int:
    return max(int(effective_settings(settings, r.name).get("window_days", 0)) for r in RULES) or 180


def internal_networks(settings: dict[str, dict[str, Any]]) -> list[str]:
    return list(effective_settings(settings, "reveal_burst")["internal_networks"])


def rules_overview(session: Session) -> list[dict[str, Any]]:
    settings = load_settings(session)
    rows = {row.rule: row for row in session.exec(select(ConductThreshold)).all()}
    precision = rule_precision(session)
    out = []
    for rule in RULES:
        row = rows.get(rule.name)
        out.append(
            {
                "rule": rule.name,
                "title": rule.title,
                "audit_log": rule.audit_log,
                "enabled": row.enabled if row else True,
                "version": row.version if row else 0,
                "defaults": rule.defaults,
                "params": effective_settings(settings, rule.name),
                "precision": precision.get(rule.name),
            }
        )
    return out


def update_rule(
    session: Session,
    *,
    user: User,
    rule: str,
    params: dict[str, Any],
    enabled: bool | None,
    version: int | None,
    ip: str | None,
) -> dict[str, Any]:
    if rule != "_score" and rule not in RULES_BY_NAME:
        raise not_found("rule")
    defaults = SCORE_DEFAULTS if rule == "_score" else RULES_BY_NAME[rule].defaults
    errors = []
    for key, value in params.items():
        if key not in defaults:
            errors.append({"field": f"params.{key}", "message": "unknown parameter", "type": "unknown"})
        elif (
            isinstance(defaults[key], list) != isinstance(value, list)
            or (not isinstance(value, list) and not isinstance(value, int | float))
            or isinstance(value, bool)
            or (isinstance(value, int | float) and value < 0)
        ):
            errors.append(
                {
                    "field": f"params.{key}",
                    "message": "must be a non-negative number (or a list like the default)",
                    "type": "value",
                }
            )
    if errors:
        raise unprocessable("Some parameters are invalid.", errors=errors)
    row = session.get(ConductThreshold, rule)
    if row is not None and version is not None and version != row.version:
        raise stale("The rule changed since you loaded it.", code="stale", current=row.version)
    if row is None:
        row = ConductThreshold(rule=rule, params={}, updated_by=user.id)
    else:
        row.version += 1
    row.params = {**row.params, **params}
    if enabled is not None:
        row.enabled = enabled
    row.updated_by = user.id
    row.updated_at = utcnow()
    session.add(row)
    audit.record(
        session,
        actor_id=user.id,
        action="conduct.rule.update",
        object_type="conduct_rule",
        object_id=rule,
        ip=ip,
        detail={"params": params, "enabled": enabled},
    )
    session.commit()
    return {"rule": rule, "version": row.version, "enabled": row.enabled, "params": row.params}
