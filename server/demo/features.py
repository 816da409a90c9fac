"""The features' demo data, added in one place after the core bank (`generator.load_demo_bank`) is
written: each feature that has demo data adds one line to `FEATURES` below. Every step takes the
session and the load's seed, is idempotent (a second run adds nothing) and returns what it added.

Order matters only where a step reads another's rows: the workbench data first (product profiles and
the first knowledge-degree batch), the intel sources, then everyday activity (pool, war room, notes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from server import db
from server.demo.activity import seed_activity
from server.demo.feeds import register_demo_sources
from server.demo.learning import seed_learning_history
from server.demo.workbench import seed_workbench_demo
from server.personas.mentoring import seed_demo_notes

Step = Callable[[Session, int], Any]

FEATURES: list[tuple[str, Step]] = [
    ("workbench", lambda session, seed: seed_workbench_demo(session)),
    ("intel_sources", lambda session, seed: register_demo_sources(session)),
    ("activity", lambda session, seed: seed_activity(session, seed=seed)),
    ("mentoring_notes", lambda session, seed: seed_demo_notes(session, seed=seed)),
    ("learning", lambda session, seed: seed_learning_history(session, seed=seed)),
    # Feature hooks go here, one line each, e.g. ("conduct", conduct.seed_demo),
]


def seed_features(session: Session, *, seed: int) -> dict[str, Any]:
    """Runs every feature's demo step over a loaded bank (inside an app context: the intel sources
    are registered under the app's public URL)."""
    return {name: step(session, seed) for name, step in FEATURES}


def seed_features_over(engine: Engine, *, seed: int) -> dict[str, Any]:
    """`flask demo load`'s second half, which the demo tests run too: every feature's step in the
    session the CLI and the jobs use, which keeps its objects across commits. A step that would read
    a stale copy of a row it changed fails in the tests as it would in `make run`."""
    with db.session_scope(engine) as session:
        return seed_features(session, seed=seed)
