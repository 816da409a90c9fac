"""Security headers on every response (the app shell, static files, the API, errors, the docs) and
who may read the API's documentation.

The PWA needs: its own scripts, styles and fonts (`'self'`; styles also inline, for the shell's
first-paint skeleton and the style attributes chart tooltips write), images from itself and
`data:`/`blob:` URLs (avatars, QR codes, chart exports), fetch and Socket.IO to its own origin
(`ws:`/`wss:` named too: older Safari does not let `'self'` cover them), its service worker and
manifest, and media streams from `blob:` (remote calls). No inline script anywhere: the built
`index.html` loads one module, and vite-plugin-pwa registers the service worker from the bundle
(`injectRegister: false`). The documentation pages (`/apidocs/...`) load their viewer from a CDN
and carry one inline start-up script each, allowed by its SHA-256 hash only, on those pages only.

Permissions-Policy grants geolocation (customer map, visit check-in), microphone and camera
(remote calls) to the app's own origin and nothing to any frame."""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

from server.errors import Problem

DOCS_PREFIXES = ("/apidocs", "/api/v1/openapi.json")
DOCS_CDNS = "https://unpkg.com https://cdn.jsdelivr.net"
PERMISSIONS_POLICY = (
    "geolocation=(self), microphone=(self), camera=(self), payment=(), usb=(), serial=(), "
    "bluetooth=(), midi=(), accelerometer=(), gyroscope=(), magnetometer=(), interest-cohort=()"
)
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def content_security_policy(public_url: str) -> str:
    parts = urlsplit(public_url)
    socket_origin = ("wss://" if parts.scheme == "https" else "ws://") + parts.netloc
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            f"connect-src 'self' {socket_origin}",
            "media-src 'self' blob: mediastream:",
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


@lru_cache(maxsize=32)
def _docs_policy(body_digest: bytes, script_hashes: tuple[str, ...]) -> str:
    scripts = " ".join(f"'sha256-{h}'" for h in script_hashes)
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' {DOCS_CDNS} {scripts}".strip(),
            f"style-src 'self' 'unsafe-inline' {DOCS_CDNS}",
            f"img-src 'self' data: {DOCS_CDNS}",
            f"font-src 'self' data: {DOCS_CDNS}",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def docs_policy(html: bytes) -> str:
    hashes = tuple(
        base64.b64encode(hashlib.sha256(match.group(1)).digest()).decode()
        for match in _INLINE_SCRIPT.finditer(html)
    )
    return _docs_policy(hashlib.sha256(html).digest(), hashes)


def docs_public(settings) -> bool:
    return settings.API_DOCS_PUBLIC if settings.API_DOCS_PUBLIC is not None else settings.DEMO_MODE


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    app_policy = content_security_policy(settings.PUBLIC_URL)
    hsts = settings.PUBLIC_URL.startswith("https://")

    @app.before_request
    def _guard_docs():
        if not request.path.startswith(DOCS_PREFIXES) or docs_public(current_app.config["SETTINGS"]):
            return None
        from server.security import COOKIE_NAME, load_user_from_cookie

        if load_user_from_cookie(request.cookies.get(COOKIE_NAME)) is None:
            raise Problem(
                401, "Unauthorized", "Please sign in to read the API documentation.", code="unauthenticated"
            )
        return None

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        if (
            request.path.startswith("/apidocs")
            and response.mimetype == "text/html"
            and not response.direct_passthrough
        ):
            headers["Content-Security-Policy"] = docs_policy(response.get_data())
        else:
            headers["Content-Security-Policy"] = app_policy
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers["Permissions-Policy"] = PERMISSIONS_POLICY
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if hsts or request.is_secure:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response
