"""Assistant jobs: retrain the next-best-product model, nightly (a self-booking chain, like the
knowledge batch) and when an admin asks."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlmodel import select

from server.assistant import recommender
from server.assistant.models import RecommenderModel
from server.events import DomainEvent
from server.timeutil import utcnow
from tasks.context import job_session
from tasks.queues import LOW, job, job_logger, redis_conn

log = job_logger(__name__)

NIGHTLY_HOUR_UTC = 19  # 03:00 in China, after the knowledge batch
NEXT_NIGHTLY_KEY = "assistant:retrain:next"


@job(queue_name=LOW, timeout=1800, result_ttl=86400)
def retrain_recommender(chain: bool = False) -> dict[str, float | int | None]:
    started = time.perf_counter()
    with job_session() as session:
        model = recommender.retrain(session)
        out: dict[str, float | int | None] = {
            "model_id": model.id,
            "customers": model.customers,
            "holdings": model.holdings,
        }
    out["seconds"] = round(time.perf_counter() - started, 2)
    log.info("next-best-product model retrained: %s", out)
    if chain:
        schedule_nightly()
    return out


def schedule_nightly(after: datetime | None = None) -> datetime:
    after = after or utcnow()
    nxt = after.replace(hour=NIGHTLY_HOUR_UTC, minute=0, second=0, microsecond=0)
    if nxt <= after:
        nxt += timedelta(days=1)
    retrain_recommender.enqueue(True, job_id=f"assistant-retrain-{nxt:%Y%m%d}", at=nxt)  # type: ignore[attr-defined]
    redis_conn().set(NEXT_NIGHTLY_KEY, nxt.isoformat(), ex=2 * 86400)
    return nxt


def ensure_nightly_scheduled() -> None:
    """Books the nightly chain when missing, and trains a first model now when there is none (a
    fresh bank answers next-best-product questions within a minute, not the next night)."""
    if redis_conn().get(NEXT_NIGHTLY_KEY) is None:
        schedule_nightly()
    with job_session() as session:
        trained = session.exec(select(RecommenderModel.id).limit(1)).first() is not None
    if not trained:
        retrain_recommender.enqueue(job_id="assistant-retrain-initial")  # type: ignore[attr-defined]


def on_event(event: DomainEvent) -> None:
    """An admin's retrain request runs now (one job per request id)."""
    if event.kind == "assistant.retrain_requested":
        retrain_recommender.enqueue(job_id=f"assistant-retrain-now-{event.payload.get('request_id')}")  # type: ignore[attr-defined]
