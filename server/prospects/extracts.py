"""Registry extracts (工商登记摘录, park member lists, tender winners) read into rows and checked,
for the import job (server/prospects/loading.py).

- Bounded before parsing: the file's bytes, an XLSX's uncompressed size (from the zip directory),
  and the row count (reading stops past the limit and the file is refused).
- Validated per row: a bad row is reported with its line and reason; the other rows still load.
- A JSON source's answer (one or the pages a paged fetch kept, server/prospects/registry.py) is read
  into the same rows as a file, its keys mapped to the file's columns."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app, has_app_context

from server.errors import unprocessable
from server.prospects import registry
from server.prospects.models import LinkKind
from server.reference import INDUSTRIES, REGIONS
from server.timeutil import utcnow
from server.validators import is_valid_credit_code

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
# a column naming a customer the prospect is tied to -> the kind of tie
LINK_COLUMNS = {
    "supplier_of": LinkKind.supplier,
    "buyer_of": LinkKind.buyer,
    "subsidiary_of": LinkKind.subsidiary,
}


def upload_limits() -> tuple[int, int, int]:
    """(bytes, rows, uncompressed bytes) an extract may hold; defaults outside the app."""
    if has_app_context():
        s = current_app.config["SETTINGS"]
        return s.PROSPECT_UPLOAD_MAX_BYTES, s.PROSPECT_UPLOAD_MAX_ROWS, s.PROSPECT_UPLOAD_MAX_UNCOMPRESSED
    return 700 * 1024, 20_000, 20 * 1024 * 1024


def fetch_limits() -> tuple[int, int]:
    """(pages, items on a page) a registry API's answer may hold; defaults outside the app."""
    if has_app_context():
        s = current_app.config["SETTINGS"]
        return s.PROSPECT_FETCH_MAX_PAGES, s.PROSPECT_FETCH_MAX_PAGE_ITEMS
    return 50, 1000


def check_bounds(filename: str, content: bytes) -> None:
    """Refuses a file before any parsing: bytes, then an XLSX's declared uncompressed size."""
    max_bytes, _rows, max_unpacked = upload_limits()
    if len(content) > max_bytes:
        raise unprocessable(f"The file is larger than {max_bytes} bytes.", code="prospect-file-too-large")
    if filename.lower().endswith(".xlsx") or content[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                if sum(info.file_size for info in archive.infolist()) > max_unpacked:
                    raise unprocessable(
                        "The workbook unpacks to too much data.", code="prospect-file-too-large"
                    )
        except zipfile.BadZipFile:
            raise unprocessable("Not an XLSX workbook.", code="prospect-file-unreadable") from None


def read_json_rows(content: bytes, mapping: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """(item number from 1, row by field name) from a registry API's answer, or from the pages a
    paged fetch kept (numbered across pages). `mapping["items"]` is the dotted path to the list
    (none: the answer is the list, or its `items`/`data`); `mapping["fields"]` renames the API's
    own keys ({"name": "entName", ...}); otherwise the keys are the file columns' (Chinese or
    English)."""
    _bytes, max_rows, _unpacked = upload_limits()
    kept = registry.read_envelope(content)
    if kept is not None:
        data: Any = [item for page in kept[registry.ENVELOPE] for item in page]
    else:
        try:
            data = registry.items_of(json.loads(content.decode("utf-8-sig")), mapping)
        except (UnicodeDecodeError, ValueError):
            raise unprocessable("The answer is not JSON.", code="prospect-json-unreadable") from None
    if not isinstance(data, list):
        raise unprocessable("No list of items where the mapping points.", code="prospect-json-items")
    if len(data) > max_rows:
        raise unprocessable(f"More than {max_rows} rows.", code="prospect-file-too-many-rows")
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
        raise unprocessable("The answer holds no items.", code="prospect-file-empty")
    return rows


def read_rows(
    filename: str, content: bytes, mapping: dict[str, Any] | None = None
) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row by field name); reading stops, and the file is refused, past the row limit."""
    _bytes, max_rows, _unpacked = upload_limits()
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
            raise unprocessable("Not a readable XLSX workbook.", code="prospect-file-unreadable") from None
        try:
            for row in book.worksheets[0].iter_rows(values_only=True):
                values.append(list(row))
                if len(values) > max_rows + 1:
                    raise unprocessable(f"More than {max_rows} rows.", code="prospect-file-too-many-rows")
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
            raise unprocessable("The CSV is neither UTF-8 nor GB18030.", code="prospect-file-unreadable")
        if "\x00" in text:
            raise unprocessable("The CSV holds binary data.", code="prospect-file-unreadable")
        try:
            for row in csv.reader(io.StringIO(text)):
                values.append(list(row))
                if len(values) > max_rows + 1:
                    raise unprocessable(f"More than {max_rows} rows.", code="prospect-file-too-many-rows")
        except csv.Error:
            raise unprocessable("The CSV is malformed.", code="prospect-file-unreadable") from None
    if not values:
        raise unprocessable("The file is empty.", code="prospect-file-empty")
    header = [HEADERS.get(str(h or "").strip()) for h in values[0]]
    if "name" not in header or "credit_code" not in header:
        raise unprocessable(
            "The file needs 企业名称 and 统一社会信用代码 columns.", code="prospect-file-columns"
        )
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
