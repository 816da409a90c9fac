"""Domain events that start background work. Each feature adds its sink function to SINKS."""

from __future__ import annotations

from collections.abc import Callable

from server.events import DomainEvent
from tasks.intel import sink as intel_events
from tasks.knowledge import on_event as knowledge_events
from tasks.opportunities import on_claimed as opportunity_claimed
from tasks.reminders import on_domain_event as notebook_events

SINKS: list[Callable[[DomainEvent], None]] = [opportunity_claimed, notebook_events, knowledge_events, intel_events]
