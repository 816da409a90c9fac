"""The one sink registry. Domain events start work after their commit through the sinks listed
here; each process installs them all with one call at start: the web process in wsgi.py, the RQ
worker in tasks/rq_settings.py (before it forks its work horses). Nothing registers a sink as a side
effect of being imported or inside a job.

A worker installs the real-time sinks too: a notification, a war-room message or a feed event
committed inside a job reaches sockets through the Redis message queue like one committed in the
web process. A feature adds its sink to the list of its layer."""

from __future__ import annotations

from collections.abc import Callable

from realtime.sinks import SINKS as REALTIME_SINKS
from server import events
from server.events import DomainEvent
from server.opportunities.race import remember_claim_state
from tasks.assistant import on_event as assistant_events
from tasks.conduct import on_event as conduct_events
from tasks.intel import sink as intel_events
from tasks.knowledge import on_event as knowledge_events
from tasks.opportunities import on_claimed as opportunity_claimed
from tasks.personas import on_event as persona_events
from tasks.prospects import on_event as prospect_events
from tasks.reminders import on_domain_event as notebook_events

Sink = Callable[[DomainEvent], None]

# Domain sinks that keep the domain's own shared state (Redis) in step with commits.
SERVER_SINKS: list[Sink] = [remember_claim_state]
# Sinks that turn events into background jobs.
SINKS: list[Sink] = [
    opportunity_claimed,
    notebook_events,
    knowledge_events,
    intel_events,
    conduct_events,
    prospect_events,
    assistant_events,
    persona_events,
]


def all_sinks() -> list[Sink]:
    return [*SERVER_SINKS, *REALTIME_SINKS, *SINKS]


def install() -> None:
    """Installs every sink of the process (replacing whatever was installed): the one call at start."""
    events.install(all_sinks())
