"""The app a job runs in: one per worker process, created on first use (after the fork), so jobs get
settings, a fresh engine and an app context for emitting."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlmodel import Session

from server import db

_app: Flask | None = None


def app() -> Flask:
    global _app
    if _app is None:
        from server import create_app

        _app = create_app()
    return _app


@contextmanager
def job_session() -> Iterator[Session]:
    the_app = app()
    with the_app.app_context(), db.session_scope(db.engine_for(the_app)) as session:
        yield session
