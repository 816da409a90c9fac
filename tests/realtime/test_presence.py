"""Who is present in a war room, asked about the few members whose presence changed (real Redis)."""

import redis as redis_lib

from realtime import warroom


def test_online_among_finds_each_changed_member_by_their_sockets(redis_url):
    r = redis_lib.Redis.from_url(redis_url)
    room_id = 987_001
    key = warroom._presence_key(room_id)
    r.delete(key)
    # a big room: 1,500 present sockets, one member on two devices; 7 and 70 are not there
    r.sadd(key, *[f"{1000 + n}|sid{n}" for n in range(1500)], "5|phone", "5|pad", "700|x")
    try:
        assert warroom.online_among(room_id, [5, 7, 1200, 70], r) == {5, 1200}
        r.srem(key, "5|phone")
        assert warroom.online_among(room_id, [5], r) == {5}  # still there on the other device
        r.srem(key, "5|pad")
        assert warroom.online_among(room_id, [5, 700], r) == {700}  # "70" does not match "700|x"
        # past PRESENCE_SCAN_USERS the whole set is read once; the answer is the same
        many = [1000 + n for n in range(0, 3000, 100)] + [5, 7, 700]
        assert len(many) > warroom.PRESENCE_SCAN_USERS
        expected = {u for u in many if 1000 <= u < 2500} | {700}
        assert warroom.online_among(room_id, many, r) == expected
        assert warroom.online_among(room_id, [], r) == set()
    finally:
        r.delete(key)
