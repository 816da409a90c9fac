"""Knowledge-degree jobs: rescore one customer after its profile changed, or every customer (after
an admin changed the weights, and nightly so that stale facts decay in the stored scores)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from server.events import DomainEvent
from server.knowledge import scores as knowledge_scores
from server.timeutil import utcnow
from tasks.context import job_session
from tasks.queues import DEFAULT, LOW, job, job_logger, redis_conn

log = job_logger(__name__)

NIGHTLY_HOUR_UTC = 18  # 02:00 in China: stored scores decay overnight, before RMs look
NEXT_NIGHTLY_KEY = "knowledge:nightly:next"


@job(queue_name=DEFAULT, timeout=60)
def refresh_customer_knowledge(customer_id: int) -> None:
    with job_session() as session:
        knowledge_scores.refresh_customers(session, customer_ids=[customer_id])
        session.commit()


@job(queue_name=LOW, timeout=1800)
def recompute_all_knowledge(chain: bool = False) -> float:
    started = time.perf_counter()
    with job_session() as session:
        knowledge_scores.recompute_all(session)
    elapsed = time.perf_counter() - started
    log.info("knowledge degree recomputed for all customers in %.1fs", elapsed)
    if chain:
        schedule_nightly()
    return elapsed


def schedule_nightly(after: datetime | None = None) -> datetime:
    """Books the next nightly batch (a chain: each run books the next)."""
    after = after or utcnow()
    nxt = after.replace(hour=NIGHTLY_HOUR_UTC, minute=0, second=0, microsecond=0)
    if nxt <= after:
        nxt += timedelta(days=1)
    recompute_all_knowledge.enqueue(True, job_id=f"knowledge-nightly-{nxt:%Y%m%d}", at=nxt)
    redis_conn().set(NEXT_NIGHTLY_KEY, nxt.isoformat(), ex=2 * 86400)
    return nxt


def ensure_nightly_scheduled() -> None:
    if redis_conn().get(NEXT_NIGHTLY_KEY) is None:
        schedule_nightly()


def on_event(event: DomainEvent) -> None:
    """customer.changed -> rescore that customer; knowledge weights changed -> rescore everyone."""
    if event.kind in ("customer.changed", "workbench.config_changed"):
        ensure_nightly_scheduled()
    if event.kind == "customer.changed" and event.payload.get("customer_id"):
        customer_id = int(event.payload["customer_id"])
        refresh_customer_knowledge.enqueue(customer_id, job_id=f"knowledge-refresh-{customer_id}")
    elif event.kind == "workbench.config_changed" and event.payload.get("name") == "knowledge":
        recompute_all_knowledge.enqueue(job_id=f"knowledge-all-{event.payload.get('version')}")
