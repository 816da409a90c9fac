"""The example second channel: a WeCom-style webhook (HTTP POST of JSON to a configured URL),
switched on per RM, with no personal data, and retried on a 5xx like web push."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import select

from server.config import load_settings
from server.inbox import service as inbox
from server.push.delivery import deliver
from server.push.models import PushAttempt
from tests import factories


@pytest.fixture
def webhook():
    received: list[dict] = []
    answers: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(answers.pop(0) if answers else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webhook/send?key=test", received, answers
    server.shutdown()
    server.server_close()


def test_webhook_channel_posts_json_when_switched_on(app, db_session, login, webhook):
    url, received, answers = webhook
    settings = load_settings(**{**app.config["SETTINGS"].model_dump(), "NOTIFY_WEBHOOK_URL": url})
    rm = factories.make_user(db_session)
    n = inbox.notify(
        db_session, user_id=rm.id, kind="maturity", title="存款到期 · 王小明", body="王小明的定期存款明天到期",
        url="/customers/7", source_key=f"test:{uuid.uuid4()}",
    )  # fmt: skip
    db_session.commit()

    deliver(db_session, notification_ids=[n.id], settings=settings)
    assert received == []  # off by default

    assert (
        login(rm).patch("/api/v1/reminder-settings", json={"channels": {"webhook": True}}).status_code == 200
    )
    answers.append(502)
    report = deliver(db_session, notification_ids=[n.id], settings=settings)
    assert report.retries == {"webhook": [(n.id, None, 10)]}
    deliver(db_session, notification_ids=[n.id], settings=settings, attempt=2, channel="webhook")
    assert len(received) == 2
    message = received[-1]
    assert message["msgtype"] == "text"
    assert message["text"]["content"].endswith("/customers/7")
    assert "王小明" not in json.dumps(message, ensure_ascii=False)
    attempts = db_session.exec(
        select(PushAttempt).where(PushAttempt.notification_id == n.id).order_by(PushAttempt.id)
    ).all()
    assert [(a.channel, a.attempt, a.outcome, a.status_code) for a in attempts] == [
        ("webhook", 1, "retry", 502),
        ("webhook", 2, "sent", 200),
    ]
    # Delivered once: a delivery handed out again (or re-run) does not post it a second time.
    deliver(db_session, notification_ids=[n.id], settings=settings)
    assert len(received) == 2
