"""Turning a fetched or uploaded body into entries. Anything wrong with the body — hostile XML, bad
encoding, garbage, a missing column — raises ParseError(code, message), which the caller records
as a source error; nothing here may crash a worker."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from server.uploads import Limits, UploadError, read_table

MAX_ENTRIES = 3000  # per fetch or upload: a feed that claims more is cut, not trusted
MAX_XLSX_UNCOMPRESSED = 20 * 1024 * 1024


class ParseError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message[:500]


@dataclass
class Entry:
    title: str
    summary: str = ""
    url: str | None = None
    published: datetime | None = None
    external_id: str | None = None
    category: str | None = None  # a row may name its own category (CSV/XLSX/JSON)


_TAGS = re.compile(r"<[^>]{0,2000}>")
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)


def _clean(text: Any, limit: int) -> str:
    text = "" if text is None else str(text)
    text = _TAGS.sub("", text)
    return re.sub(r"\s+", " ", text).strip()[:limit]


def _when(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    for parse in (
        lambda t: datetime.fromisoformat(t.replace("Z", "+00:00")),
        parsedate_to_datetime,
        lambda t: datetime.strptime(t, "%Y年%m月%d日"),
        lambda t: datetime.strptime(t, "%Y/%m/%d"),
    ):
        try:
            parsed = parse(text)
        except (ValueError, TypeError, IndexError):
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _entry(
    title: Any,
    summary: Any = "",
    url: Any = None,
    published: Any = None,
    external_id: Any = None,
    category: Any = None,
) -> Entry | None:
    title = _clean(title, 300)
    if not title:
        return None
    url = _clean(url, 500) or None
    if url and not url.startswith(("http://", "https://", "/")):
        url = None
    return Entry(
        title=title,
        summary=_clean(summary, 4000),
        url=url,
        published=_when(published),
        external_id=_clean(external_id, 500) or None,
        category=_clean(category, 32) or None,
    )


def parse_feed(body: bytes) -> list[Entry]:
    """RSS 0.9x/1.0/2.0 or Atom through feedparser. Documents that declare entities are refused
    before parsing (billion laughs, external entities): no real feed needs them."""
    import feedparser

    if _ENTITY_DECL.search(body):
        raise ParseError("hostile-xml", "The feed declares XML entities; refused.")
    body = _as_utf8_xml(body)
    parsed = feedparser.parse(body, sanitize_html=True, resolve_relative_uris=False)
    entries = []
    for raw in parsed.entries[:MAX_ENTRIES]:
        entry = _entry(
            raw.get("title"),
            raw.get("summary") or raw.get("description") or "",
            raw.get("link"),
            raw.get("published") or raw.get("updated"),
            raw.get("id") or raw.get("guid") or raw.get("link"),
            (raw.get("tags") or [{}])[0].get("term") if raw.get("tags") else None,
        )
        if entry:
            entries.append(entry)
    if not entries:
        problem = parsed.get("bozo_exception")
        if problem is not None or not parsed.get("version"):
            raise ParseError("malformed", f"Not a readable RSS/Atom feed: {problem or 'no feed found'}")
    return entries


_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding=[\"']([A-Za-z0-9_.-]+)[\"']", re.IGNORECASE)


def _as_utf8_xml(body: bytes) -> bytes:
    """Feeds that say (or default to) UTF-8 but are really GB18030 — common with Chinese sites — are
    re-encoded instead of read as mojibake; bytes that are neither are refused."""
    match = _XML_DECL.match(body[:200])
    declared = match.group(1).decode().lower() if match else "utf-8"
    if declared.replace("-", "") != "utf8":
        return body  # an explicit other encoding (gbk, gb2312 ...): feedparser honours it
    try:
        body.decode("utf-8")
        return body
    except UnicodeDecodeError:
        pass
    try:
        text = body.decode("gb18030")
    except UnicodeDecodeError:
        raise ParseError("encoding", "The feed is neither UTF-8 nor GB18030.") from None
    return text.encode("utf-8")


def _pick(row: dict, mapping: dict, key: str, *defaults: str) -> Any:
    for name in ([mapping[key]] if mapping.get(key) else []) + list(defaults):
        if name in row and row[name] not in (None, ""):
            return row[name]
    return None


def _from_rows(rows: list[dict], mapping: dict) -> list[Entry]:
    entries = []
    for row in rows[:MAX_ENTRIES]:
        if not isinstance(row, dict):
            continue
        entry = _entry(
            _pick(row, mapping, "title", "title", "标题", "name", "项目名称"),
            _pick(row, mapping, "summary", "summary", "content", "内容", "摘要", "description"),
            _pick(row, mapping, "url", "url", "link", "链接"),
            _pick(row, mapping, "published", "published", "date", "发布日期", "日期", "published_at"),
            _pick(row, mapping, "id", "id", "guid", "编号"),
            _pick(row, mapping, "category", "category", "类别"),
        )
        if entry:
            entries.append(entry)
    return entries


def parse_json(body: bytes, mapping: dict | None = None) -> list[Entry]:
    """A JSON list of objects, or an object holding the list under `mapping["items"]` (dotted path)
    or under items/data/list."""
    mapping = mapping or {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ParseError("malformed", f"Not JSON: {exc}") from None
    path = mapping.get("items")
    if path:
        for part in str(path).split("."):
            data = data.get(part) if isinstance(data, dict) else None
    else:
        for _depth in range(3):  # {"data": {"list": [...]}} and the like
            if not isinstance(data, dict):
                break
            data = next((data[k] for k in ("items", "data", "list", "results", "rows") if k in data), None)
    if not isinstance(data, list):
        raise ParseError("malformed", "No list of items found in the JSON body.")
    entries = _from_rows(data, mapping)
    if data and not entries:
        raise ParseError("malformed", "No item in the JSON body has a title.")
    return entries


def _table(body: bytes, filename: str) -> list[dict]:
    """CSV or the first sheet of an XLSX through the shared bounded reader (server/uploads.py); the
    first row holds the column names. A file longer than MAX_ENTRIES is cut, not trusted."""
    limits = Limits(max_rows=MAX_ENTRIES, max_uncompressed_bytes=MAX_XLSX_UNCOMPRESSED)
    try:
        table = read_table(body, filename=filename, limits=limits, sniff=True, cut=True)
    except UploadError as exc:
        raise ParseError(
            exc.code if exc.code in ("too-large", "encoding") else "malformed", exc.message
        ) from None
    header = [str(h).strip() if h is not None else "" for h in table[0]]
    return [dict(zip(header, values, strict=False)) for values in table[1:]]


def parse_csv(body: bytes, mapping: dict | None = None) -> list[Entry]:
    entries = _from_rows(_table(body, "upload.csv"), mapping or {})
    if not entries:
        raise ParseError("malformed", "No row with a title (columns title/标题).")
    return entries


def parse_xlsx(body: bytes, mapping: dict | None = None) -> list[Entry]:
    """The first sheet; the first row holds the column names. Zip bombs are refused by size."""
    entries = _from_rows(_table(body, "upload.xlsx"), mapping or {})
    if not entries:
        raise ParseError("malformed", "No row with a title (columns title/标题).")
    return entries


def parse(kind: str, body: bytes, *, filename: str = "", content_type: str = "", mapping=None) -> list[Entry]:
    """Dispatch on the source kind (and, for uploads, the file name)."""
    if kind == "feed":
        return parse_feed(body)
    if kind == "json":
        return parse_json(body, mapping)
    name = filename.lower()
    if name.endswith(".xlsx") or body[:2] == b"PK":
        return parse_xlsx(body, mapping)
    if name.endswith(".json") or "json" in content_type:
        return parse_json(body, mapping)
    return parse_csv(body, mapping)
