"""Background jobs on RQ. Domain events that need work done later are turned into jobs by the sinks
each feature registers in `SINKS`; jobs take ids or JSON values, never ORM objects."""

from __future__ import annotations

from flask import Flask

from server import events


def init_app(app: Flask) -> None:
    from tasks.queues import init_app as init_queues

    init_queues(app)
    from tasks import sinks

    for sink in sinks.SINKS:
        events.add_sink(sink)
