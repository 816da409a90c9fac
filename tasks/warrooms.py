"""War room jobs: the bank's systems post into a room (an intel alert, a reminder). The message is
stored and sequenced like any other; the realtime sink emits it after commit through the Redis
message queue, so it reaches sockets on every web process."""

from __future__ import annotations

from realtime.warroom import broadcast_sink
from server import events
from server.warrooms import chat
from tasks.context import job_session
from tasks.queues import HIGH, job, job_logger

log = job_logger(__name__)


@job(queue_name=HIGH, timeout=30, result_ttl=3600)
def post_system_message(room_id: int, text: str, client_id: str | None = None) -> int:
    """Posts `text` into the room; returns its seq. Idempotent: a client_id (e.g. the alert's key)
    makes a retried job return the first message instead of posting twice."""
    events.add_sink(broadcast_sink)  # a worker has no web app that registered it
    with job_session() as session:
        event, created = chat.post_system_message(session, room_id=room_id, text=text, client_id=client_id)
    log.info("room %s: system message seq %s (%s)", room_id, event["seq"], "new" if created else "replayed")
    return event["seq"]
