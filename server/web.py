"""Serves the built PWA: hashed assets cached for a year, the shell, manifest and service worker
never cached, and client-side routes falling back to index.html."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, request, send_from_directory

bp = Blueprint("web", __name__)

PLACEHOLDER = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>展业</title><body><h1>展业 · 客户经理工作台</h1><p>前端尚未构建：运行 <code>make run</code>。</p></body></html>"""

NO_CACHE = {"index.html", "manifest.webmanifest", "sw.js", "registerSW.js"}


def _precompressed(dist: Path, path: str) -> Response | None:
    """The build's `name.gz` twin of a hashed asset, when the client takes gzip."""
    if not path.startswith("assets/") or "gzip" not in request.headers.get("Accept-Encoding", ""):
        return None
    if not (dist / f"{path}.gz").is_file():
        return None
    mimetype = mimetypes.guess_type(path)[0] or "application/octet-stream"
    response = send_from_directory(dist, f"{path}.gz", mimetype=mimetype)
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


def _dist() -> Path:
    return Path(current_app.config["SETTINGS"].PWA_DIST)


@bp.get("/", defaults={"path": ""})
@bp.get("/<path:path>")
def spa(path: str) -> Response:
    if path.startswith("api/"):
        abort(404)
    dist = _dist()
    if not (dist / "index.html").exists():
        return Response(PLACEHOLDER, mimetype="text/html")
    target = dist / path
    if path and target.is_file() and dist.resolve() in target.resolve().parents:
        response = _precompressed(dist, path) or send_from_directory(dist, path)
        if path in NO_CACHE or path.endswith(".webmanifest"):
            response.headers["Cache-Control"] = "no-cache"
        elif path.startswith("assets/"):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        else:
            response.headers["Cache-Control"] = "public, max-age=3600"
        return response
    if "." in path.rsplit("/", 1)[-1]:
        abort(404)  # a missing file, not a client-side route
    response = send_from_directory(dist, "index.html")
    response.headers["Cache-Control"] = "no-cache"
    return response
