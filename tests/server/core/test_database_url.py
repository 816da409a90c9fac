"""Which driver a DATABASE_URL gets: psycopg2 when the URL names none, as written otherwise."""

from server.config import Settings, sqlalchemy_url


def test_driverless_postgres_urls_use_psycopg2():
    assert sqlalchemy_url("postgresql://postgres@127.0.0.1:5432/postgres") == (
        "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
    )
    assert sqlalchemy_url("postgres://u:p@db/zhanye") == "postgresql+psycopg2://u:p@db/zhanye"
    assert Settings(DATABASE_URL="postgresql://db/zhanye").database_url() == "postgresql+psycopg2://db/zhanye"


def test_a_named_driver_and_sqlite_are_kept():
    assert sqlalchemy_url("postgresql+pg8000://db/zhanye") == "postgresql+pg8000://db/zhanye"
    assert sqlalchemy_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
