"""REDIS_URL in its two forms (server/redis_client.py): the database number keeps two deployments'
Socket.IO channels apart in both, RQ's worker gets the Sentinel form as its SENTINEL dict, and a
Sentinel URL without a service name is refused at start rather than at the first command."""

from __future__ import annotations

import pytest
import redis

from realtime.emit import queue_channel
from server.redis_client import client_from_url, database_number, is_sentinel_url, sentinel_settings

SENTINEL_URL = "redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2:26380/3/zhanye"


def test_both_forms_name_their_database_and_channel():
    assert database_number("redis://127.0.0.1:6379/3") == 3
    assert database_number("redis://127.0.0.1:6379") == 0
    assert database_number(SENTINEL_URL) == 3
    assert queue_channel(SENTINEL_URL) == queue_channel("redis://10.0.0.9:6379/3") == "flask-socketio-db3"
    assert queue_channel(SENTINEL_URL) != queue_channel("redis://10.0.0.9:6379/4")


def test_the_worker_reads_the_sentinel_form_as_its_settings_dict():
    assert is_sentinel_url(SENTINEL_URL) and not is_sentinel_url("redis://127.0.0.1:6379/0")
    settings = sentinel_settings(SENTINEL_URL)
    assert settings["INSTANCES"] == [("10.0.0.1", 26379), ("10.0.0.2", 26380)]
    assert settings["MASTER_NAME"] == "zhanye" and settings["DB"] == 3 and settings["PASSWORD"] == "s3cret"


def test_a_client_follows_the_form_of_its_url():
    plain = client_from_url("redis://127.0.0.1:6379/5", max_connections=7, timeout=1)
    assert isinstance(plain.connection_pool, redis.BlockingConnectionPool)
    assert plain.connection_pool.max_connections == 7
    followed = client_from_url(SENTINEL_URL, max_connections=7, timeout=1, socket_timeout=1)
    assert followed.connection_pool.service_name == "zhanye"
    assert followed.connection_pool.connection_kwargs["db"] == 3
    with pytest.raises(ValueError, match="service"):
        client_from_url("redis+sentinel://10.0.0.1:26379/0")
