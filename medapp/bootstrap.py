"""Start-up: settings → (embedded server) → engine → schema check. Called once, never at import."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from medapp import paths
from medapp.config import Settings
from medapp.db import migrate
from medapp.db.embedded import start_embedded
from medapp.db.engine import Database, make_engine, normalize_url, open_database
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
        try:
            check_schema(db)
        except DatabaseUnavailable:
            db.dispose()
            raise
    return db


def check_schema(db: Database) -> None:
    """Refuse, in one sentence for IT, a server whose schema is not this version's (works on a
    signed-in nurse's engine too: every medapp role may read ``alembic_version``)."""
    current, head = migrate.current_revision(db.engine), migrate.head_revision(db.engine)
    if current != head:
        state = "has no medapp tables yet" if current is None else f"is at schema {current}"
        raise DatabaseUnavailable(
            f"The database at {describe_target(db.url)} {state}; this version of medapp needs "
            f"schema {head}. Ask district IT to run 'medapp db upgrade'."
        )


def desk_base(settings: Settings, *, demo: bool = False) -> Database:
    """What the desk signs in *from* (``medapp.services.signin.sign_in(base, …)``).

    * Private database: the embedded superuser's connection, migrated (it belongs to this PC);
      the sign-in checks the argon2 hash and hands out engines that ``SET ROLE`` to the nurse.
    * District server: **no connection is made** — nobody is signed in yet, and the desk has no
      account of its own. The Database only carries the address (any user name or password in
      it is dropped); the sign-in puts the nurse's own name and password in it. Call
      :func:`check_schema` on the signed-in engine afterwards.
    """
    if settings.embedded:
        return connect(settings, demo=demo)
    assert settings.database_url is not None
    url = make_url(normalize_url(settings.database_url))._replace(username=None, password=None)
    text_url = url.render_as_string(hide_password=False)
    engine = make_engine(text_url, pool_size=1, max_overflow=0)  # lazy: never connects by itself
    log.info("district server at %s: waiting for a sign-in", describe_target(text_url))
    return Database(
        engine=engine,
        sessions=sessionmaker(engine, expire_on_commit=False),
        url=text_url,
        embedded=False,
    )


def private_pgdatas() -> list[Path]:
    """Every private server folder medapp may run for this PC account (desk, demo, bench)."""
    return [embedded_pgdata(), embedded_pgdata(demo=True), paths.data_dir() / "bench-pgdata"]


def stop_private_servers() -> list[Path]:
    """Stop this account's private servers that are running; returns the folders stopped.

    For the uninstaller and upgrades (``medapp db stop``): on Windows a running ``postgres.exe``
    locks the program folder, and a server left by a killed app would otherwise run on. The
    handle file is emptied too, so the next start begins afresh. Never starts a server."""
    from medapp.db import embedded

    stopped: list[Path] = []
    for pgdata in private_pgdatas():
        if not pgdata.is_dir():
            continue
        pid = embedded.postmaster_pid(pgdata.resolve())
        if pid is not None:
            embedded.stop_server_process(pgdata.resolve(), pid)
            log.info("stopped a private database server")
            stopped.append(pgdata)
        handles = pgdata / embedded.HANDLE_FILE
        if handles.exists():
            handles.unlink()
    return stopped
