"""A local stand-in for a bank's paged registry API: real HTTP on 127.0.0.1, speaking three paging
protocols over one list of firms, with the failures a fetch must survive (a page that fails once
or for good, an API that ignores the page number, a next link to another host)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class RegistryServer:
    """`/paged?page=&size=` (page numbers from 1), `/offset?offset=&limit=`, `/cursor?after=`
    (two items a page and a relative `links.next`), `/all` (no paging). `fail[page]` is a list of statuses answered,
    one per request, before the page is served; `ignore_paging` answers page 1 whatever is asked;
    `next_base` puts another host in front of the next links; `not_json[page]` answers HTML."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.fail: dict[int, list[int]] = {}
        self.not_json: set[int] = set()
        self.ignore_paging = False
        self.next_base = ""
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                server.requests.append(self.path)
                parts = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(parts.query).items()}
                answer: dict[str, Any]
                if parts.path == "/paged":
                    size = int(q.get("size", 2))
                    page = 1 if server.ignore_paging else int(q.get("page", 1))
                    start = (page - 1) * size
                    answer = {"data": {"list": server.items[start : start + size]}}
                elif parts.path == "/offset":
                    start, size = int(q.get("offset", 0)), int(q.get("limit", 2))
                    page = start // size + 1
                    answer = {"data": {"list": server.items[start : start + size]}}
                elif parts.path == "/cursor":
                    start = int(q.get("after", 0))
                    page = start // 2 + 1
                    rest = start + 2 < len(server.items)
                    answer = {
                        "data": {"list": server.items[start : start + 2]},
                        "links": {"next": f"{server.next_base}/cursor?after={start + 2}" if rest else None},
                    }
                elif parts.path == "/all":  # an API that does not page
                    page = 1
                    answer = {"data": {"list": server.items}}
                else:
                    return self._send(404, b"{}")
                statuses = server.fail.get(page)
                if statuses:
                    return self._send(statuses.pop(0), b'{"error": "unavailable"}')
                if page in server.not_json:
                    return self._send(200, b"<html>maintenance</html>", "text/html")
                return self._send(200, json.dumps(answer, ensure_ascii=False).encode())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> RegistryServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
