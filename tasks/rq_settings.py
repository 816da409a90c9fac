"""Settings module for `rq worker -c tasks.rq_settings`, imported once by the worker process before
it forks a work horse per job: the one place the worker installs its event sinks and builds the app
its jobs run in (tasks/context.py), so the horses inherit both."""

from server.config import load_settings
from server.redis_client import is_sentinel_url, sentinel_settings
from tasks import context, queues
from tasks.sinks import install as install_sinks

# RQ reads REDIS_URL, or SENTINEL when REDIS_URL is unset (its from_url knows no Sentinel URLs).
if is_sentinel_url(load_settings().REDIS_URL):
    SENTINEL = sentinel_settings(load_settings().REDIS_URL)
else:
    REDIS_URL = load_settings().REDIS_URL
QUEUES = list(queues.QUEUES)

install_sinks()
context.app()
