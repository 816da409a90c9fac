"""The shared stage (共享展台): show, don't send. A presenter puts a product sheet, a calculator
result, a customer card or a PDF proposal on the room's stage; every member sees it live and follows the
presenter's page. The server composes what is shown (the product from the catalogue, the customer
masked as everywhere else), so a member's screen holds only the pages, never a file; the content can
be downloaded only when the sharer allowed it. Every share and every download is audited.

A PDF is the one thing the server cannot compose: it is kept in Redis beside the stage (bounded in
size, and only while it is on the stage), served to members only, `no-store` and inline, and drawn
page by page in the browser. Its bytes do reach the members' browsers, so "not downloadable" means
no download in the app and the file gone from the server when the stage changes; the audit records
who showed what to whom.

The stage is live state (Redis, one per room): what is on it now, not a record of the room."""

from __future__ import annotations

import json
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, select

from server import events
from server.audit import service as audit
from server.customers import service as customers
from server.errors import Problem, conflict, not_found, unprocessable
from server.org.models import User
from server.products.models import Product
from server.timeutil import iso, utcnow
from server.warrooms import access
from server.warrooms.models import TargetConsent, WarRoomTarget

STAGE_TTL_SECONDS = 12 * 3600
STAGE_KIND = "warroom.stage"  # payload: room_id, stage (or None): the realtime sink shows it to the room
MAX_PDF_PAGES = 200
CALCULATORS = ("loan", "deposit", "fx")


class CalculatorResult(BaseModel):
    """A calculator's inputs and result as the presenter's calculator showed them: labels and values
    only (short strings or numbers), so nothing else rides along."""

    model_config = ConfigDict(extra="forbid")
    calculator: Literal["loan", "deposit", "fx"]
    rows: list[tuple[str, str | float]] = Field(min_length=1, max_length=12)


class ShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    room_id: int = Field(ge=1)
    kind: Literal["product", "calculator", "customer"]
    ref_id: int | None = Field(default=None, ge=1)  # the product or the customer
    calculator: CalculatorResult | None = None
    downloadable: bool = False


class PageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    room_id: int = Field(ge=1)
    share_id: str = Field(min_length=1, max_length=32)
    page: int = Field(ge=0, le=99)


class PdfShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: str = Field(min_length=1, max_length=120)
    content_base64: str = Field(min_length=1)
    pages: int = Field(ge=1, le=MAX_PDF_PAGES)  # counted by the presenter's browser when it opened the file
    downloadable: bool = False


def _key(room_id: int) -> str:
    return f"wr:stage:{room_id}"


def _pdf_key(room_id: int) -> str:
    return f"wr:stage:{room_id}:pdf"


def _page(title: str, lines: list[tuple[str, Any]]) -> dict[str, Any]:
    shown = [{"label": k, "value": "" if v is None else str(v)[:300]} for k, v in lines]
    return {"title": title, "lines": shown or [{"label": "（无）", "value": ""}]}


def _product_pages(product: Product) -> tuple[str, list[dict[str, Any]]]:
    pages = [
        _page(
            "产品概览",
            [
                ("产品", product.name),
                ("代码", product.code),
                ("类别", product.category),
                ("客群", product.segment),
                ("风险等级", product.risk_level or "—"),
                ("期限/利率/起点", product.terms),
            ],
        ),
        _page(
            "卖点与优势",
            [("卖点", p) for p in product.selling_points] + [("优势", a) for a in product.advantages],
        ),
        _page(
            "适合客户",
            [
                ("目标客群", product.target_profile or "—"),
                ("销售资质", product.required_qualification or "无"),
            ],
        ),
    ]
    return product.name, pages


