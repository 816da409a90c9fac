"""Fetching a source over HTTP through the guarded client (server/outbound.py: no internal address
unless allow-listed, after DNS and on every redirect): conditional GET (If-None-Match / If-Modified-Since), a connect and
read timeout plus an overall deadline, and a size cap enforced while streaming (a lying or missing
Content-Length does not get past it)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests

from server.outbound import OutboundRefused, Policy, session

MAX_BYTES = 2 * 1024 * 1024
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 15
DEADLINE_SECONDS = 30
USER_AGENT = "Zhanye-Intel/1.0"


class FetchError(Exception):
    """`transient` errors (timeouts, 5xx, connection refused) are worth a retry; others are not."""

    def __init__(self, code: str, message: str, *, transient: bool):
        super().__init__(message)
        self.code = code
        self.message = message[:500]
        self.transient = transient


@dataclass
class Fetched:
    status: int  # 200 or 304
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = ""


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = MAX_BYTES,
    deadline_seconds: float = DEADLINE_SECONDS,
    policy: Policy | None = None,
) -> Fetched:
    """`policy` (server/outbound.py) says which internal hosts may be fetched; none by default."""
    if not url.startswith(("http://", "https://")):
        raise FetchError("bad-url", "Only http(s) URLs can be polled.", transient=False)
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    started = time.monotonic()
    try:
        with session(policy or Policy()).get(
            url, headers=headers, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), stream=True, allow_redirects=True
        ) as response:
            if response.status_code == 304:
                return Fetched(304, etag=etag, last_modified=last_modified)
            if response.status_code >= 500 or response.status_code == 429:
                raise FetchError(
                    f"http-{response.status_code}",
                    f"The source answered {response.status_code}.",
                    transient=True,
                )
            if response.status_code != 200:
                raise FetchError(
                    f"http-{response.status_code}",
                    f"The source answered {response.status_code}.",
                    transient=False,
                )
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(
                    "too-large", f"The body is {declared} bytes (cap {max_bytes}).", transient=False
                )
            chunks, size = [], 0
            for chunk in response.iter_content(chunk_size=65536):
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError("too-large", f"The body exceeds {max_bytes} bytes.", transient=False)
                if time.monotonic() - started > deadline_seconds:
                    raise FetchError(
                        "timeout", f"The download took over {deadline_seconds:.0f} s.", transient=True
                    )
                chunks.append(chunk)
            return Fetched(
                200,
                b"".join(chunks),
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
                content_type=response.headers.get("Content-Type", ""),
            )
    except OutboundRefused as exc:
        if exc.code == "unresolvable":
            raise FetchError("connection", exc.message, transient=True) from None
        raise FetchError("refused", exc.message, transient=False) from None
    except requests.Timeout:
        raise FetchError("timeout", "The source did not answer in time.", transient=True) from None
    except requests.ConnectionError as exc:
        raise FetchError("connection", f"Could not connect: {type(exc).__name__}", transient=True) from None
    except requests.RequestException as exc:
        raise FetchError("request", f"Request failed: {type(exc).__name__}", transient=False) from None
