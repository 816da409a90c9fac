"""CSV/XLSX import into the pool. Every row is validated first; one bad row imports nothing (the
report names each bad row and field), and a file already imported (same SHA-256) creates nothing new."""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from server.audit import service as audit
from server.config import Settings
from server.customers.service import readable_ids
from server.db import row_id
from server.errors import Problem, conflict, forbidden, unprocessable
from server.offload import cooperate
from server.opportunities import lifecycle
from server.opportunities.models import OpportunityImport, OpportunitySource
from server.opportunities.schemas import OpportunityCreate
from server.org.models import Role, User
from server.products.models import Product
from server.timeutil import iso, utcnow
from server.uploads import Limits, UploadError, read_table

MAX_ROWS = 2000
# Header aliases: the bank's spreadsheets use Chinese column names.
HEADERS = {
    "title": "title",
    "标题": "title",
    "商机": "title",
    "customer_id": "customer_id",
    "客户编号": "customer_id",
    "prospect_name": "prospect_name",
    "客户名称": "prospect_name",
    "customer_kind": "customer_kind",
    "客户类型": "customer_kind",
    "region_code": "region_code",
    "地区代码": "region_code",
    "industry_code": "industry_code",
    "行业代码": "industry_code",
    "size": "size",
    "规模": "size",
    "tier": "tier",
    "客户等级": "tier",
    "product_code": "product_code",
    "产品代码": "product_code",
    "estimated_amount": "estimated_amount",
    "预计金额": "estimated_amount",
    "expected_date": "expected_date",
    "预计日期": "expected_date",
    "visibility": "visibility",
    "可见范围": "visibility",
    "note": "note",
    "备注": "note",
}


def _bad(detail: str) -> Problem:
    return unprocessable(detail, code="bad-file")


def _decode(content_base64: str) -> bytes:
    try:
        return base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise _bad("content_base64 is not valid base64.") from None


def _read_rows(filename: str, raw: bytes, *, settings: Settings) -> list[dict[str, Any]]:
    limits = Limits.from_settings(settings, max_rows=MAX_ROWS)
    try:
        values = read_table(raw, filename=filename, limits=limits)
    except UploadError as exc:
        raise _bad(exc.message) from None
    header = [HEADERS.get(str(h or "").strip().lower(), HEADERS.get(str(h or "").strip())) for h in values[0]]
    unknown = [
        str(values[0][i]) for i, h in enumerate(header) if h is None and values[0][i] not in (None, "")
    ]
    if unknown:
        raise _bad(f"Unknown columns: {', '.join(unknown)}.")
    if "title" not in header:
        raise _bad("The file needs a title (标题) column.")
    rows = []
    for line, data in enumerate(values[1:], start=2):
        row: dict[str, Any] = {"_row": line}
        for i, name in enumerate(header):
            if name and i < len(data):
                value = data[i]
                row[name] = value.strip() if isinstance(value, str) else value
        rows.append(row)
    return rows


