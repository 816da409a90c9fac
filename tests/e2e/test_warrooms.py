"""War rooms in real browsers: one RM posts and moves a task, the other sees both live; presence,
text-only rendering, unread counts, and the reconnect banner that catches up by itself; quick rooms
from a customer, an opportunity and an intel alert; chat cards; target removal and the timeline live;
the team lead's live board."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from server.opportunities.lifecycle import create_opportunity
from server.opportunities.schemas import OpportunityCreate
from server.org.models import User
from server.products.models import Product, ProductCategory
from server.warrooms import board, chat, membership, rooms
from server.warrooms.schemas import InviteIn, RoomCreate, TargetIn, TaskIn
from tests import factories
from tests.e2e.conftest import _context_options, screenshot, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def duo(db_session):
    """Two RMs of one branch in one war room, with one task on the board."""
    branch = factories.make_branch(db_session)
    a = factories.make_user(db_session, branch=branch, display_name="王敏")
    b = factories.make_user(db_session, branch=branch, display_name="李强")
    room = rooms.create_room(
        db_session,
        user=a,
        ip=None,
        data=RoomCreate(title="张江园区代发工资", kind="wholesale", mode="joint", goal_customers=5),
    )
    membership.invite(db_session, room_id=room.id, user=a, data=InviteIn(user_ids=[b.id]), ip=None)
    membership.respond(db_session, room_id=room.id, user=db_session.get(User, b.id), accept=True, ip=None)
    task = board.create_task(db_session, room_id=room.id, user=a, data=TaskIn(item="约财务总监面谈"))
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
    # the whole count shows: the badge lies inside the cell part that clips what overflows it
    badge = item.get_by_test_id("war-room-unread").bounding_box()
    box = item.locator(".van-cell__value").bounding_box()
    assert badge and box
    assert box["x"] <= badge["x"] and badge["x"] + badge["width"] <= box["x"] + box["width"] + 0.5, (
        badge,
        box,
    )
    assert box["y"] <= badge["y"] and badge["y"] + badge["height"] <= box["y"] + box["height"] + 0.5, (
        badge,
        box,
    )
    item.click()
    expect(page_b).to_have_url(re.compile(rf"/war-rooms/{room_id}$"))
    page_b.get_by_role("tab", name="聊天").click()
    page_a.goto(f"/war-rooms/{room_id}")
    page_a.get_by_role("tab", name="聊天").click()  # a wholesale room opens on its campaign board
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


def _product(db_session, name, qualification=None):
    product = Product(
        code=factories.unique("P")[:16],
        name=name,
        category=ProductCategory.fund if qualification else ProductCategory.payroll,
        segment="corporate",
        terms="T+1",
        required_qualification=qualification,
    )
    db_session.add(product)
    db_session.commit()
    return product


def test_quick_rooms_from_customer_opportunity_and_alert_with_chat_cards(page, db_session, data_key):
    branch = factories.make_branch(db_session)
    rm = factories.make_user(db_session, branch=branch, display_name="王敏")
    factories.make_user(db_session, branch=branch, display_name="赵专家", qualifications=["fund_sales"])
    # A name with markup: cards show it as text.
    customer = factories.make_customer(
        db_session, owner=rm, data_key=data_key, name=f"<i>张江</i>新材料有限公司{rm.id}"
    )
    fund = _product(db_session, f"稳健增利基金{rm.id}", qualification="fund_sales")
    payroll = _product(db_session, f"代发工资通{rm.id}")
    opp = create_opportunity(
        db_session,
        user=rm,
        ip=None,
        data=OpportunityCreate(
            title=f"扩产流动资金{rm.id}", customer_id=customer.id, product_id=fund.id, share=False
        ),
    )
    alert = factories.make_alert(db_session, rm=rm, customer=customer, title="园区扩建项目中标", score=88)
    sign_in(page, rm)
    room_url = re.compile(r"/war-rooms/\d+$")

    # From the customer's page: one tap, the room is named after the customer, who is its first target.
    page.goto(f"/customers/{customer.id}")
    page.get_by_test_id("quick-war-room-customer").click()
    expect(page).to_have_url(room_url)
    expect(page.locator(".app-header")).to_contain_text(f"新材料有限公司{rm.id} 作战室")
    page.get_by_role("tab", name="目标客户").click()
    expect(page.get_by_test_id("target-item")).to_contain_text(f"<i>张江</i>新材料有限公司{rm.id}")

    # From the opportunity: its title, the opportunity linked, the product's expert invited.
    page.goto(f"/opportunities/{opp.id}")
    page.get_by_test_id("quick-war-room-opportunity").click()
    expect(page).to_have_url(room_url)
    page.get_by_role("tab", name="成员").click()
    expect(page.get_by_test_id("member-item").filter(has_text="赵专家")).to_contain_text("待接受")

    # Chat cards: the linked opportunity and a customer on one message, a product alone on another.
    page.get_by_role("tab", name="聊天").click()
    page.get_by_test_id("chat-attach").click()
    picker = page.get_by_test_id("card-picker")
    picker.get_by_role("tab", name="商机").click()
    picker.get_by_test_id("card-option").filter(has_text=opp.title).click()
    page.get_by_test_id("chat-attach").click()
    picker.get_by_role("tab", name="客户").click()
    picker.get_by_test_id("card-option").filter(has_text="新材料有限公司").click()
    expect(page.get_by_test_id("chat-attached")).to_contain_text(opp.title)
    page.get_by_test_id("chat-input").locator("input").fill("请看这两个")
    page.get_by_test_id("chat-send").click()
    message = page.get_by_test_id("chat-message").filter(has_text="请看这两个")
    expect(message.get_by_test_id("chat-card-opportunity")).to_contain_text(opp.title)
    expect(message.get_by_test_id("chat-card-opportunity")).to_contain_text("草稿")
    expect(message.get_by_test_id("chat-card-customer")).to_contain_text(f"<i>张江</i>新材料有限公司{rm.id}")
    expect(page.locator(".chat i:not(.van-icon)")).to_have_count(0)  # no markup from the name
    page.get_by_test_id("chat-attach").click()
    picker.get_by_role("tab", name="产品").click()
    picker.get_by_test_id("card-option").filter(has_text=payroll.name).click()
    page.get_by_test_id("chat-send").click()  # a card alone: its title is the text
    product_card = page.get_by_test_id("chat-card-product").filter(has_text=payroll.name)
    expect(product_card).to_contain_text("代发工资")
    screenshot(page, "war-room-chat-cards")

    # The timeline tells the story so far.
    page.get_by_role("tab", name="动态").click()
    timeline = page.get_by_test_id("war-room-timeline")
    expect(timeline).to_contain_text(f"关联了商机「{opp.title}」")
    expect(timeline).to_contain_text("2 条消息 · 王敏")
    expect(timeline).to_contain_text("邀请了 赵专家")
    expect(timeline).to_contain_text(f"来自商机「{opp.title}」")
    screenshot(page, "war-room-timeline")

    # Cards open the thing.
    page.get_by_role("tab", name="聊天").click()
    product_card.click()
    expect(page).to_have_url(re.compile(rf"/workbench/products\?open={payroll.id}$"))
    page.go_back()
    page.get_by_role("tab", name="聊天").click()  # a project room opens on its chain view
    page.get_by_test_id("chat-card-customer").first.click()
    expect(page).to_have_url(re.compile(rf"/customers/{customer.id}$"))

    # From an intel alert: the alert's action opens a room named after it.
    page.goto(f"/intel/alerts/{alert.id}")
    page.get_by_test_id("intel-action-start_war_room").click()
    expect(page).to_have_url(room_url)
    expect(page.locator(".app-header")).to_contain_text("：园区扩建项目中标")


def test_target_removed_live_timeline_and_live_unread(app, two_contexts, duo, db_session):
    a, b, room_id, task_id = duo
    with app.app_context():  # adding targets is rate-limited per user (Redis, settings)
        board.add_target(
            db_session, room_id=room_id, user=a, data=TargetIn(prospect_name="某物流公司"), ip=None
        )
    page_a, page_b = (ctx.new_page() for ctx in two_contexts)
    sign_in(page_a, a)
    sign_in(page_b, b)

    # B's list follows the room: A's message raises B's unread count without a reload.
    page_b.goto("/war-rooms")
    badge = (
        page_b.get_by_test_id("war-room-item")
        .filter(has_text="张江园区代发工资")
        .get_by_test_id("war-room-unread")
    )
    expect(badge).to_be_visible()
    before = int(badge.inner_text())
    page_a.goto(f"/war-rooms/{room_id}")
    page_a.get_by_role("tab", name="聊天").click()  # a wholesale room opens on its campaign board
    # B's list follows the room without B counting as present in it (only A has the room open).
    expect(page_a.get_by_test_id("war-room-online")).to_contain_text("1 人在线")
    # A mentions B: "@" offers the room's members.
    chat_input = page_a.get_by_test_id("chat-input").locator("input")
    chat_input.fill("@")
    page_a.get_by_test_id("chat-mention-options").get_by_text("李强").click()
    chat_input.press("End")
    chat_input.press_sequentially("名单有变")
    page_a.get_by_test_id("chat-send").click()
    expect(badge).to_have_text(str(before + 1))

    page_b.get_by_test_id("war-room-item").filter(has_text="张江园区代发工资").click()
    page_b.get_by_role("tab", name="聊天").click()
    expect(page_b.locator(".mention--me")).to_have_text("@李强")  # B sees they were mentioned
    page_b.get_by_role("tab", name="目标客户").click()
    expect(page_b.get_by_test_id("target-item")).to_contain_text("某物流公司")
    # B did not add it and is not the owner: no removal offered.
    page_b.get_by_test_id("target-item").click()
    expect(page_b.get_by_role("button", name="方案")).to_be_visible()
    expect(page_b.get_by_role("button", name="移出目标")).to_have_count(0)
    page_b.locator(".van-overlay").last.click(position={"x": 10, "y": 10})
    expect(page_b.get_by_role("button", name="方案")).to_be_hidden()

    # The owner removes it; B's list drops it at once, and B's timeline says who did.
    page_a.get_by_role("tab", name="目标客户").click()
    page_a.get_by_test_id("target-item").filter(has_text="某物流公司").click()
    page_a.get_by_role("button", name="移出目标").click()
    page_a.get_by_role("button", name="确认").click()
    expect(page_b.get_by_test_id("target-item")).to_have_count(0)
    expect(page_a.get_by_test_id("target-item")).to_have_count(0)
    page_b.get_by_role("tab", name="动态").click()
    timeline = page_b.get_by_test_id("war-room-timeline")
    expect(timeline).to_contain_text("王敏 移出目标客户「某物流公司」")
    expect(timeline).to_contain_text("王敏 新建任务「约财务总监面谈」")
    expect(timeline).to_contain_text("1 条消息 · 王敏")
    # Live on the timeline too: A moves the task, B's timeline shows it.
    page_a.get_by_role("tab", name="任务").click()
    page_a.get_by_test_id(f"task-move-{task_id}").click()
    expect(timeline).to_contain_text("王敏 将「约财务总监面谈」移到进行中")
    screenshot(page_b, "war-room-timeline-live")


def test_team_leads_board_is_live(two_contexts, db_session):
    branch = factories.make_branch(db_session)
    team = factories.make_team(db_session, branch=branch)
    lead = db_session.get(User, team.lead_id)
    owner = factories.make_user(db_session, branch=branch, team=team, display_name="孙丽")
    room = rooms.create_room(
        db_session,
        user=owner,
        ip=None,
        data=RoomCreate(title="园区代发冲刺", kind="wholesale", mode="solo", goal_customers=2),
    )
    task = board.create_task(db_session, room_id=room.id, user=owner, data=TaskIn(item="拜访人事经理"))
    page_lead, page_owner = (ctx.new_page() for ctx in two_contexts)
    sign_in(page_lead, lead)
    sign_in(page_owner, owner)
    page_lead.goto("/war-rooms")
    page_lead.get_by_role("tab", name="团队看板").click()
    row = page_lead.get_by_test_id("war-room-item").filter(has_text="园区代发冲刺")
    expect(row).to_contain_text("0/1 ✓")
    page_owner.goto(f"/war-rooms/{room.id}")
    page_owner.get_by_role("tab", name="任务").click()
    page_owner.get_by_test_id(f"task-move-{task['id']}").click()  # to doing
    expect(page_owner.get_by_test_id("task-column-doing").get_by_test_id("task-item")).to_have_count(1)
    page_owner.get_by_test_id(f"task-move-{task['id']}").click()  # to done
    expect(row).to_contain_text("1/1 ✓")  # the lead's board moves without a reload
    screenshot(page_lead, "war-room-team-board-live")


def test_timeline_pages_back_to_the_rooms_start(page, db_session):
    owner = factories.make_user(db_session, display_name="周杰")
    room = rooms.create_room(
        db_session, user=owner, ip=None, data=RoomCreate(title="长线作战室", kind="general", mode="solo")
    )
    for n in range(205):  # more than a room screen loads at first
        chat.post_system_message(db_session, room_id=room.id, text=f"系统提醒 {n}", client_id=f"t{n}")
    sign_in(page, owner)
    page.goto(f"/war-rooms/{room.id}")
    page.get_by_role("tab", name="动态").click()
    timeline = page.get_by_test_id("war-room-timeline")
    expect(timeline).to_contain_text("系统提醒 204")
    expect(timeline).not_to_contain_text("周杰 创建了作战室")
    page.get_by_test_id("timeline-earlier").click()
    expect(timeline).to_contain_text("周杰 创建了作战室")
    expect(page.get_by_test_id("timeline-earlier")).to_have_count(0)  # nothing older
    expect(timeline.get_by_test_id("timeline-entry")).to_have_count(206)  # each event once


def test_chat_scrolls_back_to_the_first_message(app, page, db_session, live_server, login, monkeypatch):
    owner = factories.make_user(db_session, display_name="吴磊")
    room = rooms.create_room(
        db_session, user=owner, ip=None, data=RoomCreate(title="存量客户回访", kind="general", mode="solo")
    )
    # Posted the way the outbox posts (HTTP, with an Idempotency-Key), through an in-process app on
    # the same database whose per-user message limit is raised: 230 messages at once are a flood.
    monkeypatch.setattr(app.config["SETTINGS"], "WARROOM_RATE_LIMIT", 1000)
    api = login(owner)
    for n in range(230):  # more than a room screen loads at first
        key = f"e2e-{room.id}-{n}"
        response = api.post(
            f"/api/v1/war-rooms/{room.id}/messages",
            json={"text": f"回访记录 {n}", "client_id": key},
            headers={"Idempotency-Key": key},
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        if n == 100:  # a board event among the messages: chat paging skips it, the timeline keeps it
            with app.app_context():
                board.create_task(db_session, room_id=room.id, user=owner, data=TaskIn(item="整理回访名单"))
    sign_in(page, owner)
    page.goto(f"/war-rooms/{room.id}")
    messages = page.get_by_test_id("chat-message")
    expect(messages.last).to_contain_text("回访记录 229")
    expect(messages.last).to_be_in_viewport()
    expect(page.get_by_test_id("chat-earlier")).to_be_visible()
    shown = messages.count()
    assert shown < 230
    top_text = messages.first.locator(".msg__text").inner_text()

    # Scrolling up to the top loads the page before, and the message that was on top stays put.
    page.evaluate("window.scrollTo(0, 200)")
    page.evaluate("window.scrollTo(0, 0)")
    expect(messages).to_have_count(230)
    expect(page.get_by_text(top_text, exact=True)).to_be_in_viewport()
    expect(messages.first).not_to_be_in_viewport()  # the older ones are above it, not in the way
    expect(page.get_by_test_id("chat-earlier")).to_have_count(0)  # nothing older

    page.evaluate("window.scrollTo(0, 0)")
    expect(messages.first).to_contain_text("回访记录 0")
    expect(messages.first).to_be_in_viewport()
    screenshot(page, "war-room-chat-earlier")
    texts = page.locator("[data-testid=chat-message] .msg__text").all_inner_texts()
    assert texts == [f"回访记录 {n}" for n in range(230)]  # each once, in order

    # The timeline tab shows what the chat loaded, the task among the messages.
    page.get_by_role("tab", name="动态").click()
    timeline = page.get_by_test_id("war-room-timeline")
    expect(timeline).to_contain_text("吴磊 创建了作战室")
    expect(timeline).to_contain_text("整理回访名单")
    expect(page.get_by_test_id("timeline-earlier")).to_have_count(0)


def test_a_target_request_waits_for_the_customers_rm(two_contexts, db_session, data_key):
    """The team lead sees the team's customers but owns none: the target they add shows 待审批 and
    no name; the customer's RM opens the inbox item's link, approves, and both see the customer."""
    branch = factories.make_branch(db_session)
    team = factories.make_team(db_session, branch=branch)
    lead = db_session.get(User, team.lead_id)
    rm = factories.make_user(db_session, branch=branch, team=team, display_name="周琳")
    customer = factories.make_customer(db_session, owner=rm, data_key=data_key)
    room = rooms.create_room(
        db_session,
        user=lead,
        ip=None,
        data=RoomCreate(
            title="园区授信冲刺", kind="project_marketing", mode="joint", customer_ids=[customer.id]
        ),
    )
    membership.invite(db_session, room_id=room.id, user=lead, data=InviteIn(user_ids=[rm.id]), ip=None)
    membership.respond(db_session, room_id=room.id, user=db_session.get(User, rm.id), accept=True, ip=None)
    [target] = rooms.room_detail(db_session, room_id=room.id, user=lead)["targets"]
    assert target["consent"] == "pending"

    page_lead, page_rm = (ctx.new_page() for ctx in two_contexts)
    sign_in(page_lead, lead)
    sign_in(page_rm, rm)
    page_lead.goto(f"/war-rooms/{room.id}")
    page_lead.get_by_role("tab", name="目标客户").click()
    expect(page_lead.get_by_test_id(f"target-pending-{target['id']}")).to_have_text("待审批")

    page_rm.goto(f"/war-rooms/{room.id}?approve={target['id']}")  # the inbox item's link
    sheet = page_rm.get_by_test_id("target-decide")
    expect(sheet).to_contain_text(f"申请把你的客户「{customer.name}」列为本作战室的目标客户")
    sheet.get_by_role("button", name="同意", exact=True).click()
    expect(page_rm.get_by_test_id(f"target-{target['id']}")).to_have_text(customer.name)
    # The requester's screen follows live: the customer is named, the request is gone.
    expect(page_lead.get_by_test_id(f"target-{target['id']}")).to_have_text(customer.name)
    expect(page_lead.get_by_test_id(f"target-pending-{target['id']}")).to_have_count(0)
    screenshot(page_rm, "war-room-target-approved")
