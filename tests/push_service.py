"""A local stand-in for a web push service (RFC 8030) that speaks the real protocol: it checks the
VAPID token (RFC 8292: ES256 signature by the key in `k`, aud/exp/sub claims), decrypts the
aes128gcm payload (RFC 8291) with the fake subscription's private key, and answers as scripted
(201, 410, 429 with Retry-After, 500 ...). Used by the push tests and bench/reminder_burst.py."""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64d(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class FakeSubscription:
    """What a browser would hold: a P-256 key pair and a 16-byte auth secret."""

    token: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def p256dh(self) -> str:
        return b64e(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": b64e(self.auth)},
        }


@dataclass
class Received:
    token: str
    status: int  # what the stand-in answered
    payload: dict[str, Any] | None
    headers: dict[str, str]
    claims: dict[str, Any]
    size: int
    at: float = field(default_factory=time.time)


def verify_vapid(authorization: str, *, audience: str, now: float | None = None) -> dict[str, Any]:
    """Checks `vapid t=<JWT>, k=<public key>`; returns the claims or raises ValueError."""
    if not authorization.lower().startswith("vapid "):
        raise ValueError("not a vapid authorization")
    parts = dict(p.strip().split("=", 1) for p in authorization[6:].split(","))
    token, key = parts["t"], parts["k"]
    header_b64, claims_b64, sig_b64 = token.split(".")
    header = json.loads(b64d(header_b64))
    if header.get("alg") != "ES256":
        raise ValueError("alg must be ES256")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(key))
    sig = b64d(sig_b64)
    if len(sig) != 64:
        raise ValueError("ES256 signature must be 64 bytes (r||s)")
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ValueError("bad signature") from None
    claims = json.loads(b64d(claims_b64))
    now = now or time.time()
    if claims.get("aud") != audience:
        raise ValueError(f"aud {claims.get('aud')!r} is not {audience!r}")
    if not (now < int(claims.get("exp", 0)) <= now + 24 * 3600):
        raise ValueError("exp must be in the future and within 24 h")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise ValueError("sub must be a mailto: or https: URL")
    claims["_k"] = key
    return claims


