"""Settings from the environment (pydantic-settings). Secrets missing from the environment are
generated once into VAR_DIR and reused, so a fresh machine runs with no set-up and nothing secret
is ever committed."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=True)

    VAR_DIR: Path = ROOT / "var"
    DATABASE_URL: str = ""  # empty: SQLite file var/zhanye.db
    REDIS_URL: str = "redis://127.0.0.1:6379/0"
    SECRET_KEY: str = ""
    DATA_KEY: str = ""  # base64 32 bytes; encrypts ID numbers at rest
    VAPID_PRIVATE_KEY: str = ""  # PEM path or base64url raw key
    VAPID_PUBLIC_KEY: str = ""
    VAPID_SUBJECT: str = "mailto:ops@zhanye.example"
    PUSH_TTL_SECONDS: int = 24 * 3600  # how long a push service keeps a message for an offline device
    PUSH_TIMEOUT_SECONDS: float = 10.0  # per request to a push service
    PUSH_CONCURRENCY: int = 32  # requests in flight per delivery job
    NOTIFY_WEBHOOK_URL: str = ""  # e.g. a WeCom group robot; empty: the webhook channel is off
    PUBLIC_URL: str = "http://127.0.0.1:5000"
    PORT: int = 5000
    HOST: str = "127.0.0.1"
    SESSION_IDLE_MINUTES: int = 30
    SESSION_ABSOLUTE_HOURS: int = 12
    # A live socket's session is read from the database at most this often while it sends events;
    # ending or narrowing a session reaches its sockets at once anyway (realtime/base.py).
    SOCKET_SESSION_RECHECK_SECONDS: float = 10.0
    SESSION_COOKIE_SECURE: bool | None = None  # None: secure when PUBLIC_URL is https
    LOGIN_MAX_FAILURES: int = 5
    LOGIN_LOCKOUT_MINUTES: int = 15
    LOGIN_RATE_PER_MINUTE: int = 20
    REVEAL_RATE_PER_HOUR: int = 30  # unmasked phone / ID number per user
    AUDIT_EXPORT_RATE_PER_HOUR: int = 10  # audit log exports per risk officer
    # War-room messages and board changes one user may send per window, across every process. A
    # person types far fewer; a stuck client or a script is stopped with `rate-limited`.
    WARROOM_RATE_LIMIT: int = 30
    WARROOM_RATE_WINDOW_SECONDS: int = 10
    # Targets one user may add per window (each customer id tried counts, found or not).
    WARROOM_TARGET_RATE_LIMIT: int = 20
    WARROOM_TARGET_RATE_WINDOW_SECONDS: int = 60
    # Call signalling (offers, answers, ICE candidates, mute/speaking) per user and window: a call
    # set-up sends a few dozen; a loop or a script is stopped with `rate-limited`.
    WARROOM_SIGNAL_RATE_LIMIT: int = 120
    WARROOM_SIGNAL_RATE_WINDOW_SECONDS: int = 10
    # A PDF proposal on a war room's shared stage (sent as base64 JSON under MAX_CONTENT_LENGTH).
    WARROOM_STAGE_PDF_MAX_BYTES: int = 700 * 1024
    WARROOM_CALL_MAX_MEMBERS: int = 4  # a mesh: each member sends to every other (see docs/warrooms.md)
    # STUN/TURN servers handed to the browser, as RTCIceServer objects, e.g.
    # [{"urls": "turn:turn.bank.example:3478", "username": "zhanye", "credential": "..."}].
    # Empty: host candidates only, enough on one machine or one LAN.
    WEBRTC_ICE_SERVERS: list[dict] = Field(default_factory=list)
    # A coturn server with `use-auth-secret` (deploy/coturn/turnserver.conf): its URLs and shared
    # secret. Each call_join then hands the browser a credential of its own that expires.
    WEBRTC_TURN_URLS: list[str] = Field(default_factory=list)
    WEBRTC_TURN_SECRET: str = ""
    WEBRTC_TURN_TTL_SECONDS: int = 12 * 3600
    MAX_CONTENT_LENGTH: int = 1024 * 1024
    # PostgreSQL pool per process (SQLite ignores these); sizing for N processes: docs/deployment.md.
    DB_POOL_SIZE: int = 20
    DB_MAX_OVERFLOW: int = 10
    # PostgreSQL cancels a statement of this process that runs longer (0: no limit). Web processes
    # set it (deploy/env/web.env); workers, whose nightly batches run long, may leave it at 0.
    DB_STATEMENT_TIMEOUT_MS: int = 0
    # Reverse proxies in front of the web process (nginx: 1). Their X-Forwarded-For/-Proto are
    # trusted that many hops deep, so rate limits and the audit log see the phone's address, not
    # the proxy's. 0: the headers are ignored (a client could forge them).
    TRUSTED_PROXIES: int = 0
    # The worker checks the job chains (and RQ's scheduler process) at least this often: after a
    # Redis restart or a dead scheduler, scheduled work resumes within about twice this.
    CHAIN_HEAL_SECONDS: int = 30
    # Uploads (CSV/XLSX, see server/uploads.py): refused before parsing past these bounds.
    UPLOAD_MAX_BYTES: int = 5 * 1024 * 1024  # the file itself
    UPLOAD_MAX_UNCOMPRESSED_BYTES: int = 20 * 1024 * 1024  # an XLSX unpacked
    UPLOAD_MAX_CELLS: int = 200_000  # rows x columns an XLSX sheet declares or holds
    # The API's OpenAPI document and docs pages without signing in. None: only in DEMO_MODE.
    API_DOCS_PUBLIC: bool | None = None
    # Outbound HTTP (push services, intel feeds, webhooks; server/outbound.py) refuses loopback,
    # private, link-local, multicast and reserved addresses. Hosts, addresses or networks listed
    # here are allowed anyway (a bank's internal feed host: "feeds.bank.internal", "10.8.0.0/16").
    OUTBOUND_ALLOW_HOSTS: list[str] = Field(default_factory=list)
    # Push endpoints must be https on a public address; when this list is set, also on one of these
    # push-service hosts (a leading dot matches subdomains: ".push.apple.com").
    PUSH_SERVICE_HOSTS: list[str] = Field(default_factory=list)
    DEMO_MODE: bool = False
    ASYNC_MODE: str = "eventlet"  # the one switch for the concurrency library
    PWA_DIST: Path = ROOT / "pwa" / "dist"
    TESTING: bool = False
    ENABLE_TEST_ENDPOINTS: bool = False  # only the test suite sets this
    SQL_ECHO: bool = False
    IDEMPOTENCY_TTL_HOURS: int = 48
    # A key still marked in progress after this long belongs to a request that died before writing
    # (its process killed, its database restarted): a retry may run it again. Above nginx's timeouts.
    IDEMPOTENCY_ABANDONED_SECONDS: int = 120
    # Prospecting (智能获客): see docs/prospects.md.
    DEMO_PROSPECTS: int = 0  # 0: ten prospects per demo customer (50,000 for the default 5,000)
    PROSPECT_CLAIM_DAYS: int = 30  # a claimed prospect is exclusive this long, then returns
    PROSPECT_TILE_URL: str = ""  # e.g. a 天地图/高德 tile template; empty: the built-in offline base map
    PROSPECT_UPLOAD_MAX_BYTES: int = (
        700 * 1024
    )  # the decoded file; the JSON body stays under MAX_CONTENT_LENGTH
    PROSPECT_UPLOAD_MAX_ROWS: int = 20_000
    PROSPECT_UPLOAD_MAX_UNCOMPRESSED: int = 20 * 1024 * 1024
    PROSPECT_FETCH_MAX_PAGES: int = 50  # pages read from a paged registry API in one fetch
    PROSPECT_FETCH_MAX_PAGE_ITEMS: int = 1000  # items on one page (and the largest page size asked for)
    MASK_RULES: dict[str, list[int]] = Field(
        default_factory=lambda: {
            "phone": [3, 4],
            "id_number": [1, 1],
            "card_number": [6, 4],
            "company_name": [2, 4],
        }
    )

    def database_url(self) -> str:
        if self.DATABASE_URL:
            return sqlalchemy_url(self.DATABASE_URL)
        self.VAR_DIR.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.VAR_DIR / 'zhanye.db'}"

    def cookie_secure(self) -> bool:
        if self.SESSION_COOKIE_SECURE is not None:
            return self.SESSION_COOKIE_SECURE
        return self.PUBLIC_URL.startswith("https://")


def sqlalchemy_url(url: str) -> str:
    """A PostgreSQL URL without a driver (`postgresql://`, `postgres://`) means psycopg2: libpq parses
    and pipelines in C (one round trip per statement; pg8000 took three and parsed in Python). The web
    process makes its waits cooperative under eventlet (`server.dbdriver.cooperate`). A URL that names
    a driver (`postgresql+pg8000://`) is kept as it is; anything else (SQLite) too."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def _stored_secret(var_dir: Path, name: str, make) -> str:
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / name
    if path.exists():
        return path.read_text().strip()
    value = make()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(value)
    tmp.chmod(0o600)
    tmp.replace(path)
    return value


def _make_vapid_pair(var_dir: Path) -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    def make_private() -> str:
        key = ec.generate_private_key(ec.SECP256R1())
        raw = key.private_numbers().private_value.to_bytes(32, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    private = _stored_secret(var_dir, "vapid_private.key", make_private)
    raw = base64.urlsafe_b64decode(private + "=" * (-len(private) % 4))
    key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return private, base64.urlsafe_b64encode(public).rstrip(b"=").decode()


def load_settings(**overrides) -> Settings:
    settings = Settings(**overrides)
    var_dir = settings.VAR_DIR
    if not settings.SECRET_KEY:
        settings.SECRET_KEY = _stored_secret(var_dir, "secret_key", lambda: secrets.token_urlsafe(48))
    if not settings.DATA_KEY:
        settings.DATA_KEY = _stored_secret(
            var_dir, "data_key", lambda: base64.b64encode(secrets.token_bytes(32)).decode()
        )
    if not settings.VAPID_PRIVATE_KEY:
        settings.VAPID_PRIVATE_KEY, settings.VAPID_PUBLIC_KEY = _make_vapid_pair(var_dir)
    return settings
