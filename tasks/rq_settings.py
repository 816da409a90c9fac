"""Settings module for `rq worker -c tasks.rq_settings`, imported once by the worker process before
it forks a work horse per job: the one place the worker installs its event sinks."""

from server.config import load_settings
from tasks import queues
from tasks.sinks import install as install_sinks

REDIS_URL = load_settings().REDIS_URL
QUEUES = list(queues.QUEUES)

install_sinks()
