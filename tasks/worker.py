"""The RQ worker class of the Procfile (`rq worker -w tasks.worker.Worker --with-scheduler ...`):
RQ's own worker, plus the self-healing of scheduled work.

RQ restarts a dead scheduler process (it dies when Redis goes away) only in its maintenance step,
which runs every 10 minutes by default and only when the worker wakes from a blocking dequeue of up
to `worker_ttl - 15` seconds. This worker runs maintenance every CHAIN_HEAL_SECONDS, wakes at least
that often, reconnects to Redis within 5 s of its return, and in each maintenance step also books
again every missing job chain (tasks/schedule.heal) — at start too, since the first maintenance
runs before the first job, and at once when Redis comes back from an outage (it may come back
empty), instead of after the next blocking dequeue of up to 30 s."""

from __future__ import annotations

from typing import Any

import rq
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from server.config import load_settings


class Worker(rq.Worker):
    max_connection_wait_time = 5.0  # RQ backs off up to 60 s while Redis is away

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        heal_seconds = max(5, load_settings().CHAIN_HEAL_SECONDS)
        kwargs["maintenance_interval"] = min(kwargs.get("maintenance_interval") or heal_seconds, heal_seconds)
        ttl = min(kwargs.get("worker_ttl") or heal_seconds + 15, heal_seconds + 15)
        kwargs["worker_ttl"] = ttl  # a blocking dequeue waits worker_ttl - 15 s at most
        kwargs.pop("default_worker_ttl", None)
        super().__init__(*args, **kwargs)
        self.redis_was_away = False

    @property
    def should_run_maintenance_tasks(self) -> bool:
        return self.redis_was_away or super().should_run_maintenance_tasks

    def heartbeat(self, *args: Any, **kwargs: Any) -> None:
        # The work loop's first call each round: failing here is how an outage shows.
        try:
            super().heartbeat(*args, **kwargs)
        except RedisConnectionError:
            self.redis_was_away = True
            raise

    def check_for_suspension(self, burst: bool) -> None:
        # RQ's work loop quits on any error outside its dequeue: Redis being away is not a reason.
        try:
            super().check_for_suspension(burst)
        except RedisError as exc:
            self.log.warning("suspension not checked: Redis unavailable (%s)", type(exc).__name__)

    def run_maintenance_tasks(self) -> None:
        if self.scheduler is not None and self.last_cleaned_at is not None:
            process = self.scheduler._process
            if process is None or not process.is_alive():
                self.log.warning("RQ scheduler process is not running: starting it again")
        try:
            super().run_maintenance_tasks()  # restarts a dead scheduler, cleans registries
        except RedisError as exc:  # tried again at the next step; the work loop must not quit
            self.log.warning("maintenance skipped: Redis unavailable (%s)", type(exc).__name__)
            return
        from tasks.schedule import heal

        heal()
        self.redis_was_away = False
