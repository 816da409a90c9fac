"""Helpers the benchmarks share: fresh databases built by the real migrations, peak memory."""

from __future__ import annotations

import base64
import os
import resource
import secrets
import sys
import uuid
from pathlib import Path

from server.config import sqlalchemy_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = url
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "heads")


def fresh_sqlite(directory: Path, name: str = "bench.db") -> str:
    path = directory / name
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    migrate(url)
    return url


def fresh_postgres(base: str) -> tuple[str, str]:
    """A new, migrated PostgreSQL database next to `base`; returns (url, admin url)."""
    from sqlalchemy import create_engine, text

    pg = sqlalchemy_url(base)
    admin_url = pg.rsplit("/", 1)[0] + "/postgres"
    name = f"zhanye_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = pg.rsplit("/", 1)[0] + "/" + name
    migrate(url)
    return url, admin_url


def bench_branch(session, *, code: str):
    """A branch for a benchmark's people."""
    from server.org.models import Branch

    branch = Branch(
        code=code, name="压测支行", city="上海", region_code="310000", latitude=31.2, longitude=121.5
    )
    session.add(branch)
    session.flush()
    return branch


def bulk_rms(
    session, *, branch_id: int, prefix: str, display: str, count: int, password_hash: str
) -> list[int]:
    """`count` RMs inserted in one statement (usernames prefix0, prefix1, ...); their ids in order."""
    from sqlalchemy import insert
    from sqlmodel import col, select

    from server.org.models import Role, User
    from server.timeutil import utcnow

    now = utcnow()
    rows = [
        {
            "username": f"{prefix}{i}",
            "display_name": f"{display}{i}",
            "password_hash": password_hash,
            "role": Role.rm,
            "branch_id": branch_id,
            "is_active": True,
            "failed_logins": 0,
            "created_at": now,
        }
        for i in range(count)
    ]
    session.execute(insert(User), rows)
    return list(
        session.exec(select(User.id).where(col(User.username).startswith(prefix)).order_by(User.id)).all()
    )


def bulk_sessions(session, user_ids: list[int]) -> list[tuple[str, str]]:
    """One signed-in session per user, inserted in one statement; (cookie, csrf token) in order."""
    from sqlalchemy import insert

    from server.auth.models import UserSession
    from server.timeutil import utcnow

    now = utcnow()
    creds = [(secrets.token_urlsafe(32), secrets.token_urlsafe(16)) for _ in user_ids]
    session.execute(
        insert(UserSession),
        [
            {"id": cookie, "user_id": uid, "csrf_token": csrf, "created_at": now, "last_seen_at": now}
            for (cookie, csrf), uid in zip(creds, user_ids, strict=True)
        ],
    )
    return creds


def bench_database(var_dir: Path) -> tuple[str, str | None]:
    """The database a benchmark runs on: with BENCH_DATABASE_URL=postgresql://... a fresh, migrated
    PostgreSQL database (returns its url and the admin url to drop it with); otherwise a SQLite file
    in `var_dir` (url, None) that the caller migrates."""
    base = os.environ.get("BENCH_DATABASE_URL", "")
    if base.startswith("postgres"):
        return fresh_postgres(base)
    return f"sqlite:///{var_dir / 'bench.db'}", None


def drop_postgres(url: str, admin_url: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def random_data_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def shared_lead(n: int) -> dict:
    """The body of the n-th benchmark share: a branch-pool lead on a prospect."""
    return {
        "title": f"压测商机{n}",
        "prospect_name": f"潜客{n}",
        "region_code": "310000",
        "industry_code": "C36",
        "visibility": "branch",
        "estimated_amount_cents": 100_000_00,
    }