def _customer_pages(
    session: Session, *, room_id: int, user: User, customer_id: int
) -> tuple[str, list[dict]]:
    """A customer card, masked. Only a customer of the presenter's own, or one the room already
    holds as an approved target: the stage must not be a side door for customer data into a room."""
    customer = customers.get_customer_for(session, user=user, customer_id=customer_id)
    in_room = session.exec(
        select(WarRoomTarget.id).where(
            WarRoomTarget.room_id == room_id,
            WarRoomTarget.customer_id == customer_id,
            WarRoomTarget.consent == TargetConsent.approved,
        )
    ).first()
    if customer.owner_id != user.id and in_room is None:
        raise not_found("customer")
    card = customers.summaries(session, [customer])[0]
    pages = [
        _page(
            "客户名片",
            [
                ("客户", card["name"]),
                ("行业", card["industry_name"] or "—"),
                ("地区", card["region_name"] or "—"),
                ("层级", card["tier"] or "—"),
                ("电话", card["phone_masked"] or "—"),
                ("标签", "、".join(card["tags"]) or "—"),
                ("客户经理", card["owner"]["display_name"]),
            ],
        )
    ]
    return card["name"], pages


CALCULATOR_TITLES = {"loan": "贷款测算", "deposit": "存款测算", "fx": "汇率测算"}


def share(session: Session, redis, *, data: ShareIn, user: User, ip: str | None) -> dict[str, Any]:
    access.open_room_of_member(session, room_id=data.room_id, user=user, write=True)
    ref: int | None = data.ref_id
    if data.kind == "product":
        product = session.get(Product, data.ref_id) if data.ref_id else None
        if product is None:
            raise not_found("product")
        title, pages = _product_pages(product)
    elif data.kind == "customer":
        if data.ref_id is None:
            raise not_found("customer")
        title, pages = _customer_pages(session, room_id=data.room_id, user=user, customer_id=data.ref_id)
    else:
        if data.calculator is None:
            raise unprocessable("Send the calculator result.")
        title = CALCULATOR_TITLES[data.calculator.calculator]
        pages = [_page(title, [(label, value) for label, value in data.calculator.rows])]
        ref = None
    stage = {
        "room_id": data.room_id,
        "share_id": uuid.uuid4().hex[:16],
        "kind": data.kind,
        "title": title,
        "pages": pages,
        "page": 0,
        "downloadable": data.downloadable,
        "presenter": access.person(user),
        "shared_at": iso(utcnow()),
    }
    audit.record(
        session,
        actor_id=user.id,
        action="warroom.stage_share",
        object_type="war_room",
        object_id=data.room_id,
        ip=ip,
        detail={
            "kind": data.kind,
            "ref_id": ref,
            "downloadable": data.downloadable,
            "share_id": stage["share_id"],
        },
    )
    return _show(session, redis, stage)


def _show(session: Session, redis, stage: dict[str, Any], pdf: bytes | None = None) -> dict[str, Any]:
    """Audited first (the caller recorded it in this transaction), then on the stage; the room is
    told after the commit. A PDF from an earlier share goes with it."""
    events.publish(session, STAGE_KIND, {"room_id": stage["room_id"], "stage": stage})
    session.commit()
    pipe = redis.pipeline(transaction=True)
    pipe.set(_key(stage["room_id"]), json.dumps(stage, ensure_ascii=False), ex=STAGE_TTL_SECONDS)
    if pdf is not None:
        pipe.set(_pdf_key(stage["room_id"]), pdf, ex=STAGE_TTL_SECONDS)
    else:
        pipe.delete(_pdf_key(stage["room_id"]))
    pipe.execute()
    return stage


