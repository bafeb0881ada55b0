"""Engine and session factory, built once at start-up (never at import time)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from medapp.db.errors import DatabaseUnavailable, describe_target, explain_connect_error

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5


def normalize_url(url: str) -> str:
    """Accept the libpq-style URLs IT staff paste (``postgresql://`` / ``postgres://``)."""
    url = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailable(
            f"The database address '{url[:40]}…' is not a valid URL. "
            "Expected postgresql://user@host:5432/database."
        ) from exc
    if parsed.get_backend_name() != "postgresql":
        raise DatabaseUnavailable(
            f"medapp needs PostgreSQL; the address names '{parsed.get_backend_name()}'. "
            "Expected postgresql://user@host:5432/database."
        )
    return url


def make_engine(url: str, *, pool_size: int = 5, echo: bool = False) -> Engine:
    url = normalize_url(url)
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=5,
        pool_pre_ping=True,  # the district server restarts at night; don't hand out dead sockets
        pool_recycle=1800,
        echo=echo,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "medapp"},
    )


def check_connection(engine: Engine) -> None:
    """Fail fast with one clear sentence if the database cannot be used."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError) as exc:
        raise explain_connect_error(engine.url.render_as_string(hide_password=False), exc) from None


@dataclass
class Database:
    """What the rest of the app needs: an engine, a session factory, and where it points."""

    engine: Engine
    sessions: sessionmaker[Session]
    url: str
    embedded: bool

    @property
    def display_name(self) -> str:
        return "local (this PC)" if self.embedded else describe_target(self.url)

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str, *, embedded: bool = False, pool_size: int = 5) -> Database:
    engine = make_engine(url, pool_size=pool_size)
    check_connection(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    log.info("connected to %s", "embedded database" if embedded else describe_target(url))
    return Database(engine=engine, sessions=sessions, url=url, embedded=embedded)