def _cents(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        raise ValueError("not a number") from None
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError("must be yuan with at most 2 decimals, not negative")
    return int(amount * 100)


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError("use YYYY-MM-DD") from None


def validate_rows(
    session: Session, *, user: User, rows: list[dict[str, Any]]
) -> tuple[list[tuple[int, OpportunityCreate]], list[dict[str, Any]]]:
    """Checks every row (lookups done once for the whole file); returns the valid ones and the errors."""
    codes = {str(r["product_code"]) for r in rows if r.get("product_code")}
    products = (
        dict(session.exec(select(Product.code, Product.id).where(col(Product.code).in_(codes))).all())
        if codes
        else {}
    )
    customer_ids: set[int] = set()
    for r in rows:
        try:
            if r.get("customer_id") not in (None, ""):
                customer_ids.add(int(r["customer_id"]))
        except (TypeError, ValueError):
            pass
    readable = readable_ids(session, user=user, customer_ids=customer_ids)
    valid: list[tuple[int, OpportunityCreate]] = []
    errors: list[dict[str, Any]] = []
    for index, r in enumerate(rows):
        if index % 100 == 99:
            cooperate()
        line = r["_row"]
        row_errors: list[dict[str, Any]] = []
        data: dict[str, Any] = {"source": OpportunitySource.import_.value, "share": True}
        for name in (
            "title",
            "prospect_name",
            "customer_kind",
            "region_code",
            "industry_code",
            "size",
            "tier",
            "visibility",
            "note",
        ):
            if r.get(name) not in (None, ""):
                data[name] = str(r[name])
        if r.get("customer_id") not in (None, ""):
            try:
                cid = int(r["customer_id"])
                if cid not in readable:
                    row_errors.append(
                        {
                            "row": line,
                            "field": "customer_id",
                            "code": "not-your-customer",
                            "message": "no such customer of yours",
                        }
                    )
                data["customer_id"] = cid
            except (TypeError, ValueError):
                row_errors.append(
                    {"row": line, "field": "customer_id", "code": "not-a-number", "message": "not a number"}
                )
        if r.get("product_code"):
            pid = products.get(str(r["product_code"]))
            if pid is None:
                row_errors.append(
                    {
                        "row": line,
                        "field": "product_code",
                        "code": "unknown-product",
                        "message": "unknown product code",
                    }
                )
            data["product_id"] = pid
        for name, parse, target in (
            ("estimated_amount", _cents, "estimated_amount_cents"),
            ("expected_date", _date, "expected_date"),
        ):
            try:
                parsed = parse(r.get(name))
                if parsed is not None:
                    data[target] = parsed
            except ValueError as exc:
                row_errors.append({"row": line, "field": name, "code": f"bad-{name}", "message": str(exc)})
        try:
            parsed_row = OpportunityCreate.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(p) for p in err.get("loc", ())) or None
                row_errors.append(
                    {
                        "row": line,
                        "field": field,
                        "code": err.get("type", "invalid"),
                        "message": err.get("msg", "invalid"),
                    }
                )
            parsed_row = None
        if parsed_row is not None and parsed_row.visibility.value == "team" and user.team_id is None:
            row_errors.append(
                {"row": line, "field": "visibility", "code": "no-team", "message": "you are in no team"}
            )
        if row_errors:
            errors.extend(row_errors)
        elif parsed_row is not None:
            valid.append((line, parsed_row))
    return valid, errors


def import_file(
    session: Session,
    *,
    user: User,
    filename: str,
    content_base64: str,
    dry_run: bool,
    ip: str | None,
    settings: Settings,
) -> tuple[int, dict[str, Any]]:
    """Returns (HTTP status, report). The file is read within the upload limits of `settings`."""
    if user.role not in (Role.rm, Role.team_lead, Role.admin):
        raise forbidden("Only bank staff import opportunities.")
    raw = _decode(content_base64)
    digest = hashlib.sha256(raw).hexdigest()
    previous = session.exec(select(OpportunityImport).where(OpportunityImport.digest == digest)).first()
    if previous is not None:
        return 200, {
            "already_imported": True,
            "import_id": previous.id,
            "imported_at": iso(previous.created_at),
            "rows": previous.row_count,
            "created": 0,
            "errors": [],
        }
    rows = _read_rows(filename, raw, settings=settings)
    valid, errors = validate_rows(session, user=user, rows=rows)
    report: dict[str, Any] = {
        "already_imported": False,
        "rows": len(rows),
        "valid": len(valid),
        "errors": errors,
    }
    if errors:
        # All or nothing: a file with any bad row imports nothing, so a fixed file can be sent again.
        raise unprocessable(
            f"{len({e['row'] for e in errors})} of {len(rows)} rows have errors; nothing was imported.",
            code="import-invalid",
            errors=errors,
            rows=len(rows),
        )
    if dry_run:
        return 200, {**report, "created": 0, "dry_run": True}
    now = utcnow()
    batch = OpportunityImport(
        digest=digest, filename=filename[:128], importer_id=row_id(user), row_count=len(rows)
    )  # type: ignore[arg-type]
    session.add(batch)
    try:
        session.flush()  # the unique digest makes a concurrent second import of this file fail here
    except IntegrityError:
        session.rollback()
        raise conflict("This file is being imported already.", code="import-duplicate") from None
    created = []
    for index, (_line, data) in enumerate(valid):
        if index % 10 == 9:
            cooperate()  # 2,000 rows take seconds: let the process serve others meanwhile
        opp = lifecycle.create_opportunity(
            session, user=user, data=data, ip=ip, now=now, import_id=batch.id, commit=False
        )
        created.append(opp.id)
    batch.created_count = len(created)
    session.add(batch)
    audit.record(
        session,
        actor_id=user.id,
        action="opportunity.import",
        object_type="opportunity_import",
        object_id=batch.id,
        ip=ip,
        detail={"filename": filename[:128], "digest": digest, "created": len(created)},
    )
    session.commit()
    return 201, {**report, "import_id": batch.id, "created": len(created), "opportunity_ids": created}
