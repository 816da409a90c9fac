"""Domain events, dispatched only after the transaction that produced them commits.

Domain code calls `publish(session, kind, payload)`; each process installs its sinks once at start
(`install`, called with the one registry in tasks/sinks.py). This keeps `server` free of imports of either, and nothing is broadcast or enqueued
that was not stored first."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainEvent:
    kind: str  # e.g. "warroom.message", "opportunity.shared"
    payload: dict[str, Any] = field(default_factory=dict)


Sink = Callable[[DomainEvent], None]
_sinks: list[Sink] = []
_PENDING = "zhanye_pending_events"


def install(sinks: list[Sink]) -> None:
    """Makes `sinks` the process's sinks (in order, each once), replacing any installed before."""
    _sinks[:] = list(dict.fromkeys(sinks))


def installed() -> list[Sink]:
    return list(_sinks)


def add_sink(sink: Sink) -> None:
    """One more sink (tests that exercise a single sink)."""
    if sink not in _sinks:
        _sinks.append(sink)


def remove_sink(sink: Sink) -> None:
    if sink in _sinks:
        _sinks.remove(sink)


def publish(session: OrmSession, kind: str, payload: dict[str, Any] | None = None) -> None:
    if not session.in_transaction():
        session.begin()  # so a rollback before any database work still discards the event
    session.info.setdefault(_PENDING, []).append(DomainEvent(kind, payload or {}))


@event.listens_for(OrmSession, "after_commit")
def _dispatch(session: OrmSession) -> None:
    pending: list[DomainEvent] = session.info.pop(_PENDING, [])
    for domain_event in pending:
        for sink in list(_sinks):
            try:
                sink(domain_event)
            except Exception:  # a failing sink must not undo a committed write
                log.exception("event sink failed for %s", domain_event.kind)


@event.listens_for(OrmSession, "after_soft_rollback")
def _discard(session: OrmSession, previous_transaction) -> None:
    # Soft rollback fires on every rollback() call, even with no database work begun yet.
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)
