"""远程作战 in real browsers: two Chromium contexts with fake microphones join a room's call through the
real server and exchange audio (inbound bytes grow in getStats()), the shared stage follows the
presenter's page (a product sheet, then a PDF proposal drawn by pdf.js), a dropped socket re-joins the call by itself, hanging up ends the peer, and booking
an expert from the room invites them as remote_expert."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from server.org.models import Role, User
from server.resources.models import Resource
from server.warrooms import membership, rooms
from server.warrooms.models import WarRoomMember
from server.warrooms.schemas import InviteIn, RoomCreate
from tests import factories
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _context_options, screenshot, sign_in

pytestmark = pytest.mark.e2e

FAKE_MEDIA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]

# Records every RTCPeerConnection the page makes, so the test can read getStats() as a user's
# browser would; the app itself is untouched.
RECORD_PEERS = """
(() => {
  const Original = window.RTCPeerConnection
  window.__pcs = []
  window.RTCPeerConnection = function (...args) {
    const pc = new Original(...args)
    window.__pcs.push(pc)
    return pc
  }
  window.RTCPeerConnection.prototype = Original.prototype
})()
"""
INBOUND_BYTES = """async () => {
  let total = 0
  for (const pc of window.__pcs) {
    if (pc.connectionState === 'closed') continue
    const stats = await pc.getStats()
    stats.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') total += s.bytesReceived || 0 })
  }
  return total
}"""
OPEN_PEERS = "() => window.__pcs.filter((pc) => pc.connectionState !== 'closed').length"


@pytest.fixture(scope="module")
def media_browser(playwright_instance):
    """Chromium with a fake microphone that needs no permission prompt: for this module only."""
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + FAKE_MEDIA
    )
    yield browser
    browser.close()


@pytest.fixture
def call_contexts(media_browser, base_url):
    contexts = []
    for _ in range(2):
        ctx = media_browser.new_context(**_context_options(base_url, service_workers="block"))
        ctx.set_default_timeout(15_000)
        ctx.add_init_script(RECORD_PEERS)
        contexts.append(ctx)
    yield contexts
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def call_room(db_session):
    """Two RMs in a room, a sellable product, and an expert at head office among the resources."""
    branch = factories.make_branch(db_session)
    head_office = factories.make_branch(db_session)
    a = factories.make_user(db_session, branch=branch, display_name="王敏")
    b = factories.make_user(db_session, branch=branch, display_name="李强")
    expert = factories.make_user(db_session, branch=head_office, display_name="赵审批")
    room = rooms.create_room(
        db_session, user=a, ip=None, data=RoomCreate(title="星河科技授信面谈", mode="remote")
    )
    membership.invite(db_session, room_id=room.id, user=a, data=InviteIn(user_ids=[b.id]), ip=None)
    membership.respond(db_session, room_id=room.id, user=db_session.get(User, b.id), accept=True, ip=None)
    factories.make_product(db_session)
    db_session.add(
        Resource(
            kind="expert",
            name="赵审批(授信审批专家)",
            expert_user_id=expert.id,
            detail={"topics": ["授信方案"]},
        )
    )
    db_session.commit()
    return a, b, expert, room.id


def _growing(page, timeout_ms: int = 10_000) -> None:
    """Inbound audio bytes above zero and still growing a second later."""
    page.wait_for_function(f"({INBOUND_BYTES})().then((n) => n > 0)", timeout=timeout_ms, polling=200)
    first = page.evaluate(INBOUND_BYTES)
    page.wait_for_timeout(1000)
    assert page.evaluate(INBOUND_BYTES) > first


def test_two_rms_call_share_the_stage_rejoin_hang_up_and_book_an_expert(
    call_contexts, call_room, db_session, media_browser, base_url
):
    a, b, expert, room_id = call_room
    page_a, page_b = (ctx.new_page() for ctx in call_contexts)
    # B's websockets go through a switchable proxy, so the test can drop B's connection.
    sockets: list = []

    def through(ws):
        sockets.append(ws)
        ws.connect_to_server()

    page_b.route_web_socket(re.compile(r".*/socket\.io/.*"), through)
    sign_in(page_a, a)
    sign_in(page_b, b)
    page_a.goto(f"/war-rooms/{room_id}")
    page_b.goto(f"/war-rooms/{room_id}")

    # A starts the call; B, in the room, sees it going and joins.
    page_a.get_by_test_id("call-start").click()
    expect(page_a.get_by_test_id("call-time")).to_be_visible()
    join = page_b.get_by_test_id("call-join")
    expect(join).to_be_visible()
    join.click()
    expect(page_b.get_by_test_id("call-member")).to_have_count(2)
    expect(page_a.get_by_test_id("call-member")).to_have_count(2)
    _growing(page_a)
    _growing(page_b)

    # The stage: A puts a product sheet up; B follows A's page.
    page_a.get_by_test_id("stage-share").click()
    page_a.get_by_test_id("share-product").first.click()
    stage_b = page_b.get_by_test_id("stage")
    expect(stage_b.get_by_test_id("stage-page-title")).to_have_text("产品概览")
    expect(stage_b.get_by_test_id("stage-download")).to_have_count(0)  # not downloadable by default
    expect(stage_b.get_by_test_id("stage-next")).to_have_count(0)  # only the presenter turns pages
    page_a.get_by_test_id("stage-next").click()
    expect(stage_b.get_by_test_id("stage-page-title")).to_have_text("卖点与优势")
    expect(stage_b).to_have_attribute("data-page", "1")
    screenshot(page_b, "warroom-call-stage")

    # A PDF proposal: drawn page by page in B's app, following A, with no download offered.
    page_a.get_by_test_id("stage-share").click()
    page_a.get_by_role("tab", name="PDF 方案").click()
    page_a.get_by_test_id("share-pdf").set_input_files(
        files=[
            {
                "name": "授信方案.pdf",
                "mimeType": "application/pdf",
                "buffer": factories.pdf_document(["Page one", "Page two"]),
            }
        ]
    )
    canvas_b = stage_b.get_by_test_id("stage-pdf")
    expect(canvas_b).to_have_attribute("data-drawn", "0")
    page_a.get_by_test_id("stage-next").click()
    expect(canvas_b).to_have_attribute("data-drawn", "1")
    expect(stage_b.get_by_test_id("stage-download")).to_have_count(0)
    screenshot(page_b, "warroom-call-stage-pdf")

    # B's connection drops: the socket reconnects, re-joins the room and then the call; audio flows again.
    assert sockets
    for ws in list(sockets):
        ws.close()
    page_a.wait_for_function(OPEN_PEERS + " >= 1 && window.__pcs.length >= 2", timeout=15_000)
    expect(page_b.get_by_test_id("call-time")).to_be_visible()
    page_b.wait_for_function(f"({INBOUND_BYTES})().then((n) => n > 0)", timeout=15_000, polling=200)
    _growing(page_a, 15_000)

    # B hangs up: A's peer for B ends.
    page_b.get_by_test_id("call-leave").click()
    expect(page_a.get_by_test_id("call-member")).to_have_count(1)
    page_a.wait_for_function(OPEN_PEERS + " === 0")
    expect(page_b.get_by_test_id("call-join")).to_be_visible()  # the call goes on without B

    # A (the owner) books the expert for a free slot: the expert is invited as remote_expert.
    page_a.get_by_test_id("expert-book").click()
    expect(page_a.get_by_test_id("expert-slot").first).to_be_visible()
    screenshot(page_a, "warroom-expert-booking")
    page_a.get_by_test_id("expert-item").filter(has_text="赵审批").get_by_test_id("expert-slot").first.click()
    page_a.get_by_role("button", name="确认").click()
    expect(page_a.get_by_text("已预约，并已邀请 赵审批")).to_be_visible()
    db_session.expire_all()
    row = db_session.exec(
        select(WarRoomMember).where(WarRoomMember.room_id == room_id, WarRoomMember.user_id == expert.id)
    ).one()
    assert (row.role, row.status) == ("remote_expert", "invited")

    page_a.get_by_test_id("call-leave").click()
    page_a.get_by_role("tab", name="动态").click()
    # The last one out ends the call: stored, then broadcast (slow on a loaded CI host, hence 15 s).
    expect(page_a.get_by_text(re.compile(r"语音连线结束：王敏、李强，时长"))).to_be_visible(timeout=15_000)
    expect(page_a.get_by_text(re.compile(r"王敏 预约了专家 赵审批"))).to_be_visible()

    # The risk officer finds the stage share in the audit log.
    officer = factories.make_user(db_session, role=Role.risk_officer, persona=None, display_name="孙风控")
    ctx = media_browser.new_context(**_context_options(base_url, service_workers="block"))
    try:
        page_r = ctx.new_page()
        sign_in(page_r, officer)
        page_r.get_by_test_id("tab-audit").click()
        page_r.get_by_test_id("audit-action").click()
        page_r.get_by_role("button", name="作战室共享展台").click()
        page_r.get_by_test_id("audit-search").click()
        expect(page_r.get_by_test_id("audit-entry").first).to_contain_text("作战室共享展台")
        screenshot(page_r, "warroom-stage-audit")
    finally:
        ctx.close()
