"""War rooms in two real browsers: one RM posts and moves a task, the other sees both live; presence,
text-only rendering, unread counts, and the reconnect banner that catches up by itself."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from server.org.models import User
from server.warrooms import service
from server.warrooms.schemas import InviteIn, RoomCreate, TaskIn
from tests import factories
from tests.e2e.conftest import _context_options, screenshot, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def duo(db_session):
    """Two RMs of one branch in one war room, with one task on the board."""
    branch = factories.make_branch(db_session)
    a = factories.make_user(db_session, branch=branch, display_name="王敏")
    b = factories.make_user(db_session, branch=branch, display_name="李强")
    room = service.create_room(
        db_session,
        user=a,
        ip=None,
        data=RoomCreate(title="张江园区代发工资", kind="wholesale", mode="joint", goal_customers=5),
    )
    service.invite(db_session, room_id=room.id, user=a, data=InviteIn(user_ids=[b.id]), ip=None)
    service.respond(db_session, room_id=room.id, user=db_session.get(User, b.id), accept=True, ip=None)
    task = service.create_task(db_session, room_id=room.id, user=a, data=TaskIn(item="约财务总监面谈"))
    return a, b, room.id, task["id"]


@pytest.fixture
def two_contexts(browser, base_url):
    contexts = [browser.new_context(**_context_options(base_url, service_workers="block")) for _ in range(2)]
    for ctx in contexts:
        ctx.set_default_timeout(15_000)
    yield contexts
    for ctx in contexts:
        ctx.close()


def test_one_rm_posts_and_moves_a_task_the_other_sees_both_live(two_contexts, duo):
    a, b, room_id, task_id = duo
    page_a, page_b = (ctx.new_page() for ctx in two_contexts)
    # B's websockets go through a switchable proxy, so the test can cut B's network.
    network = {"up": True, "routes": []}

    def through(ws):
        if not network["up"]:
            ws.close()
            return
        network["routes"].append(ws)
        ws.connect_to_server()

    page_b.route_web_socket(re.compile(r".*/socket\.io/.*"), through)
    sign_in(page_a, a)
    sign_in(page_b, b)

    # B's list shows the room with unread events (the room's creation, the invitation, the task).
    page_b.goto("/war-rooms")
    item = page_b.get_by_test_id("war-room-item").filter(has_text="张江园区代发工资")
    expect(item).to_be_visible()
    expect(item.get_by_test_id("war-room-unread")).to_be_visible()
    item.click()
    expect(page_b).to_have_url(re.compile(rf"/war-rooms/{room_id}$"))
    page_a.goto(f"/war-rooms/{room_id}")
    for page in (page_a, page_b):
        expect(page.get_by_test_id("war-room-online")).to_contain_text("2 人在线")  # presence

    # A posts; B sees it at once, as text (no HTML injection).
    page_a.get_by_test_id("chat-input").locator("input").fill("<b>明早九点</b> 一起去园区")
    page_a.get_by_test_id("chat-send").click()
    message_b = page_b.get_by_test_id("chat-message").filter(has_text="一起去园区")
    expect(message_b).to_contain_text("<b>明早九点</b> 一起去园区")
    expect(message_b).to_contain_text("王敏")
    expect(page_b.locator(".msg__text b")).to_have_count(0)

    # A moves the task to doing; B's board shows it there without reloading.
    page_b.get_by_role("tab", name="任务").click()
    expect(page_b.get_by_test_id("task-column-todo").get_by_test_id("task-item")).to_contain_text(
        "约财务总监面谈"
    )
    page_a.get_by_role("tab", name="任务").click()
    page_a.get_by_test_id(f"task-move-{task_id}").click()
    expect(page_b.get_by_test_id("task-column-doing").get_by_test_id("task-item")).to_contain_text(
        "约财务总监面谈"
    )
    expect(page_b.get_by_test_id("task-column-todo").get_by_test_id("task-item")).to_have_count(0)
    screenshot(page_b, "war-room-board-live")

    # B adds a task with A as assignee; A sees it.
    page_b.get_by_test_id("task-new-item").locator("input").fill("准备代发方案")
    page_b.get_by_test_id("task-new-assignee").select_option(label="王敏")
    page_b.get_by_test_id("task-add").click()
    expect(page_a.get_by_test_id("task-column-todo").get_by_test_id("task-item")).to_contain_text("王敏")

    # B's connection drops (the websocket closes, new ones fail); A keeps posting; when B's network is
    # back, the socket reconnects, re-joins with its last seq and the banner says what was caught up.
    page_b.get_by_role("tab", name="聊天").click()
    network["up"] = False
    for route in network["routes"]:
        route.close()
    expect(page_b.get_by_test_id("war-room-banner")).to_contain_text("正在重连")
    page_a.get_by_role("tab", name="聊天").click()
    page_a.get_by_test_id("chat-input").locator("input").fill("断线期间的消息")
    page_a.get_by_test_id("chat-send").click()
    expect(page_a.get_by_test_id("chat-message").filter(has_text="断线期间的消息")).to_be_visible()
    expect(page_b.get_by_test_id("chat-message").filter(has_text="断线期间的消息")).to_have_count(0)
    network["up"] = True
    expect(page_b.get_by_test_id("war-room-banner")).to_contain_text("补齐", timeout=30_000)
    expect(page_b.get_by_test_id("chat-message").filter(has_text="断线期间的消息")).to_have_count(1)
    expect(page_b.get_by_test_id("chat-message").filter(has_text="一起去园区")).to_have_count(
        1
    )  # no duplicate
    screenshot(page_b, "war-room-chat")