def share_pdf(
    session: Session,
    redis,
    *,
    room_id: int,
    data: PdfShareIn,
    content: bytes,
    max_bytes: int,
    user: User,
    ip: str | None,
) -> dict[str, Any]:
    """A PDF proposal on the stage (bounded before anything reads it; it must be a PDF)."""
    access.open_room_of_member(session, room_id=room_id, user=user, write=True)
    if len(content) > max_bytes:
        raise Problem(
            413, "Content Too Large", f"A PDF on the stage is {max_bytes} bytes at most.", code="too-large"
        )
    if not content.startswith(b"%PDF-"):
        raise unprocessable("This is not a PDF.", errors=[{"field": "content_base64", "message": "not a PDF"}])  # fmt: skip
    title = data.filename.rsplit("/", 1)[-1][:120]
    stage = {
        "room_id": room_id,
        "share_id": uuid.uuid4().hex[:16],
        "kind": "pdf",
        "title": title,
        "pages": [{"title": f"第 {n} 页", "lines": []} for n in range(1, data.pages + 1)],
        "page": 0,
        "downloadable": data.downloadable,
        "presenter": access.person(user),
        "shared_at": iso(utcnow()),
    }
    audit.record(
        session,
        actor_id=user.id,
        action="warroom.stage_share",
        object_type="war_room",
        object_id=room_id,
        ip=ip,
        detail={"kind": "pdf", "filename": title, "bytes": len(content), "downloadable": data.downloadable,
                "share_id": stage["share_id"]},
    )  # fmt: skip
    return _show(session, redis, stage, content)


def pdf_bytes(session: Session, redis, *, room_id: int, share_id: str, user: User) -> bytes:
    """The PDF on the stage now, for a member; gone (404) once the stage has moved on."""
    access.require_member(session, room_id=room_id, user=user)
    stage = current(redis, room_id)
    content = redis.get(_pdf_key(room_id)) if stage and stage["share_id"] == share_id else None
    if content is None:
        raise not_found("stage")
    return content


def current(redis, room_id: int) -> dict[str, Any] | None:
    raw = redis.get(_key(room_id))
    return json.loads(raw) if raw else None


def turn_page(session: Session, redis, *, data: PageIn, user: User) -> dict[str, Any]:
    """The presenter's page: everyone's stage follows it."""
    access.require_member(session, room_id=data.room_id, user=user)
    stage = current(redis, data.room_id)
    if stage is None or stage["share_id"] != data.share_id:
        raise conflict("That is no longer on the stage.", code="stage-changed")
    if stage["presenter"]["id"] != user.id:
        raise Problem(403, "Forbidden", "Only the presenter turns the pages.", code="not-presenter")
    stage["page"] = min(data.page, len(stage["pages"]) - 1)
    redis.set(_key(data.room_id), json.dumps(stage, ensure_ascii=False), ex=STAGE_TTL_SECONDS)
    return {"room_id": data.room_id, "share_id": data.share_id, "page": stage["page"]}


def clear(session: Session, redis, *, room_id: int, user: User) -> None:
    """The presenter (or the room's owner) takes the stage down."""
    _room, member = access.room_and_membership(session, room_id=room_id, user=user)
    stage = current(redis, room_id)
    if stage is None:
        return
    if stage["presenter"]["id"] != user.id and member.role != "owner":
        raise Problem(
            403, "Forbidden", "Only the presenter or the owner clears the stage.", code="not-presenter"
        )
    redis.delete(_key(room_id), _pdf_key(room_id))
    events.publish(session, STAGE_KIND, {"room_id": room_id, "stage": None})
    session.commit()


def download(session: Session, redis, *, room_id: int, user: User, ip: str | None) -> dict[str, Any]:
    """What is on the stage, when its sharer allowed downloads (audited); else 403. The caller
    sends a PDF's own bytes, anything else as the pages shown."""
    access.require_member(session, room_id=room_id, user=user)
    stage = current(redis, room_id)
    if stage is None:
        raise not_found("stage")
    if not stage["downloadable"]:
        raise Problem(403, "Forbidden", "The presenter did not allow downloads.", code="not-downloadable")
    audit.record(
        session,
        actor_id=user.id,
        action="warroom.stage_download",
        object_type="war_room",
        object_id=room_id,
        ip=ip,
        detail={"share_id": stage["share_id"], "presenter_id": stage["presenter"]["id"]},
    )
    session.commit()
    return stage
