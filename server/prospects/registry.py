"""Following a bank's registry API (a JSON intel source) page by page, for the prospect import job.

The source's `mapping` says how the API pages its answer (flat string values, as the intel admin
API stores mappings):

- `next`: the dotted path to the next page's URL in each answer (`"links.next"`); a missing or
  empty value ends the list. A relative link is resolved against the page that gave it; a link to
  another host is refused (the guarded client checks every address anyway).
- `page_param` (+ `first_page`, default 1): the page number as a query parameter;
  `offset_param`: the first item's offset. With `size_param`/`page_size` the page size is asked
  for, and a shorter page ends the list; without it, an empty page does.
- none of these: one page, as before.

Bounded: at most `PROSPECT_FETCH_MAX_PAGES` pages, at most `PROSPECT_FETCH_MAX_PAGE_ITEMS` items
on a page (and asked for), the item total under `PROSPECT_UPLOAD_MAX_ROWS`, each page's body under
`PROSPECT_UPLOAD_MAX_BYTES` while streaming. Each page's items are kept on the import as soon as
the page is read (`{"_registry_pages": [...], "next": ...}`), so a retried job resumes at the page
that failed instead of starting over; errors name the page."""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

ENVELOPE = "_registry_pages"


class PagingError(Exception):
    """A page that cannot be used: `code` is the import error's code (prospect-...)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Paging:
    mode: str  # "single", "next", "page", "offset"
    next_path: str = ""
    param: str = ""
    size_param: str = ""
    size: int = 0
    first: int = 1


def paging_of(mapping: dict[str, Any], *, max_page_items: int) -> Paging:
    """The paging protocol a source's mapping describes; PagingError when it makes no sense."""

    def number(key: str, default: int, low: int, high: int) -> int:
        raw = mapping.get(key)
        if raw in (None, ""):
            return default
        try:
            value = int(str(raw))
        except ValueError:
            raise PagingError("prospect-paging-invalid", f"{key} is not a whole number.") from None
        if not low <= value <= high:
            raise PagingError("prospect-paging-invalid", f"{key} must lie in {low}..{high}.")
        return value

    given = [k for k in ("next", "page_param", "offset_param") if mapping.get(k)]
    if len(given) > 1:
        raise PagingError("prospect-paging-invalid", "Only one of next, page_param, offset_param.")
    size_param = str(mapping.get("size_param") or "")
    size = number("page_size", 0, 1, max_page_items)
    if size_param and not size:
        raise PagingError("prospect-paging-invalid", "size_param needs page_size.")
    if not given:
        return Paging("single")
    if given[0] == "next":
        return Paging("next", next_path=str(mapping["next"]))
    mode = "page" if given[0] == "page_param" else "offset"
    first = number("first_page", 1, 0, 1) if mode == "page" else 0
    return Paging(mode, param=str(mapping[given[0]]), size_param=size_param, size=size, first=first)


def _with_params(url: str, params: dict[str, Any]) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, str(v)) for k, v in params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def page_url(url: str, paging: Paging, index: int, offset: int) -> str:
    """The URL of page `index` (0-based) starting at item `offset`, for page/offset paging."""
    params: dict[str, Any] = {}
    if paging.mode == "page":
        params[paging.param] = paging.first + index
    elif paging.mode == "offset":
        params[paging.param] = offset
    if paging.size_param:
        params[paging.size_param] = paging.size
    return _with_params(url, params) if params else url


def _dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def items_of(data: Any, mapping: dict[str, Any]) -> list[Any] | None:
    """The list of items in one answer: `mapping["items"]` is its dotted path (none: the answer is
    the list, or its `items`/`data`)."""
    path = str(mapping.get("items") or "")
    if path:
        data = _dig(data, path)
    elif isinstance(data, dict):
        data = data.get("items", data.get("data"))
    return data if isinstance(data, list) else None


def read_page(body: bytes, mapping: dict[str, Any], *, page: int, max_page_items: int) -> tuple[Any, list]:
    """(the parsed answer, its items), or PagingError naming the page."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise PagingError("prospect-json-unreadable", f"Page {page}: the answer is not JSON.") from None
    items = items_of(data, mapping)
    if items is None:
        raise PagingError("prospect-json-items", f"Page {page}: no list of items where the mapping points.")
    if len(items) > max_page_items:
        raise PagingError(
            "prospect-fetch-page-too-large",
            f"Page {page} holds {len(items)} items (at most {max_page_items}).",
        )
    return data, items


def next_after(
    paging: Paging,
    *,
    source_url: str,
    url: str,
    data: Any,
    items: list,
    index: int,
    total: int,
    previous: list | None,
    seen: set[str],
) -> str | None:
    """The URL of the page after page `index` (0-based), or None at the end of the list. `total`
    counts the items read so far, this page's included; `previous` is the page before."""
    if paging.mode == "single" or not items:
        return None
    page = index + 1
    if paging.mode == "next":
        link = _dig(data, paging.next_path)
        if not isinstance(link, str) or not link.strip():
            return None
        target = urljoin(url, link.strip())
        here, there = urlsplit(source_url), urlsplit(target)
        if (there.scheme, there.netloc) != (here.scheme, here.netloc):
            raise PagingError("prospect-paging-host", f"Page {page}: the next link leaves the source's host.")
        if target in seen:
            raise PagingError(
                "prospect-paging-loop", f"Page {page}: the next link points to a page already read."
            )
        return target
    if paging.size and len(items) < paging.size:
        return None
    if previous is not None and items == previous:
        # An API that ignores the paging parameter answers the same page for ever.
        raise PagingError("prospect-paging-loop", f"Page {page} repeats page {page - 1}.")
    return page_url(source_url, paging, index + 1, total)


def envelope(pages: list[list], next_url: str | None, urls: list[str]) -> bytes:
    return json.dumps({ENVELOPE: pages, "next": next_url, "urls": urls}, ensure_ascii=False).encode()


def read_envelope(content: bytes | None) -> dict[str, Any] | None:
    """The pages kept so far, when the content is a paged fetch's."""
    if not content or not content.startswith(b'{"' + ENVELOPE.encode()):
        return None
    try:
        data = json.loads(content.decode())
    except (UnicodeDecodeError, ValueError):
        return None  # not ours (an uploaded file that merely starts alike): read as an answer
    pages = data.get(ENVELOPE) if isinstance(data, dict) else None
    if not isinstance(pages, list) or not all(isinstance(p, list) for p in pages):
        return None
    return data


def page_of_item(content: bytes | None) -> Callable[[int], int] | None:
    """For a paged fetch's content: the page (from 1) that held item `n` (numbered from 1 across pages)."""
    kept = read_envelope(content)
    if kept is None:
        return None
    ends = list(accumulate(len(page) for page in kept[ENVELOPE]))
    return lambda n: bisect_left(ends, n) + 1
