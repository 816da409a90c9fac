"""Migrations build the whole schema from empty, match the models, and go back down again."""

import os
import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

import server.models  # noqa: F401
from server.config import sqlalchemy_url
from server.db import make_engine
from tests.conftest import ROOT, _admin_url


@pytest.fixture
def empty_database(tmp_path):
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith("postgres"):
        pg = sqlalchemy_url(base)
        name = f"zhanye_mig_{uuid.uuid4().hex[:8]}"
        admin = create_engine(_admin_url(pg), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield pg.rsplit("/", 1)[0] + "/" + name
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        yield f"sqlite:///{tmp_path / 'migrate.db'}"


def _config(url):
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = url
    cfg.attributes["skip_logging"] = True
    return cfg


def test_upgrade_matches_models_and_downgrades(empty_database):
    cfg = _config(empty_database)
    command.upgrade(cfg, "heads")
    engine = make_engine(empty_database)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": False}), SQLModel.metadata
            )
        assert diff == [], f"models and migrations differ: {diff}"
        command.downgrade(cfg, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        command.upgrade(cfg, "heads")  # and up again, cleanly
    finally:
        engine.dispose()


def test_audit_log_is_append_only(empty_database):
    command.upgrade(_config(empty_database), "heads")
    engine = make_engine(empty_database)
    try:
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO audit_entry (at, action, detail) VALUES (CURRENT_TIMESTAMP, 'x', '{}')")
            )
        for statement in ("UPDATE audit_entry SET action = 'y'", "DELETE FROM audit_entry"):
            with pytest.raises(DBAPIError, match="append-only"):
                with engine.begin() as conn:
                    conn.execute(text(statement))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT action FROM audit_entry")).scalars().all() == ["x"]
    finally:
        engine.dispose()


def test_one_head():
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"join the branches with `alembic merge heads`: {heads}"
