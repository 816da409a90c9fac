"""No server-side request reaches an internal address: push endpoints, intel feeds and the webhook
go through one guarded client that checks every resolved address, on every redirect, unless the
host is allow-listed (the test configuration allow-lists 127.0.0.1 for the local stand-ins)."""

from __future__ import annotations

import http.server
import threading

import pytest

from server import create_app, outbound
from server.config import Settings
from server.intel.fetch import FetchError, fetch
from server.push.channels import WebhookChannel
from tests import factories

INTERNAL = [
    "http://127.0.0.1:{port}/x",
    "http://localhost:6379/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.1.2.3/feed.xml",
    "http://192.168.0.1/",
    "http://[::1]:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://0.0.0.0:{port}/",
    "http://224.0.0.1/",
    "http://100.64.0.1/",
]


class _Handler(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):  # noqa: N802
        type(self).hits += 1
        if self.path.startswith("/hop"):
            self.send_response(302)
            self.send_header("Location", self.server.redirect_to)  # type: ignore[attr-defined]
            self.end_headers()
            return
        body = b"<rss><channel><item><title>t</title></item></channel></rss>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET  # noqa: N815

    def log_message(self, *args):
        pass


@pytest.fixture
def target():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.redirect_to = ""  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Handler.hits = 0
    yield server
    server.shutdown()
    server.server_close()


def _strict() -> outbound.Policy:
    return outbound.policy_for(Settings(DEMO_MODE=False, OUTBOUND_ALLOW_HOSTS=[]))


def test_internal_addresses_are_refused_without_an_allow_list(target):
    port = target.server_address[1]
    for template in INTERNAL:
        url = template.format(port=port)
        with pytest.raises(outbound.OutboundRefused):
            outbound.check_url(url, _strict())
        with pytest.raises(FetchError) as caught:
            fetch(url, policy=_strict())
        assert caught.value.code == "refused" and not caught.value.transient, url
    assert _Handler.hits == 0  # nothing reached the listener


def test_allow_list_lets_a_named_internal_host_through(target):
    port = target.server_address[1]
    fetched = fetch(f"http://127.0.0.1:{port}/feed", policy=outbound.Policy.from_entries(["127.0.0.1"]))
    assert fetched.status == 200 and _Handler.hits == 1
    fetched = fetch(f"http://localhost:{port}/feed", policy=outbound.Policy.from_entries(["localhost"]))
    assert fetched.status == 200
    # a network entry allows the addresses in it
    assert (
        fetch(f"http://127.0.0.1:{port}/feed", policy=outbound.Policy.from_entries(["127.0.0.0/8"])).status
        == 200
    )


def test_every_redirect_is_checked(target):
    port = target.server_address[1]
    target.redirect_to = f"http://127.0.0.2:{port}/feed"  # allowed host redirects to another
    policy = outbound.Policy.from_entries(["127.0.0.1"])
    with pytest.raises(FetchError) as caught:
        fetch(f"http://127.0.0.1:{port}/hop", policy=policy)
    assert caught.value.code == "refused"
    assert _Handler.hits == 1  # the first hop only


def test_webhook_to_an_internal_address_is_refused(target, db_session):
    port = target.server_address[1]
    settings = Settings(DEMO_MODE=False, NOTIFY_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook")
    rm = factories.make_user(db_session)
    from server.inbox.models import Notification

    note = Notification(user_id=rm.id, kind="reminder", title="t", body="b", url="/x", source_key="t")
    note.id = 1
    result = WebhookChannel(db_session, settings).send(note, rm)
    assert result.attempts[0].outcome == "failed" and "refused" in (result.attempts[0].detail or "")
    assert _Handler.hits == 0


KEYS = {
    "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
    "auth": "tBHItJI5svbpez7KI4CCXg",
}


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:8080/push/x",
        "https://127.0.0.1/push/x",
        "https://169.254.169.254/latest",
        "https://10.0.0.8/push",
        "https://localhost:6379/",
        "http://fcm.googleapis.com/fcm/send/abc",  # not https
    ],
)
def test_push_subscriptions_refuse_internal_or_plain_endpoints(test_config, db_session, endpoint):
    app = create_app({**test_config, "OUTBOUND_ALLOW_HOSTS": [], "DEMO_MODE": False})
    user = factories.make_user(db_session)
    client = app.test_client()
    token = client.post(
        "/api/v1/auth/login", json={"username": user.username, "password": factories.PASSWORD}
    ).get_json()["csrf_token"]
    response = client.post(
        "/api/v1/push/subscriptions",
        json={"endpoint": endpoint, "keys": KEYS},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["code"] in ("push-endpoint-refused", "validation")


def test_push_service_allow_list(test_config, db_session, monkeypatch):
    settings = Settings(DEMO_MODE=False, PUSH_SERVICE_HOSTS=["fcm.googleapis.com", ".push.apple.com"])
    from server.errors import Problem
    from server.push.service import check_endpoint

    monkeypatch.setattr(
        outbound.socket,
        "getaddrinfo",
        lambda host, port, **kw: [(2, 1, 6, "", ("142.250.0.10", port))],  # a public answer for any name
    )
    check_endpoint("https://fcm.googleapis.com/fcm/send/abc", settings=settings)
    check_endpoint("https://api.push.apple.com/3/device/abc", settings=settings)
    with pytest.raises(Problem):
        check_endpoint("https://push.example.com/abc", settings=settings)
    monkeypatch.setattr(
        outbound.socket,
        "getaddrinfo",
        lambda host, port, **kw: [(2, 1, 6, "", ("142.250.0.10", port)), (2, 1, 6, "", ("10.0.0.1", port))],
    )
    with pytest.raises(Problem):  # one internal answer among public ones refuses the host
        check_endpoint("https://fcm.googleapis.com/fcm/send/abc", settings=settings)


def test_web_push_to_a_stored_internal_endpoint_never_connects(target, db_session, app):
    """A subscription stored before the guard (or whose host now resolves inside) is refused at
    send time by the push client's connector, for literal addresses and names alike."""
    from server.inbox.models import Notification
    from server.push.channels import WebPushChannel
    from server.push.models import PushSubscription
    from server.push.service import endpoint_hash

    port = target.server_address[1]
    rm = factories.make_user(db_session)
    subs = []
    for url in (f"http://127.0.0.1:{port}/push/a", f"http://localhost:{port}/push/b"):
        sub = PushSubscription(
            user_id=rm.id,
            endpoint=url,
            endpoint_hash=endpoint_hash(url),
            p256dh=KEYS["p256dh"],
            auth=KEYS["auth"],
        )
        db_session.add(sub)
        subs.append(sub)
    note = Notification(user_id=rm.id, kind="reminder", title="t", url="/x", source_key=factories.unique("k"))
    db_session.add(note)
    db_session.commit()
    settings = Settings(DEMO_MODE=False, VAPID_PRIVATE_KEY=app.config["SETTINGS"].VAPID_PRIVATE_KEY)
    result = WebPushChannel(db_session, settings).send_batch([note])
    assert len(result.attempts) == 2
    assert all(a.outcome != "sent" for a in result.attempts), result.attempts
    assert _Handler.hits == 0
    for sub in subs:
        db_session.refresh(sub)
        assert sub.last_success_at is None
