"""The app a job runs in: one per worker process, created before the worker forks its work horses
(tasks/rq_settings.py), so a job starts on it at once instead of building the app again in every
horse (about two seconds under load); each horse opens its own database and Redis connections
(server/db.get_engine and redis-py's pools notice the fork). Code that runs inside a request (the
web process's sinks) uses the request's app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, has_app_context
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
    the_app = current_app._get_current_object() if has_app_context() else app()  # type: ignore[attr-defined]
    with the_app.app_context(), db.session_scope(db.engine_for(the_app)) as session:
        yield session
