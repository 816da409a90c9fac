"""Domain events that start background work. Each feature adds its sink function to SINKS."""

from __future__ import annotations

from collections.abc import Callable

from server.events import DomainEvent

SINKS: list[Callable[[DomainEvent], None]] = []
