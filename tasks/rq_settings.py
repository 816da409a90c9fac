"""Settings module for `rq worker -c tasks.rq_settings`."""

from server.config import load_settings
from tasks.queues import QUEUES

REDIS_URL = load_settings().REDIS_URL
QUEUES = list(QUEUES)
