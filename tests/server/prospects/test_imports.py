"""Registry uploads: bounded before parsing, validated per row (line + reason, the rest loads),
idempotent re-uploads, field sources, merging into existing customers, all through a real worker."""

from __future__ import annotations

import base64
import io
import uuid
import zipfile

import pytest
from sqlmodel import select

from server.customers.models import CorporateProfile
from server.errors import Problem
from server.intel.models import IntelSource
from server.org.models import Role
from server.prospects import extracts
from server.prospects.models import Prospect, ProspectImport, ProspectLink
from tests import factories
from tests.server.prospects.conftest import credit_code

HEADER = "企业名称,统一社会信用代码,行业代码,规模,注册资本(万元),成立日期,地址,地区代码,纬度,经度,园区,供货给(客户信用代码)\n"


def key() -> dict:
    return {"Idempotency-Key": uuid.uuid4().hex}


@pytest.fixture
def admin(db_session, login):
    user = factories.make_user(db_session, role=Role.admin, persona=None)
    return login(user)


@pytest.fixture
def source(db_session):
    src = IntelSource(name=f"工商登记摘录{uuid.uuid4().hex[:4]}", kind="upload", category="corporate_event")
    db_session.add(src)
    db_session.commit()
    return src


def upload(admin, source, body: bytes, filename: str = "registry.csv"):
    return admin.post(
        "/api/v1/prospects/imports",
        json={
            "source_id": source.id,
            "filename": filename,
            "content_base64": base64.b64encode(body).decode(),
        },
        headers=key(),
    )


def test_bad_rows_are_reported_and_the_rest_loads_then_a_reupload_adds_nothing(
    admin, source, worker, sinks, db_session, data_key
):
    rm = factories.make_user(db_session)
    customer = factories.make_customer(db_session, owner=rm, data_key=data_key)
    customer_code = db_session.get(CorporateProfile, customer.id).credit_code
    good1, good2, bad_check = credit_code(), credit_code(), credit_code()
    bad_check = bad_check[:17] + ("0" if bad_check[17] != "0" else "1")
    rows = [
        f"上海甲科技有限公司,{good1},C39,小型,500,2015-03-01,上海市浦东新区张江路1号,310115,31.2,121.6,张江高科技园区,{customer_code}",
        f"上海乙电子有限公司,{bad_check},C39,小型,100,2018-01-01,,310000,,,,",
        f"上海丙物流有限公司,{good2},G58,中型,2000,2010/5/6,,,,,,",
        f"上海丁制造有限公司,{credit_code()},X99,小型,100,2018-01-01,,310000,,,,",
        f"上海戊贸易有限公司,{credit_code()},F51,巨型,100,2018-01-01,,310000,,,,",
        f"上海己科技有限公司,{credit_code()},I65,小型,abc,2018-01-01,,310000,,,,",
        f"上海庚科技有限公司,{credit_code()},I65,小型,10,2099-01-01,,310000,,,,",
        f"上海辛科技有限公司,{credit_code()},I65,小型,10,2018-01-01,,310000,95,121,,",
        f"{customer.name},{customer_code},C36,中型,100,2012-01-01,,310000,,,,",  # already our customer
        f"上海甲科技有限公司重复,{good1},C39,小型,500,2015-03-01,,310000,,,,",  # same code twice in a file
    ]
    body = (HEADER + "\n".join(rows) + "\n").encode()
    r = upload(admin, source, body)
    assert r.status_code == 202, r.get_json()
    import_id = r.get_json()["id"]
    worker.work(burst=True)
    report = admin.get(f"/api/v1/prospects/imports/{import_id}").get_json()
    assert report["status"] == "done"
    assert (report["rows"], report["created"], report["merged"]) == (10, 2, 1)
    errors = {e["line"]: e for e in report["errors"]}
    assert set(errors) == {3, 5, 6, 7, 8, 9, 11}
    assert errors[3]["field"] == "credit_code" and "校验位" in errors[3]["reason"]
    assert errors[5]["field"] == "industry_code"
    assert errors[6]["field"] == "size"
    assert errors[7]["field"] == "capital_wan"
    assert errors[8]["field"] == "founded_on"
    assert errors[9]["field"] == "latitude"
    assert errors[11]["field"] == "credit_code" and "重复" in errors[11]["reason"]
    first = db_session.exec(select(Prospect).where(Prospect.credit_code == good1)).one()
    assert first.status == "open" and first.registered_capital_cents == 500 * 10_000 * 100
    assert (
        first.park == "张江高科技园区" and first.region_code == "310000"
    )  # district code rolled up to the city
    assert (
        first.field_sources["name"]["source"] == source.name
        and first.field_sources["name"]["source_id"] == source.id
    )
    assert (
        db_session.exec(select(ProspectLink).where(ProspectLink.prospect_id == first.id)).one().customer_id
        == customer.id
    )
    second = db_session.exec(select(Prospect).where(Prospect.credit_code == good2)).one()
    assert second.latitude is not None  # no coordinates given: placed in its city
    merged = db_session.exec(select(Prospect).where(Prospect.credit_code == customer_code)).one()
    assert merged.status == "merged" and merged.customer_id == customer.id
    count = len(db_session.exec(select(Prospect.id)).all())
    # The same file again: the same import, nothing new.
    again = upload(admin, source, body)
    assert (
        again.status_code == 200
        and again.get_json()["already_imported"]
        and again.get_json()["id"] == import_id
    )
    # The same rows in another file (an extra blank line): a new import whose rows are all unchanged.
    other = upload(admin, source, body + b"\n")
    assert other.status_code == 202
    worker.work(burst=True)
    report2 = admin.get(f"/api/v1/prospects/imports/{other.get_json()['id']}").get_json()
    assert (report2["created"], report2["updated"], report2["merged"]) == (0, 0, 0)
    assert report2["unchanged"] == 3
    assert len(db_session.exec(select(Prospect.id)).all()) == count
    # A changed capital updates that field, and its source date, only.
    changed = body.replace(
        b",500,2015-03-01,\xe4\xb8\x8a\xe6\xb5\xb7", b",800,2015-03-01,\xe4\xb8\x8a\xe6\xb5\xb7"
    )
    assert changed != body
    r3 = upload(admin, source, changed)
    worker.work(burst=True)
    report3 = admin.get(f"/api/v1/prospects/imports/{r3.get_json()['id']}").get_json()
    assert report3["updated"] == 1 and report3["created"] == 0
    db_session.expire_all()
    first = db_session.get(Prospect, first.id)
    assert first.registered_capital_cents == 800 * 10_000 * 100 and first.version == 2
    assert db_session.get(ProspectImport, import_id).content is None  # the file is dropped once loaded


