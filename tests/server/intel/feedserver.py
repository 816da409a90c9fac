"""A local stand-in for the news sites intel polls: real HTTP on 127.0.0.1, ETag/Last-Modified with
304s, and the bad behaviours a worker must survive (huge bodies, 500s, slow answers)."""

from __future__ import annotations

import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "intel"
LAST_MODIFIED = "Sat, 28 Nov 2026 08:00:00 GMT"


def big_rss(count: int, prefix: str = "条目") -> bytes:
    """An RSS feed of `count` distinct policy items naming cities and industries."""
    cities = ("上海", "杭州", "南京", "深圳", "成都", "武汉")
    terms = ("汽车零部件", "物流", "集成电路", "医药", "基础设施建设")
    items = "".join(
        f"<item><title>{prefix}{n}：{cities[n % 6]}出台支持{terms[n % 5]}企业发展措施第{n}号</title>"
        f"<description>给予补贴</description><guid>{prefix}-{n}</guid></item>"
        for n in range(count)
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


class FeedServer:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.dynamic: dict[str, tuple[bytes, str]] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:
                pass

            def _send(
                self, status: int, body: bytes = b"", ctype: str = "application/xml", etag: str | None = None
            ):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                if etag:
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", LAST_MODIFIED)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                server.requests.append((self.path, dict(self.headers)))
                path = self.path
                if path.startswith("/f/") or path.startswith("/d/"):
                    if path.startswith("/f/"):
                        file = FIXTURES / path[3:]
                        if not file.is_file():
                            return self._send(404)
                        body, ctype = file.read_bytes(), "application/xml"
                    else:
                        if path[3:] not in server.dynamic:
                            return self._send(404)
                        body, ctype = server.dynamic[path[3:]]
                    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                    if self.headers.get("If-None-Match") == etag:
                        return self._send(304, etag=etag)
                    return self._send(200, body, ctype, etag)
                if path == "/huge":  # no Content-Length, 5 MB of a never-ending feed
                    self.send_response(200)
                    self.send_header("Content-Type", "application/rss+xml")
                    self.end_headers()
                    try:
                        self.wfile.write(b'<?xml version="1.0"?><rss><channel>')
                        for _n in range(80):
                            self.wfile.write(b"<item><title>x</title></item>" * 2500)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return None
                if path == "/lying-length":
                    self.send_response(200)
                    self.send_header("Content-Length", str(50 * 1024 * 1024))
                    self.end_headers()
                    return None
                if path.startswith("/status/"):
                    return self._send(int(path.rsplit("/", 1)[1]), b"error")
                if path == "/slow":
                    time.sleep(3)
                    return self._send(200, (FIXTURES / "rss.xml").read_bytes())
                return self._send(404)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> FeedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def requests_for(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in self.requests if p == path]