class PushServiceStandIn:
    def __init__(
        self, *, decrypt_every: int = 1, expected_public_key: str | None = None, record: bool = True
    ):
        self.subscriptions: dict[str, FakeSubscription] = {}
        self.script: dict[str, deque[tuple[int, dict[str, str]]]] = {}
        self.received: list[Received] = []
        self.errors: list[str] = []
        self.counts: dict[str, int] = {}
        self.decrypt_every = decrypt_every  # the bench decrypts a sample; tests decrypt everything
        self.expected_public_key = expected_public_key
        self._lock = threading.Lock()
        self.record = record  # keep every request (tests); the bench keeps only the counters
        self.decrypted = 0
        self.samples: list[dict[str, Any]] = []
        self.accepted = 0  # answered 2xx
        self.duplicates = 0  # 2xx for a (subscription, topic) already accepted
        self._topics: set[tuple[str, str | None]] = set()
        self._verified: dict[str, dict[str, Any]] = {}  # a token is checked once, as push services do
        self._n = 0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like a real push service

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                stand_in._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> PushServiceStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def new_subscription(self) -> FakeSubscription:
        token = secrets.token_urlsafe(16)
        sub = FakeSubscription(
            token=token,
            endpoint=f"{self.origin}/push/{token}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth=os.urandom(16),
        )
        self.subscriptions[token] = sub
        return sub

    def answer(
        self, sub: FakeSubscription, status: int, times: int = 1, delay: float = 0, **headers: str
    ) -> None:
        """Answer the next `times` pushes to this subscription with `status` (then 201 again),
        after `delay` seconds (a slow push service)."""
        queue = self.script.setdefault(sub.token, deque())
        for _ in range(times):
            answer = {k.replace("_", "-"): v for k, v in headers.items()}
            if delay:
                answer["_delay"] = str(delay)
            queue.append((status, answer))

    def for_token(self, token: str) -> list[Received]:
        return [r for r in self.received if r.token == token]

    def _reply(self, handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str] | None = None):
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", "0"))
        status, headers = self.process(handler.path, handler.headers, handler.rfile.read(length))
        self._reply(handler, status, headers)

    def process(self, path: str, request_headers, body: bytes) -> tuple[int, dict[str, str]]:
        """One push request, whatever HTTP server carried it: (status, response headers)."""
        token = path.rsplit("/", 1)[-1]
        sub = self.subscriptions.get(token)
        if sub is None or not path.startswith("/push/"):
            return 404, {}
        try:
            authorization = request_headers.get("Authorization", "")
            claims = self._verified.get(authorization)
            if claims is None or claims["exp"] <= time.time():
                claims = verify_vapid(authorization, audience=self.origin)
                self._verified[authorization] = claims
            if self.expected_public_key and claims["_k"] != self.expected_public_key:
                raise ValueError("signed by an unexpected VAPID key")
            if request_headers.get("Content-Encoding") != "aes128gcm":
                raise ValueError("Content-Encoding must be aes128gcm")
            ttl = request_headers.get("TTL")
            if ttl is None or not ttl.isdigit():
                raise ValueError("TTL header missing")
            if request_headers.get("Urgency") not in ("very-low", "low", "normal", "high"):
                raise ValueError("Urgency header missing or invalid")
            topic = request_headers.get("Topic")
            if topic is not None and (len(topic) > 32 or not all(c.isalnum() or c in "-_" for c in topic)):
                raise ValueError("Topic must be at most 32 base64url characters")
            if len(body) > 4096:
                raise ValueError("payload over 4096 bytes")
        except (ValueError, KeyError) as exc:
            with self._lock:
                self.errors.append(f"{token}: {exc}")
            return 400, {}
        with self._lock:
            self._n += 1
            n = self._n
            decrypt = n % self.decrypt_every == 0
            scripted = self.script.get(token)
            status, headers = scripted.popleft() if scripted else (201, {})
        if "_delay" in headers:
            headers = dict(headers)
            time.sleep(float(headers.pop("_delay")))
        payload = None
        if decrypt:
            try:
                plain = http_ece.decrypt(
                    body, private_key=sub.private_key, auth_secret=sub.auth, version="aes128gcm"
                )
                payload = json.loads(plain)
            except Exception as exc:
                with self._lock:
                    self.errors.append(f"{token}: cannot decrypt: {exc}")
                return 400, {}
        with self._lock:
            self.counts[token] = self.counts.get(token, 0) + (1 if status < 300 else 0)
            if status < 300:
                self.accepted += 1
                key = (token, request_headers.get("Topic"))
                self.duplicates += key in self._topics
                self._topics.add(key)
            if payload is not None:
                self.decrypted += 1
                if len(self.samples) < 3:
                    self.samples.append(payload)
            if self.record:
                self.received.append(
                    Received(
                        token,
                        status,
                        payload,
                        {k.lower(): v for k, v in request_headers.items()},
                        claims,
                        len(body),
                    )
                )
        return status, {"Location": f"{self.origin}/message/{n}", **headers}


def serve_async(stand_in: PushServiceStandIn, port: int) -> None:
    """The same stand-in behind an asyncio (aiohttp) server: the bench's thousands of requests a
    second would swamp a thread-per-connection server. Blocks; run it in its own process."""
    from aiohttp import web

    async def handle(request: web.Request) -> web.Response:
        status, headers = stand_in.process(request.path, request.headers, await request.read())
        return web.Response(status=status, headers=headers)

    app = web.Application()
    app.router.add_post("/push/{token}", handle)
    web.run_app(app, host="127.0.0.1", port=port, print=None, handle_signals=False, access_log=None)
