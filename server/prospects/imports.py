"""Registry extracts (工商登记摘录, park member lists, tender winners) uploaded by an admin to an
intel upload source, loaded into prospects by an RQ job.

- Bounded before parsing: the file's bytes, an XLSX's uncompressed size (from the zip directory),
  and the row count (reading stops past the limit and the file is refused).
- Validated per row: a bad row is reported with its line and reason; the other rows still load.
- Idempotent: the same file on the same source is one import; a row is an upsert by credit code,
  so a re-upload adds nothing and a row that changes nothing is counted `unchanged`.
- Resumable: rows are written in batches, each committed with the progress, so a worker killed
  mid-job leaves whole batches; the retried job starts after the last committed one.
- A JSON source (a bank's registry API) is fetched by the same job through the guarded client
  (server/outbound.py: no internal address unless allow-listed), page by page when the API pages
  its answer (server/prospects/registry.py), then loads like a file.
- Every field written remembers its source and date in `field_sources`. A credit code that belongs to
  a customer is stored `merged` (never shown), one that becomes a customer later `converted`."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import uuid
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from server import events, outbound
from server.audit import service as audit
from server.customers.models import CorporateProfile
from server.db import row_id
from server.errors import Problem, forbidden, not_found
from server.intel.fetch import FetchError, fetch
from server.intel.models import IntelSource, SourceKind
from server.org.models import Role, User
from server.prospects import registry
from server.prospects.conversions import record_conversions
from server.prospects.models import (
    LINK_LABELS,
    LinkKind,
    Prospect,
    ProspectImport,
    ProspectLink,
    ProspectStatus,
)
from server.reference import INDUSTRIES, REGIONS
from server.timeutil import iso, utcnow
from server.validators import is_valid_credit_code

EVENT_IMPORT = "prospects.import_requested"  # {import_id}
BATCH = 500
MAX_ERRORS = 500
HEADERS = {
    "企业名称": "name", "名称": "name", "name": "name",
    "统一社会信用代码": "credit_code", "信用代码": "credit_code", "credit_code": "credit_code",
    "行业代码": "industry_code", "industry_code": "industry_code",
    "规模": "size", "企业规模": "size", "size": "size",
    "所有制": "ownership", "企业类型": "ownership", "ownership": "ownership",
    "注册资本(万元)": "capital_wan", "注册资本（万元）": "capital_wan", "注册资本": "capital_wan", "capital_wan": "capital_wan",
    "成立日期": "founded_on", "founded_on": "founded_on",
    "地址": "address", "注册地址": "address", "address": "address",
    "地区代码": "region_code", "行政区划代码": "region_code", "region_code": "region_code",
    "纬度": "latitude", "latitude": "latitude", "lat": "latitude",
    "经度": "longitude", "longitude": "longitude", "lng": "longitude",
    "园区": "park", "所在园区": "park", "park": "park",
    "供货给(客户信用代码)": "supplier_of", "供货客户": "supplier_of", "supplier_of": "supplier_of",
    "采购自(客户信用代码)": "buyer_of", "采购客户": "buyer_of", "buyer_of": "buyer_of",
    "股东(客户信用代码)": "subsidiary_of", "subsidiary_of": "subsidiary_of",
}  # fmt: skip
SIZE_WORDS = {"大型": "large", "中型": "medium", "小型": "small", "微型": "micro"}
OWNERSHIP_WORDS = {
    "央企": "central_soe",
    "地方国企": "local_soe",
    "国企": "local_soe",
    "民营": "private",
    "外资": "foreign",
    "机关事业单位": "government",
}
FIELDS = (
    "name",
    "industry_code",
    "size",
    "ownership",
    "registered_capital_cents",
    "founded_on",
    "address",
    "region_code",
    "latitude",
    "longitude",
    "park",
)
LINK_COLUMNS = {
    "supplier_of": LinkKind.supplier,
    "buyer_of": LinkKind.buyer,
    "subsidiary_of": LinkKind.subsidiary,
}


def _limits() -> tuple[int, int, int]:
    if has_app_context():
        s = current_app.config["SETTINGS"]
        return s.PROSPECT_UPLOAD_MAX_BYTES, s.PROSPECT_UPLOAD_MAX_ROWS, s.PROSPECT_UPLOAD_MAX_UNCOMPRESSED
    return 700 * 1024, 20_000, 20 * 1024 * 1024


def _fetch_limits() -> tuple[int, int]:
    if has_app_context():
        s = current_app.config["SETTINGS"]
        return s.PROSPECT_FETCH_MAX_PAGES, s.PROSPECT_FETCH_MAX_PAGE_ITEMS
    return 50, 1000


def _bad(detail: str, code: str) -> Problem:
    return Problem(422, "Unprocessable Content", detail, code=code)


def check_bounds(filename: str, content: bytes) -> None:
    """Refuses a file before any parsing: bytes, then an XLSX's declared uncompressed size."""
    max_bytes, _rows, max_unpacked = _limits()
    if len(content) > max_bytes:
        raise _bad(f"The file is larger than {max_bytes} bytes.", "prospect-file-too-large")
    if filename.lower().endswith(".xlsx") or content[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                if sum(info.file_size for info in archive.infolist()) > max_unpacked:
                    raise _bad("The workbook unpacks to too much data.", "prospect-file-too-large")
        except zipfile.BadZipFile:
            raise _bad("Not an XLSX workbook.", "prospect-file-unreadable") from None


def read_json_rows(content: bytes, mapping: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """(item number from 1, row by field name) from a registry API's answer, or from the pages a
    paged fetch kept (numbered across pages). `mapping["items"]` is the dotted path to the list
    (none: the answer is the list, or its `items`/`data`); `mapping["fields"]` renames the API's
    own keys ({"name": "entName", ...}); otherwise the keys are the file columns' (Chinese or
    English)."""
    _bytes, max_rows, _unpacked = _limits()
    kept = registry.read_envelope(content)
    if kept is not None:
        data: Any = [item for page in kept[registry.ENVELOPE] for item in page]
    else:
        try:
            data = registry.items_of(json.loads(content.decode("utf-8-sig")), mapping)
        except (UnicodeDecodeError, ValueError):
            raise _bad("The answer is not JSON.", "prospect-json-unreadable") from None
    if not isinstance(data, list):
        raise _bad("No list of items where the mapping points.", "prospect-json-items")
    if len(data) > max_rows:
        raise _bad(f"More than {max_rows} rows.", "prospect-file-too-many-rows")
    renames = {str(v): str(k) for k, v in (mapping.get("fields") or {}).items() if k in HEADERS.values()}
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            rows.append((number, {}))  # reported as a bad row (no name)
            continue
        row: dict[str, Any] = {}
        for raw_key, value in item.items():
            name = renames.get(str(raw_key)) or HEADERS.get(str(raw_key).strip())
            if name and not isinstance(value, dict | list):
                row[name] = value.strip() if isinstance(value, str) else value
        rows.append((number, row))
    if not rows:
        raise _bad("The answer holds no items.", "prospect-file-empty")
    return rows


def read_rows(
    filename: str, content: bytes, mapping: dict[str, Any] | None = None
) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row by field name); reading stops, and the file is refused, past the row limit."""
    _bytes, max_rows, _unpacked = _limits()
    if filename.lower().endswith(".json"):
        # Bounded already: an upload when it was stored, a fetched page while it streamed.
        return read_json_rows(content, mapping or {})
    check_bounds(filename, content)
    values: list[list[Any]] = []
    if filename.lower().endswith(".xlsx") or content[:2] == b"PK":
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception:
            raise _bad("Not a readable XLSX workbook.", "prospect-file-unreadable") from None
        try:
            for row in book.worksheets[0].iter_rows(values_only=True):
                values.append(list(row))
                if len(values) > max_rows + 1:
                    raise _bad(f"More than {max_rows} rows.", "prospect-file-too-many-rows")
        finally:
            book.close()
    else:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = content.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise _bad("The CSV is neither UTF-8 nor GB18030.", "prospect-file-unreadable")
        if "\x00" in text:
            raise _bad("The CSV holds binary data.", "prospect-file-unreadable")
        try:
            for row in csv.reader(io.StringIO(text)):
                values.append(list(row))
                if len(values) > max_rows + 1:
                    raise _bad(f"More than {max_rows} rows.", "prospect-file-too-many-rows")
        except csv.Error:
            raise _bad("The CSV is malformed.", "prospect-file-unreadable") from None
    if not values:
        raise _bad("The file is empty.", "prospect-file-empty")
    header = [HEADERS.get(str(h or "").strip()) for h in values[0]]
    if "name" not in header or "credit_code" not in header:
        raise _bad("The file needs 企业名称 and 统一社会信用代码 columns.", "prospect-file-columns")
    rows = []
    for line, data in enumerate(values[1:], start=2):
        if not any(v not in (None, "") for v in data):
            continue
        rows.append(
            (
                line,
                {
                    name: (data[i].strip() if isinstance(data[i], str) else data[i])
                    for i, name in enumerate(header)
                    if name and i < len(data)
                },
            )
        )
    return rows


@dataclass
class RowError(Exception):
    field: str
    reason: str


def _region(value: Any) -> str | None:
    if value in (None, ""):
        return None
    code = str(value).strip()
    if not re.fullmatch(r"\d{6}", code):
        raise RowError("region_code", "地区代码应为6位数字(GB/T 2260)")
    for candidate in (code, code[:4] + "00", code[:2] + "0000"):
        if candidate in REGIONS:
            return candidate
    raise RowError("region_code", "地区不在本行服务城市内")


def _number(value: Any, field: str, low: float, high: float) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(Decimal(str(value).replace(",", "")))
    except (InvalidOperation, ValueError):
        raise RowError(field, "不是数字") from None
    if not (low <= number <= high) or math.isnan(number):
        raise RowError(field, "超出范围")
    return number


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-").replace("年", "-").replace("月", "-").rstrip("日")
    try:
        parsed = date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")))
    except ValueError:
        raise RowError("founded_on", "日期格式应为YYYY-MM-DD") from None
    if parsed > utcnow().date() or parsed.year < 1949:
        raise RowError("founded_on", "日期不合理")
    return parsed


def validate_row(row: dict[str, Any]) -> dict[str, Any]:
    """The prospect's fields from one row, or RowError naming the first bad field."""
    name = str(row.get("name") or "").strip()
    if not (2 <= len(name) <= 128):
        raise RowError("name", "企业名称缺失或过长")
    code = str(row.get("credit_code") or "").strip().upper()
    if not is_valid_credit_code(code):
        raise RowError("credit_code", "统一社会信用代码无效(GB 32100 校验位不符)")
    industry = str(row.get("industry_code") or "").strip().upper() or None
    if industry is not None and industry not in INDUSTRIES:
        raise RowError("industry_code", "行业代码不在GB/T 4754门类大类表中")
    size = row.get("size")
    if size not in (None, ""):
        size = SIZE_WORDS.get(str(size).removesuffix("企业"), str(size))
        if size not in ("large", "medium", "small", "micro"):
            raise RowError("size", "规模应为大型/中型/小型/微型")
    else:
        size = None
    ownership = row.get("ownership")
    if ownership not in (None, ""):
        ownership = OWNERSHIP_WORDS.get(str(ownership), str(ownership))
        if ownership not in ("government", "central_soe", "local_soe", "private", "foreign"):
            raise RowError("ownership", "所有制类型未知")
    else:
        ownership = None
    capital = _number(row.get("capital_wan"), "capital_wan", 0, 1e9)
    lat = _number(row.get("latitude"), "latitude", 3, 54)
    lng = _number(row.get("longitude"), "longitude", 73, 136)
    if (lat is None) != (lng is None):
        raise RowError("latitude", "经纬度须同时提供")
    region = _region(row.get("region_code"))
    if region is None:  # the code's own registration region (characters 3-8)
        try:
            region = _region(code[2:8])
        except RowError:
            region = None
    if lat is None and region is not None:  # no coordinates: the city centre, spread by the code
        spread = int(hashlib.sha256(code.encode()).hexdigest()[:8], 16)
        lat = round(REGIONS[region]["lat"] + ((spread % 1000) / 1000 - 0.5) * 0.1, 6)
        lng = round(REGIONS[region]["lng"] + (((spread // 1000) % 1000) / 1000 - 0.5) * 0.12, 6)
    links = {}
    for column in LINK_COLUMNS:
        other = str(row.get(column) or "").strip().upper()
        if other:
            if not is_valid_credit_code(other):
                raise RowError(column, "关联客户的信用代码无效")
            links[column] = other
    address = str(row.get("address") or "").strip()[:255] or None
    park = str(row.get("park") or "").strip()[:64] or None
    return {
        "credit_code": code,
        "name": name,
        "industry_code": industry,
        "size": size,
        "ownership": ownership,
        "registered_capital_cents": None if capital is None else int(round(capital * 10_000 * 100)),
        "founded_on": _date(row.get("founded_on")),
        "address": address,
        "region_code": region,
        "latitude": lat,
        "longitude": lng,
        "park": park,
        "_links": links,
    }


def start_import(
    session: Session, *, actor: User, source_id: int, filename: str, content: bytes, ip: str | None
) -> tuple[ProspectImport, bool]:
    """Stores the file and queues the job; (import, created). The same file again is the same import."""
    if actor.role != Role.admin:
        raise forbidden("Only admins upload registry extracts.")
    source = session.get(IntelSource, source_id)
    if source is None:
        raise not_found("source")
    if source.kind != SourceKind.upload:
        raise Problem(409, "Conflict", "Files are uploaded only to upload sources.", code="not-upload")
    check_bounds(filename, content)
    digest = hashlib.sha256(content).hexdigest()
    existing = session.exec(
        select(ProspectImport).where(
            col(ProspectImport.source_id) == source_id, col(ProspectImport.digest) == digest
        )
    ).first()
    if existing is not None:
        return existing, False
    batch = ProspectImport(
        source_id=source_id, digest=digest, filename=filename[:128], content=content, created_by=actor.id
    )
    session.add(batch)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        existing = session.exec(
            select(ProspectImport).where(
                col(ProspectImport.source_id) == source_id, col(ProspectImport.digest) == digest
            )
        ).first()
        if existing is None:
            raise
        return existing, False
    audit.record(
        session,
        actor_id=actor.id,
        action="prospect.import",
        object_type="prospect_import",
        object_id=batch.id,
        ip=ip,
        detail={"filename": filename[:128], "digest": digest, "bytes": len(content)},
    )
    events.publish(session, EVENT_IMPORT, {"import_id": batch.id})
    session.commit()
    return batch, True


def start_fetch(
    session: Session, *, actor: User, source_id: int, policy: outbound.Policy, ip: str | None
) -> ProspectImport:
    """Queues a load from a JSON source (a bank's registry API). The URL is checked now, so an
    internal address is refused at once; the job checks again on every connection it makes. Each
    fetch is its own import; the upsert by credit code keeps a repeated answer from adding anything."""
    if actor.role != Role.admin:
        raise forbidden("Only admins load registry data.")
    source = session.get(IntelSource, source_id)
    if source is None:
        raise not_found("source")
    if source.kind != SourceKind.json or not source.url:
        raise Problem(409, "Conflict", "Only JSON sources with a URL are fetched.", code="not-json")
    try:
        outbound.check_url(source.url, policy)
    except outbound.OutboundRefused as exc:
        raise _bad(exc.message, "prospect-source-refused") from None
    try:
        registry.paging_of(source.mapping or {}, max_page_items=_fetch_limits()[1])
    except registry.PagingError as exc:
        raise _bad(exc.message, exc.code) from None
    batch = ProspectImport(
        source_id=source_id,
        digest=f"fetch:{uuid.uuid4().hex}",
        filename=f"{source.name[:100]}.json",
        content=None,  # the job fetches it
        created_by=actor.id,
    )
    session.add(batch)
    session.flush()
    audit.record(
        session,
        actor_id=actor.id,
        action="prospect.import",
        object_type="prospect_import",
        object_id=batch.id,
        ip=ip,
        detail={"source_id": source_id, "fetch": True},
    )
    events.publish(session, EVENT_IMPORT, {"import_id": batch.id})
    session.commit()
    return batch


def list_imports(session: Session, *, limit: int = 20, offset: int = 0) -> dict[str, Any]:
    """The most recent imports first, a page at a time (without their errors: `import_errors`)."""
    found = session.exec(
        select(ProspectImport).order_by(col(ProspectImport.id).desc()).offset(offset).limit(limit + 1)
    ).all()
    return {
        "items": [import_public(b, with_errors=False) for b in found[:limit]],
        "limit": limit,
        "offset": offset,
        "has_more": len(found) > limit,
    }


def import_errors(batch: ProspectImport, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """One import's bad rows (or its failure), a page at a time, in the order they were found."""
    errors = batch.errors or []
    return {
        "items": errors[offset : offset + limit],
        "total": len(errors),
        "limit": limit,
        "offset": offset,
        "has_more": offset + limit < len(errors),
    }


def _fetch_failed(
    session: Session, batch: ProspectImport, *, code: str, reason: str, page: int | None
) -> bool:
    """The fetch failed for good: nothing of it is loaded, and the error names the page."""
    error = {"line": None, "field": None, "page": page, "reason": reason[:500], "code": code}
    batch.status, batch.errors, batch.finished_at, batch.content = "failed", [error], utcnow(), None
    session.add(batch)
    session.commit()
    return False


def fetch_pending(batch: ProspectImport) -> bool:
    """A fetch import whose answer is not (all) read yet."""
    if not batch.digest.startswith("fetch:"):
        return False
    if batch.content is None:
        return True
    kept = registry.read_envelope(batch.content)
    return kept is not None and kept.get("next") is not None


def _fetch_content(
    session: Session, batch: ProspectImport, source: IntelSource, *, final_attempt: bool
) -> bool:
    """Reads a JSON source's answer into the import, page by page, each page committed as soon as
    it is read, so a retried job resumes at the page that failed. False when the import failed for
    good (the error names the page); a transient failure raises for the job's retry (and on the
    final attempt fails the import)."""
    max_bytes, max_rows, _unpacked = _limits()
    max_pages, max_page_items = _fetch_limits()
    settings = current_app.config["SETTINGS"] if has_app_context() else None
    policy = outbound.policy_for(settings) if settings is not None else outbound.Policy()
    mapping = source.mapping or {}
    source_url = source.url or ""
    try:
        paging = registry.paging_of(mapping, max_page_items=max_page_items)
    except registry.PagingError as exc:
        return _fetch_failed(session, batch, code=exc.code, reason=exc.message, page=None)
    kept = registry.read_envelope(batch.content) or {
        registry.ENVELOPE: [],
        "next": registry.page_url(source_url, paging, 0, 0),
        "urls": [],
    }
    # An API that does not page may answer the whole list at once, up to the row limit.
    page_cap = max_rows if paging.mode == "single" else max_page_items
    pages: list[list] = kept[registry.ENVELOPE]
    urls: list[str] = kept["urls"]
    url: str | None = kept["next"]
    while url is not None:
        index = len(pages)
        page = index + 1
        if index >= max_pages:
            return _fetch_failed(
                session,
                batch,
                code="prospect-fetch-too-many-pages",
                reason=f"The API has more than {max_pages} pages.",
                page=page,
            )
        try:
            fetched = fetch(url, max_bytes=max_bytes, policy=policy)
        except FetchError as exc:
            code, reason = f"prospect-fetch-{exc.code}", f"Page {page}: {exc.message}"
            if exc.transient and not final_attempt:
                # Shown while the job waits for its retry, which starts again at this page.
                batch.errors = [{"line": None, "field": None, "page": page, "reason": reason, "code": code}]
                session.add(batch)
                session.commit()
                raise
            return _fetch_failed(session, batch, code=code, reason=reason, page=page)
        try:
            data, items = registry.read_page(fetched.body, mapping, page=page, max_page_items=page_cap)
            total = sum(len(p) for p in pages) + len(items)
            if total > max_rows:
                raise registry.PagingError(
                    "prospect-file-too-many-rows", f"Page {page}: more than {max_rows} items in all."
                )
            following = registry.next_after(
                paging,
                source_url=source_url,
                url=url,
                data=data,
                items=items,
                index=index,
                total=total,
                previous=pages[-1] if pages else None,
                seen={*urls, url},
            )
        except registry.PagingError as exc:
            return _fetch_failed(session, batch, code=exc.code, reason=exc.message, page=page)
        pages.append(items)
        urls.append(url)
        url = following
        batch.content, batch.errors = registry.envelope(pages, url, urls), []
        session.add(batch)
        session.commit()
    return True


def import_public(batch: ProspectImport, *, with_errors: bool = True) -> dict[str, Any]:
    out = {
        "id": batch.id,
        "source_id": batch.source_id,
        "kind": "fetch" if batch.digest.startswith("fetch:") else "file",
        "filename": batch.filename,
        "status": batch.status,
        "rows": batch.rows,
        "processed": batch.processed,
        "created": batch.created,
        "updated": batch.updated,
        "unchanged": batch.unchanged,
        "merged": batch.merged,
        "errors": batch.errors,
        "error_count": len(batch.errors or []),
        "created_at": iso(batch.created_at),
        "finished_at": iso(batch.finished_at) if batch.finished_at else None,
    }
    if not with_errors:
        del out["errors"]
    return out


def _apply(
    session: Session,
    *,
    fields: dict[str, Any],
    stamp: dict[str, Any],
    source_id: int,
    customers: dict[str, int],
    existing: dict[str, Prospect],
) -> str:
    links = fields.pop("_links")
    code = fields["credit_code"]
    prospect = existing.get(code)
    outcome = "unchanged"
    if prospect is None:
        merged_into = customers.get(code)
        prospect = Prospect(
            **fields,
            status=ProspectStatus.merged if merged_into else ProspectStatus.open,
            customer_id=merged_into,
            field_sources={f: stamp for f in ("credit_code", *FIELDS) if fields.get(f) is not None},
        )
        session.add(prospect)
        if links:
            session.flush()  # its id, for the links below
        outcome = "merged" if merged_into else "created"
    else:
        changed = {
            f: fields[f] for f in FIELDS if fields.get(f) is not None and getattr(prospect, f) != fields[f]
        }
        if changed:
            for f, v in changed.items():
                setattr(prospect, f, v)
            prospect.field_sources = {**prospect.field_sources, **{f: stamp for f in changed}}
            prospect.version += 1
            prospect.updated_at = utcnow()
            session.add(prospect)
            outcome = "updated"
    for column, other in links.items():
        customer_id = customers.get(other)
        if customer_id is None:
            continue  # not our customer: nothing ties the prospect to the book
        kind = LINK_COLUMNS[column]
        exists = session.exec(
            select(ProspectLink.id).where(
                col(ProspectLink.prospect_id) == prospect.id,
                col(ProspectLink.kind) == kind,
                col(ProspectLink.customer_id) == customer_id,
            )
        ).first()
        if exists is None:
            session.add(
                ProspectLink(
                    prospect_id=row_id(prospect),
                    kind=kind,
                    customer_id=customer_id,
                    label=LINK_LABELS[kind],
                    source_id=source_id,
                )  # type: ignore[arg-type]
            )
            if outcome == "unchanged":
                outcome = "updated"
    return outcome


def run_import(session: Session, *, import_id: int, final_attempt: bool = True) -> dict[str, Any]:
    batch = session.get(ProspectImport, import_id)
    if batch is None or batch.status in ("done", "failed"):
        return {"skipped": True}
    source = session.get(IntelSource, batch.source_id)
    if source is not None and fetch_pending(batch):
        if not _fetch_content(session, batch, source, final_attempt=final_attempt):
            return {"failed": batch.errors[0]["code"]}
    stamp = {
        "source": source.name if source else "?",
        "source_id": batch.source_id,
        "at": batch.created_at.date().isoformat(),
    }
    try:
        rows = read_rows(batch.filename, batch.content or b"", source.mapping if source else None)
    except Problem as exc:
        batch.status = "failed"
        batch.errors = [{"line": None, "field": None, "reason": exc.detail, "code": exc.code}]
        batch.finished_at = utcnow()
        batch.content = None
        session.add(batch)
        session.commit()
        return {"failed": exc.code}
    page_of = registry.page_of_item(batch.content)  # a paged fetch's errors name the page too
    start = batch.processed  # a retried job resumes after the last committed batch
    batch.status, batch.rows = "running", len(rows)
    session.add(batch)
    session.commit()
    codes = {str(r.get(c) or "").strip().upper() for _l, r in rows for c in ("credit_code", *LINK_COLUMNS)}
    customers = (
        dict(
            session.exec(
                select(CorporateProfile.credit_code, CorporateProfile.customer_id).where(
                    col(CorporateProfile.credit_code).in_(codes)
                )
            ).all()
        )
        if codes
        else {}
    )
    seen: set[str] = set(str(r.get("credit_code") or "").strip().upper() for _l, r in rows[:start])
    for at in range(start, len(rows), BATCH):
        counts = {"created": 0, "updated": 0, "unchanged": 0, "merged": 0}
        errors: list[dict[str, Any]] = []
        chunk = rows[at : at + BATCH]
        chunk_codes = [str(r.get("credit_code") or "").strip().upper() for _l, r in chunk]
        existing = {
            p.credit_code: p
            for p in session.exec(select(Prospect).where(col(Prospect.credit_code).in_(chunk_codes))).all()
            if p.credit_code
        }
        for line, row in chunk:
            try:
                fields = validate_row(row)
                if fields["credit_code"] in seen:
                    raise RowError("credit_code", "文件中重复的统一社会信用代码")
                seen.add(fields["credit_code"])
                counts[
                    _apply(
                        session,
                        fields=fields,
                        stamp=stamp,
                        source_id=batch.source_id,
                        customers=customers,
                        existing=existing,
                    )
                ] += 1
            except RowError as exc:
                error = {"line": line, "field": exc.field, "reason": exc.reason}
                errors.append({**error, "page": page_of(line)} if page_of else error)
        processed = min(len(rows), at + BATCH)
        # The batch's rows and the progress that covers them commit together.
        session.execute(
            update(ProspectImport)
            .where(col(ProspectImport.id) == import_id)
            .values(
                processed=processed,
                created=ProspectImport.created + counts["created"],
                updated=ProspectImport.updated + counts["updated"],
                unchanged=ProspectImport.unchanged + counts["unchanged"],
                merged=ProspectImport.merged + counts["merged"],
            )
        )
        if errors:
            session.refresh(batch)
            batch.errors = (batch.errors + errors)[:MAX_ERRORS]
            session.add(batch)
        session.commit()
    session.execute(
        update(ProspectImport)
        .where(col(ProspectImport.id) == import_id)
        .values(status="done", finished_at=utcnow(), content=None)
    )
    session.commit()
    record_conversions(session)
    session.refresh(batch)
    return import_public(batch)
