"""A demo bank loaded as `make run` loads it: the core bank, then every feature's demo data."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session

from server import create_app, db
from server.config import sqlalchemy_url
from server.demo.features import seed_features_over
from server.demo.generator import load_demo_bank
from tests.conftest import migrate

CUSTOMERS = 400
SEED = 7


def _fresh_url(tmp_path_factory) -> tuple[str, bool]:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        return f"sqlite:///{tmp_path_factory.mktemp('demo_bank') / 'demo.db'}", False
    pg = sqlalchemy_url(base)
    name = f"zhanye_demo_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(pg.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return pg.rsplit("/", 1)[0] + "/" + name, True


@pytest.fixture(scope="package")
def demo_bank(test_config, tmp_path_factory):
    url, postgres = _fresh_url(tmp_path_factory)
    migrate(url)
    app = create_app({**test_config, "DATABASE_URL": url, "VAR_DIR": tmp_path_factory.mktemp("demo_var")})
    engine = db.engine_for(app)
    load_demo_bank(engine, customers=CUSTOMERS, seed=SEED, data_key=app.config["SETTINGS"].DATA_KEY)
    with app.app_context():
        app.config["DEMO_FEATURES"] = seed_features_over(engine, seed=SEED)
    yield app
    db.get_engine(url).dispose()
    if postgres:
        admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def bank_session(demo_bank):
    with Session(db.engine_for(demo_bank), expire_on_commit=False) as session:
        yield session


@pytest.fixture
def login(demo_bank):
    def sign_in(username: str):
        client = demo_bank.test_client()
        response = client.post("/api/v1/auth/login", json={"username": username, "password": "demo1234"})
        assert response.status_code == 200, response.get_data(as_text=True)
        return client

    return sign_in
