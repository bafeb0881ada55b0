"""Fixtures shared by every layer: a real PostgreSQL database migrated with the real migrations.

Each test session gets a fresh database (on ``MEDAPP_TEST_DATABASE_URL``'s server, or on an
embedded pgserver); each test runs inside a transaction that is rolled back, so tests never see
each other's rows. Tests that must commit (races, migrations) use ``scratch_url`` instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from sqlalchemy import Connection, Engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from medapp.db import migrate  # noqa: E402
from medapp.db.embedded import stop_all, stop_embedded  # noqa: E402
from medapp.db.engine import Database, make_engine, open_database  # noqa: E402
from medapp.db.testing import scratch_database, server_url  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep tests out of the real user's config, data and cache folders."""
    base = tmp_path_factory.mktemp("userdirs")
    for name in ("CONFIG", "DATA", "CACHE", "LOG"):
        os.environ[f"MEDAPP_{name}_DIR"] = str(base / name.lower())
    os.environ.pop("MEDAPP_DATABASE_URL", None)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not beside this checkout")
    return SHARED_DATA


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("MEDAPP_TEST_DATABASE_URL"):
        yield server_url()
        return
    folder = tmp_path_factory.mktemp("pg") / "data"
    yield server_url(folder)
    stop_embedded(folder)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No private PostgreSQL outlives the test run: whatever embedded server this process
    started (fixtures, in-process CLI calls, bootstrap tests) is stopped here, before pytest
    exits (tests/db/test_private_server.py checks it on a real pytest run)."""
    stop_all()


@pytest.fixture(scope="session")
def database_url(pg_server_url: str) -> Iterator[str]:
    with scratch_database(pg_server_url) as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is always rolled back."""
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            yield conn
        finally:
            trans.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """ORM session on the rolled-back connection; ``commit()`` only releases a savepoint."""
    with Session(bind=connection, join_transaction_mode="create_savepoint") as sess:
        yield sess


@pytest.fixture
def scratch_url(pg_server_url: str) -> Iterator[str]:
    """An empty database of its own, for tests that need real commits."""
    with scratch_database(pg_server_url) as url:
        yield url


@pytest.fixture(scope="module")
def committed_db(pg_server_url: str) -> Iterator[Database]:
    """A migrated database of the module's own, for code that opens its own sessions/threads
    (services, workers, listeners): their commits are real, so rows persist for the module."""
    with scratch_database(pg_server_url) as url:
        db = open_database(url)
        migrate.upgrade(db.engine)
        try:
            yield db
        finally:
            db.dispose()


class LoginRoles:
    """Unique user names for tests that create database roles (roles are global to a server);
    every role named through it is dropped when the test ends."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.names: list[str] = []

    def new(self, prefix: str = "t") -> str:
        import uuid

        name = f"{prefix}.{uuid.uuid4().hex[:10]}"
        self.names.append(name)
        return name

    def drop_all(self) -> None:
        from sqlalchemy import create_engine, text

        from medapp.db.roles import drop_user_role

        if not self.names:
            return
        admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                for name in self.names:
                    conn.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE usename = :n"
                        ),
                        {"n": name},
                    )
                    drop_user_role(conn, name)
        finally:
            admin.dispose()


@pytest.fixture
def login_roles(pg_server_url: str) -> Iterator[LoginRoles]:
    roles = LoginRoles(pg_server_url)
    try:
        yield roles
    finally:
        roles.drop_all()
