"""Start-up: settings → (embedded server) → engine → schema check. Called once, never at import."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from medapp import paths
from medapp.config import Settings
from medapp.db import migrate
from medapp.db.embedded import start_embedded
from medapp.db.engine import Database, open_database
from medapp.db.errors import DatabaseUnavailable, describe_target

log = logging.getLogger(__name__)

EMBEDDED_DB_NAME = "medapp"


def embedded_pgdata(demo: bool = False) -> Path:
    """The demo gets its own private server folder so trying it never touches real records."""
    return paths.data_dir() / ("demo-pgdata" if demo else "pgdata")


def _ensure_database(server_url: str, name: str) -> str:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


SchemaPolicy = Literal["upgrade", "check", "none"]


def connect(
    settings: Settings, *, demo: bool = False, schema: SchemaPolicy | None = None
) -> Database:
    """Open the configured database, ready for use.

    ``schema`` defaults to "upgrade" for the private embedded database (it belongs to this PC)
    and to "check" for a district server: there a schema mismatch is a clear error for IT,
    because several PCs share that server and upgrading it is their decision ("upgrade" is
    used by the demo and ``medapp db upgrade``; "none" by ``medapp db`` commands).
    """
    if settings.embedded:
        server_url = start_embedded(embedded_pgdata(demo))
        url = _ensure_database(server_url, EMBEDDED_DB_NAME)
        db = open_database(url, embedded=True)
        schema = schema or "upgrade"
    else:
        assert settings.database_url is not None
        db = open_database(settings.database_url, embedded=False)
        schema = schema or "check"
    if schema == "upgrade":
        migrate.upgrade(db.engine)
    elif schema == "check":
        current, head = migrate.current_revision(db.engine), migrate.head_revision(db.engine)
        if current != head:
            state = "has no medapp tables yet" if current is None else f"is at schema {current}"
            db.dispose()
            raise DatabaseUnavailable(
                f"The database at {describe_target(db.url)} {state}; this version of medapp needs "
                f"schema {head}. Ask district IT to run 'medapp db upgrade'."
            )
    return db
