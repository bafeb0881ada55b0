"""Signing in: a user name and her own password give a database engine that acts as her.

* **District server**: the engine's URL carries her user name and password — PostgreSQL checks
  the password (SCRAM, see the README for ``pg_hba.conf``) and every statement runs as her
  login role, so row-level security and the audit trail see her, not a shared app account.
* **Private single-PC database**: the app checks the argon2id hash in ``users.password_hash``
  (an unknown name costs the same as a wrong password) and then every connection of her engine
  takes her NOLOGIN role with ``SET ROLE`` as it is opened (a SQLAlchemy ``connect`` event), so
  the same policies and audit apply. The connection itself is the embedded superuser's over the
  private Unix socket: this protects the records from the app's own mistakes and gives a true
  audit trail; it cannot protect them from someone who owns the PC account holding the data
  folder (nothing on that PC could).

Who she is (:class:`~medapp.services.desk.Actor`) is read *on her own connection*
(``users.username = current_user``), never taken from what the client remembers.

Every failure is :class:`SignInFailed` with one sentence: the same sentence for an unknown user
and a wrong password, a separate one for a disabled account (said only after the password was
right). Passwords are never logged, shown, or kept beyond the engine's URL in memory.

Connections: a signed-in engine holds at most ``pool_size + max_overflow`` server connections
(1 + 1 by default: the GUI's reads and one background write at a time). The change listener
(``medapp.db.notify``) opens its own LISTEN connection besides; a desk that must stay within
two connections in all passes ``max_overflow=0``.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from psycopg import sql
from sqlalchemy import URL, Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from medapp.db import roles as pgroles
from medapp.db.engine import CONNECT_TIMEOUT_S, Database, normalize_url
from medapp.db.errors import DatabaseUnavailable, explain_connect_error
from medapp.services.desk import Actor, Desk, Role, utc_now
from medapp.services.passwords import verify_hash

if TYPE_CHECKING:  # pragma: no cover - typing only
    from medapp.cache.outbox import Outbox
    from medapp.cache.store import Cache

log = logging.getLogger(__name__)

__all__ = [
    "NOT_RIGHT",
    "DatabaseUnavailable",
    "SignInFailed",
    "SignedIn",
    "sign_in",
    "verify_password",
]

#: the one sentence for an unknown user name and for a wrong password
NOT_RIGHT = "User name or password is not right."
#: The connection budget (issue 13): a signed-in desk holds at most two server connections —
#: this one pooled connection, which the GUI's background tasks queue for, and the change
#: listener's. A district server's ``max_connections`` is then 2 × desks + a margin (README).
DEFAULT_POOL_SIZE = 1
DEFAULT_MAX_OVERFLOW = 0
#: a task waiting longer than this for the desk's connection gets one clear sentence
#: (``friendly_error``), never an endless wait
POOL_TIMEOUT_S = 20.0


class SignInFailed(Exception):
    """Signing in (or re-entering a password) did not work; ``str(exc)`` is the sentence."""


def _disabled(username: str) -> SignInFailed:
    return SignInFailed(
        f"The account '{username}' is disabled; ask district IT (or your lead nurse) to enable it."
    )


@dataclass
class SignedIn:
    """A nurse at the desk: her own engine (``db``) and who she is (``actor``).

    ``base`` is the database the sign-in was made from (IT's configured address, or the private
    database's superuser connection); it checks other people's passwords (the witness of a
    controlled-substance count) and the lock screen's re-entry.
    """

    db: Database
    actor: Actor
    base: Database

    def verify(self, username: str, password: str) -> Actor:
        """Someone's own password, checked now (the witness); :class:`SignInFailed` if not."""
        return verify_password(self.base, username, password)

    def unlock(self, password: str) -> Actor:
        """The lock screen: the same nurse re-enters her password."""
        return verify_password(self.base, self.actor.username, password)

    def desk(
        self,
        clock: Callable[[], dt.datetime] | None = None,
        cache: Cache | None = None,
        outbox: Outbox | None = None,
    ) -> Desk:
        """The service calling convention for her, with the witness check wired in."""
        return Desk(
            self.db.sessions,
            self.actor,
            clock or utc_now,
            cache,
            outbox,
            check_password=self.verify,
        )

    def close(self) -> None:
        """Sign out: every connection of hers is closed (the base database stays open)."""
        self.db.dispose()


def _clean_username(username: str) -> str | None:
    name = (username or "").strip().lower()
    return name if pgroles.valid_username(name) else None


def _base_url(base: Database) -> URL:
    return make_url(normalize_url(base.url)) if isinstance(base.url, str) else base.engine.url


def _user_url(base: Database, username: str, password: str) -> URL:
    return _base_url(base).set(username=username, password=password)


def _engine(url: URL, *, pool_size: int | None, max_overflow: int) -> Engine:
    connect_args = {"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "medapp"}
    if pool_size is None:
        return create_engine(url, poolclass=NullPool, connect_args=connect_args)
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=POOL_TIMEOUT_S,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args=connect_args,
    )


def _take_role_on_connect(engine: Engine, username: str) -> None:
    statement = sql.SQL("SET ROLE {}").format(sql.Identifier(username))

    @event.listens_for(engine, "connect")
    def _set_role(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cur:
            cur.execute(statement)
        dbapi_connection.commit()  # session level: survives the pool's rollback-on-return


def _load_actor(conn: Connection) -> Actor | None:
    """The users row of the role this connection acts as, with her schools."""
    row = conn.execute(
        text(
            "SELECT id, username, first_name, last_name, role, is_active FROM users "
            "WHERE username = current_user"
        )
    ).first()
    if row is None:
        return None
    schools = conn.execute(
        text("SELECT school_id FROM user_schools WHERE user_id = :u"), {"u": row.id}
    ).scalars()
    return Actor(
        user_id=row.id,
        username=row.username,
        first_name=row.first_name,
        last_name=row.last_name,
        role=Role.parse(row.role),
        school_ids=frozenset(uuid.UUID(str(s)) for s in schools),
        is_active=bool(row.is_active),
    )


def _classify(exc: BaseException, username: str, base: Database) -> Exception:
    message = str(getattr(exc, "orig", None) or exc).lower()
    if "password authentication failed" in message or "no password supplied" in message:
        return SignInFailed(NOT_RIGHT)
    if "role" in message and "does not exist" in message:
        return SignInFailed(NOT_RIGHT)
    if "not permitted to log in" in message:
        return _disabled(username)
    if "permission denied for" in message:  # connected, but not a member of a medapp group
        return _no_account(username)
    return explain_connect_error(
        _base_url(base)._replace(password=None).render_as_string(hide_password=False), exc
    )


def _no_account(username: str) -> SignInFailed:
    return SignInFailed(
        f"'{username}' may connect to the database but has no medapp account; ask district IT."
    )


def _check_private_password(base: Database, username: str, password: str) -> str:
    """argon2 check on the private database; returns the users.role. Same work when unknown."""
    with base.engine.connect() as conn:
        row = conn.execute(
            text("SELECT password_hash, is_active, role FROM users WHERE username = :u"),
            {"u": username},
        ).first()
    if not verify_hash(row.password_hash if row is not None else None, password):
        raise SignInFailed(NOT_RIGHT)
    assert row is not None
    if not row.is_active:
        raise _disabled(username)
    return str(row.role)


def _ensure_private_role(base: Database, username: str, role: str) -> None:
    """Accounts made before their role existed (an older demo database) get it now."""
    with base.engine.begin() as conn:
        info = pgroles.role_info(conn, username)
        if info is None or pgroles.group_role(Role.parse(role)) not in info.groups:
            pgroles.ensure_user_role(conn, username, Role.parse(role), login=False, password=None)


def _signed_in_as(engine: Engine, username: str, base: Database) -> Actor:
    try:
        with engine.connect() as conn:
            actor = _load_actor(conn)
    except (OperationalError, DBAPIError) as exc:
        raise _classify(exc, username, base) from None
    if actor is None:
        raise _no_account(username)
    if not actor.is_active:
        raise _disabled(username)
    return actor


def sign_in(
    base: Database,
    username: str,
    password: str,
    *,
    pool_size: int = DEFAULT_POOL_SIZE,
    max_overflow: int = DEFAULT_MAX_OVERFLOW,
) -> SignedIn:
    """Check the password and open her engine; :class:`SignInFailed` (one sentence) if not.

    Raises :class:`~medapp.db.errors.DatabaseUnavailable` when the server cannot be reached.
    """
    name = _clean_username(username)
    if base.embedded:
        role = _check_private_password(base, name or "", password or "")
        assert name is not None
        _ensure_private_role(base, name, role)
        url = _base_url(base)
        engine = _engine(url, pool_size=pool_size, max_overflow=max_overflow)
        _take_role_on_connect(engine, name)
    else:
        if name is None or not password:
            raise SignInFailed(NOT_RIGHT)
        url = _user_url(base, name, password)
        engine = _engine(url, pool_size=pool_size, max_overflow=max_overflow)
    try:
        actor = _signed_in_as(engine, name, base)
    except BaseException:
        engine.dispose()
        raise
    db = Database(
        engine=engine,
        sessions=sessionmaker(engine, expire_on_commit=False),
        url=url._replace(password=None).render_as_string(hide_password=False),
        embedded=base.embedded,
    )
    log.info("signed in (role %s, %d schools)", actor.role.value, len(actor.school_ids))
    return SignedIn(db=db, actor=actor, base=base)


def verify_password(base: Database, username: str, password: str) -> Actor:
    """Check someone's own password now and return who she is (the lock screen, the witness of a
    controlled-substance count). Server: one short connection as her, closed at once. Private
    database: the argon2 hash, then her users row read under her role."""
    name = _clean_username(username)
    if base.embedded:
        role = _check_private_password(base, name or "", password or "")
        assert name is not None
        _ensure_private_role(base, name, role)
        with base.engine.connect() as conn:
            conn.execute(text("SELECT 1"))  # begin the transaction SET LOCAL belongs to
            conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(name))
            )
            actor = _load_actor(conn)
            conn.rollback()  # the role ends with the transaction
        if actor is None:
            raise _no_account(name)
        if not actor.is_active:
            raise _disabled(name)
        return actor
    if name is None or not password:
        raise SignInFailed(NOT_RIGHT)
    engine = _engine(_user_url(base, name, password), pool_size=None, max_overflow=0)
    try:
        return _signed_in_as(engine, name, base)
    finally:
        engine.dispose()