def test_files_are_bounded_before_parsing(admin, source, app):
    settings = app.config["SETTINGS"]
    too_big = HEADER.encode() + b"x" * (settings.PROSPECT_UPLOAD_MAX_BYTES + 1)
    r = upload(admin, source, too_big)
    assert r.status_code == 422 and r.get_json()["code"] == "prospect-file-too-large"
    # A zip bomb: tiny on the wire, huge when unpacked, refused from the zip directory alone.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (settings.PROSPECT_UPLOAD_MAX_UNCOMPRESSED + 1))
    r = upload(admin, source, buffer.getvalue(), "bomb.xlsx")
    assert r.status_code == 422 and r.get_json()["code"] == "prospect-file-too-large"
    # Too many rows: refused by the job while reading, before any row is stored.
    settings.PROSPECT_UPLOAD_MAX_ROWS, limit = 5, settings.PROSPECT_UPLOAD_MAX_ROWS
    try:
        with app.app_context(), pytest.raises(Problem) as caught:
            extracts.read_rows(
                "x.csv", (HEADER + "".join(f"上海{k}有限公司,{credit_code()}\n" for k in range(7))).encode()
            )
        assert caught.value.code == "prospect-file-too-many-rows"
    finally:
        settings.PROSPECT_UPLOAD_MAX_ROWS = limit


def test_xlsx_uploads_load_like_csv(admin, source, worker, sinks, db_session):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["企业名称", "统一社会信用代码", "行业代码", "规模", "注册资本(万元)", "成立日期"])
    code = credit_code("320100")
    sheet.append(["南京某某软件有限公司", code, "I65", "小型", 300, "2019-09-09"])
    buffer = io.BytesIO()
    book.save(buffer)
    r = upload(admin, source, buffer.getvalue(), "registry.xlsx")
    assert r.status_code == 202
    worker.work(burst=True)
    prospect = db_session.exec(select(Prospect).where(Prospect.credit_code == code)).one()
    assert prospect.region_code == "320100" and prospect.industry_code == "I65"


def test_only_admins_upload_and_only_to_upload_sources(login, db_session, source):
    rm = login(factories.make_user(db_session))
    assert upload(rm, source, HEADER.encode()).status_code == 403
    admin = login(factories.make_user(db_session, role=Role.admin, persona=None))
    feed = IntelSource(name="rss", kind="feed", url="https://example.com/rss", category="policy")
    db_session.add(feed)
    db_session.commit()
    r = upload(admin, feed, HEADER.encode())
    assert r.status_code == 409 and r.get_json()["code"] == "not-upload"
