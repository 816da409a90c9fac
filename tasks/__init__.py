"""Background jobs on RQ. Domain events that need work done later are turned into jobs by the sinks
listed in tasks/sinks.py (installed once per process: `tasks.sinks.install`); jobs take ids or JSON
values, never ORM objects."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Points the job queues at the app's Redis (the web process enqueues jobs)."""
    from tasks.queues import init_app as init_queues

    init_queues(app)
