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


#: drivers medapp ships with (psycopg 3); "postgresql://" means this one
SUPPORTED_DRIVERS = frozenset({"psycopg"})
_EXPECTED = "Expected postgresql://user@host:5432/database."


def normalize_url(url: str) -> str:
    """Accept the libpq-style URLs IT staff paste (``postgresql://`` / ``postgres://``) and
    refuse anything else with one sentence that never repeats the address (it may hold a
    password): no scheme, another database, an unknown driver, a port that is not a number."""
    url = (url or "").strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
            break
    if "://" not in url:
        raise DatabaseUnavailable(
            "The database address is not a URL (it has no 'postgresql://' at the start). "
            + _EXPECTED
        )
    try:
        parsed = make_url(url)
    except ValueError:  # SQLAlchemy reads the port with int()
        raise DatabaseUnavailable(
            "The database address has a port that is not a number from 1 to 65535. " + _EXPECTED
        ) from None
    except ArgumentError:
        raise DatabaseUnavailable(
            "The database address cannot be read (check its punctuation). " + _EXPECTED
        ) from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend not in ("postgresql", "postgres"):
        raise DatabaseUnavailable(
            f"medapp needs PostgreSQL; the address names '{backend[:30]}'. " + _EXPECTED
        )
    if driver not in SUPPORTED_DRIVERS:
        raise DatabaseUnavailable(
            f"The database driver '{driver[:30]}' is not one medapp uses; write the address as "
            "postgresql://… (medapp uses psycopg)."
        )
    try:
        port = parsed.port
    except ValueError:
        port = -1
    if port is not None and not 0 < port < 65536:
        raise DatabaseUnavailable(
            "The database address has a port that is not a number from 1 to 65535. " + _EXPECTED
        )
    return url


def make_engine(
    url: str, *, pool_size: int = 5, max_overflow: int = 5, echo: bool = False
) -> Engine:
    url = normalize_url(url)
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
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
