"""The server's VAPID identity (RFC 8292). The key comes from settings: a base64url raw P-256
private key (what config generates into var/), a base64url DER key, or a path to a PEM file."""

from __future__ import annotations

import base64
import os
import time
from functools import lru_cache
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid

TOKEN_LIFETIME_S = 12 * 3600  # RFC 8292 allows up to 24 h; push services reject longer


@lru_cache(maxsize=4)
def load(private_key: str) -> Vapid:
    if os.path.isfile(private_key):
        return Vapid.from_file(private_key)
    return Vapid.from_string(private_key)


def public_key(private_key: str) -> str:
    """The applicationServerKey a browser subscribes with: the uncompressed point, base64url."""
    raw = load(private_key).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def audience(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


class HeaderCache:
    """One signed token per push-service origin per batch: signing is cheap, but not free."""

    def __init__(self, private_key: str, subject: str):
        self.vapid = load(private_key)
        self.subject = subject
        self._by_aud: dict[str, tuple[float, dict[str, str]]] = {}

    def headers(self, endpoint: str) -> dict[str, str]:
        aud = audience(endpoint)
        now = time.time()
        cached = self._by_aud.get(aud)
        if cached and cached[0] - now > 600:
            return cached[1]
        exp = int(now) + TOKEN_LIFETIME_S
        signed = self.vapid.sign({"aud": aud, "exp": exp, "sub": self.subject})
        headers = {"Authorization": signed["Authorization"]}
        self._by_aud[aud] = (exp, headers)
        return headers
