"""Join time of a war-room call with 3 members: the third member taps the room in the room list, taps
加入通话 as soon as it shows, and the clock stops at the first inbound audio packet (getStats()
`packetsReceived` > 0 on any peer connection). Also printed: from the 加入通话 tap alone.

Real parts only: the eventlet web process (`wsgi.py`) on a fresh SQLite database and Redis, the
built PWA, Debian's Chromium with fake microphones (three contexts in one browser, as three phones).
The baseline printed beside it is the signalling alone (join tap -> the server's `call_join`
acknowledgement shows the call bar), the floor that no media set-up can beat.

    .venv/bin/python bench/warroom_call_join.py [--rounds 5]
Needs the PWA built (`make pwa-build`) and Redis (BENCH_REDIS_URL, default db 14)."""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
# Records peer connections and the time of the first inbound audio packet (performance.now()).
WATCH_FIRST_PACKET = """
(() => {
  const Original = window.RTCPeerConnection
  window.__pcs = []
  window.RTCPeerConnection = function (...args) {
    const pc = new Original(...args)
    window.__pcs.push(pc)
    return pc
  }
  window.RTCPeerConnection.prototype = Original.prototype
  window.__first = null
  const poll = async () => {
    for (const pc of window.__pcs) {
      if (pc.connectionState === 'closed') continue
      const stats = await pc.getStats()
      stats.forEach((s) => {
        if (!window.__first && s.type === 'inbound-rtp' && s.kind === 'audio' && s.packetsReceived > 0)
          window.__first = performance.now()
      })
    }
    setTimeout(poll, 10)
  }
  poll()
})()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(database_url: str) -> tuple[list, int]:
    from bench._common import migrate
    from server import db
    from server.org.models import User
    from server.warrooms import membership, rooms
    from server.warrooms.schemas import InviteIn, RoomCreate
    from tests import factories

    migrate(database_url)
    engine = db.get_engine(database_url)
    with db.session_scope(engine) as session:
        branch = factories.make_branch(session)
        people = [
            factories.make_user(session, branch=branch, display_name=n) for n in ("王敏", "李强", "赵审批")
        ]
        owner = people[0]
        room = rooms.create_room(
            session, user=owner, ip=None, data=RoomCreate(title="远程连线测速", mode="remote")
        )
        membership.invite(
            session, room_id=room.id, user=owner, data=InviteIn(user_ids=[u.id for u in people[1:]]), ip=None
        )
        for u in people[1:]:
            membership.respond(session, room_id=room.id, user=session.get(User, u.id), accept=True, ip=None)
        names = [u.username for u in people]
        room_id = room.id
    db.dispose_all()
    return names, room_id


def sign_in(page, username: str) -> None:
    from tests.factories import PASSWORD

    page.goto("/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("home-greeting").wait_for()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="call-join-"))
    database_url = f"sqlite:///{work / 'bench.db'}"
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    usernames, room_id = prepare(database_url)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "VAR_DIR": str(work),
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "ASYNC_MODE": "eventlet",
        }
    )
    base = f"http://127.0.0.1:{port}"
    with open(work / "server.log", "ab") as log:
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "wsgi.py")], env=env, cwd=ROOT, stdout=log, stderr=log
        )
    try:
        for _ in range(600):
            try:
                requests.get(base + "/healthz", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
            pages = []
            for name in usernames:
                ctx = browser.new_context(
                    base_url=base,
                    viewport={"width": 375, "height": 812},
                    locale="zh-CN",
                    service_workers="block",
                )
                ctx.set_default_timeout(20_000)
                ctx.add_init_script(WATCH_FIRST_PACKET)
                page = ctx.new_page()
                sign_in(page, name)
                pages.append(page)
            a, b, c = pages
            for page in (a, b):
                page.goto(f"/war-rooms/{room_id}")
            a.get_by_test_id("call-start").click()
            b.get_by_test_id("call-join").click()
            b.wait_for_function("() => window.__first !== null")
            from_room, from_join, floor = [], [], []
            for _ in range(args.rounds):
                c.goto("/war-rooms")
                item = c.get_by_test_id("war-room-item").filter(has_text="远程连线测速")
                item.wait_for()
                c.evaluate("() => { window.__first = null; window.__tapRoom = performance.now() }")
                item.click()
                join = c.get_by_test_id("call-join")
                join.wait_for()
                c.evaluate("() => { window.__tapJoin = performance.now() }")
                join.click()
                # The floor: the server's acknowledgement shows the call bar (signalling only, no media).
                c.wait_for_function(
                    "() => document.querySelector('[data-testid=call-time]') && (window.__acked = performance.now())",
                    polling="raf",
                )
                c.wait_for_function("() => window.__first !== null")
                got = c.evaluate(
                    "() => [window.__first - window.__tapRoom, window.__first - window.__tapJoin,"
                    " window.__acked - window.__tapJoin]"
                )
                from_room.append(got[0])
                from_join.append(got[1])
                floor.append(got[2])
                c.get_by_test_id("call-leave").click()
                c.get_by_test_id("call-join").wait_for()
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    med = statistics.median
    print(
        f"3 members, {args.rounds} rounds, {os.cpu_count()} cores, Chromium fake devices, one eventlet process"
    )
    print(
        f"room tap -> first inbound audio packet: median {med(from_room):.0f} ms, max {max(from_room):.0f} ms"
    )
    print(
        f"join tap -> first inbound audio packet: median {med(from_join):.0f} ms, max {max(from_join):.0f} ms"
    )
    print(f"baseline, join tap -> call bar shown (signalling only): median {med(floor):.0f} ms")


if __name__ == "__main__":
    main()
