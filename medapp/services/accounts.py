"""Schools and user accounts: what district IT does (``medapp admin …``) and the first-run
dialog of a single-PC install.

An account is two things kept in step, in one transaction:

* the ``users`` row (name, role, active) with its ``user_schools`` memberships — what the app
  and the row-level security policies read;
* the PostgreSQL role of the same name, member of the group ``medapp_<role>`` — who the
  database sees acting (see :mod:`medapp.db.roles`).

Where the password lives depends on the database: on a **district server** it is the login
role's SCRAM-SHA-256 verifier (``users.password_hash`` stays NULL, the server checks it at
connect); on the **private single-PC database** it is an argon2id hash in
``users.password_hash`` and the role is NOLOGIN (the app takes it with ``SET ROLE``).

These functions take the *base* :class:`~medapp.db.engine.Database` — IT's admin connection
(a role with CREATEROLE) on the server, the embedded superuser on the private database — not a
signed-in desk: creating roles is not something a nurse's connection can do. Who may call them
from the app is :func:`may_manage_accounts`.

Idempotent: running the same command again changes nothing and says so; a conflicting
request (another role, other schools) is refused with one sentence instead of guessed.
Passwords never appear in a message, a log line or a SQL string (see ``medapp.db.roles``).

**The first account of a single-PC install** (:func:`create_first_admin`) is a LEAD_NURSE of
every school on that database, and on the private database a lead nurse also manages accounts
(:func:`may_manage_accounts`). Why: on one PC the administrator *is* the nurse who works there;
a DISTRICT_ADMIN may not see student data, so making her one would lock her out of her own
desk. On a district server only DISTRICT_ADMIN (and IT's own admin role) manage accounts.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, text

from medapp.db import roles as pgroles
from medapp.db.engine import Database
from medapp.services.desk import Actor, Role
from medapp.services.passwords import PasswordRejected, check_policy, hash_password
from medapp.services.people import SchoolInfo

log = logging.getLogger(__name__)

__all__ = [
    "AccountError",
    "CreateResult",
    "PasswordRejected",
    "SchoolInfo",
    "UserRow",
    "create_first_admin",
    "create_school",
    "create_user",
    "disable_user",
    "enable_user",
    "list_users",
    "may_manage_accounts",
    "needs_first_admin",
    "reset_password",
]

#: roles that work with students and so must belong to at least one school
_SCHOOL_ROLES = frozenset({Role.NURSE, Role.LEAD_NURSE})


class AccountError(ValueError):
    """A request district IT can fix (unknown school, name taken…); one sentence."""


@dataclass(frozen=True)
class UserRow:
    """One account as ``medapp admin list-users`` and an accounts screen show it."""

    id: uuid.UUID
    username: str
    first_name: str
    last_name: str
    role: Role
    schools: tuple[str, ...]  # school names, sorted
    active: bool
    login_role: bool  # the database role of this user exists
    has_password: bool  # private DB: an argon2 hash is set; server: the role has a password

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.username

    def as_dict(self) -> dict[str, object]:
        return {
            "username": self.username,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "role": self.role.value,
            "schools": list(self.schools),
            "active": self.active,
            "login_role": self.login_role,
            "has_password": self.has_password,
        }


@dataclass(frozen=True)
class CreateResult:
    user: UserRow
    created: bool  # False: the account already existed exactly like this (nothing changed)


def may_manage_accounts(actor: Actor, *, embedded: bool) -> bool:
    """District admins manage accounts; on a single-PC install so does its lead nurse."""
    if not actor.is_active:
        return False
    return actor.role is Role.DISTRICT_ADMIN or (embedded and actor.role is Role.LEAD_NURSE)


# -- schools -------------------------------------------------------------------------------------


def _clean(text_: str | None) -> str:
    return " ".join((text_ or "").split())


def _code_from_name(name: str) -> str:
    slug = re.sub(r"[^A-Z0-9]+", "-", name.upper()).strip("-")
    return (slug or "SCHOOL")[:32].rstrip("-")


def _school_info(row: Row[Any]) -> SchoolInfo:
    return SchoolInfo(row.id, row.code, row.name, row.timezone)


_SCHOOL_COLS = "id, code, name, timezone"


def create_school(db: Database, name: str, code: str | None = None) -> SchoolInfo:
    """The school named ``name`` (created if new). Same name again: the same school; a name or
    code that belongs to a different school: :class:`AccountError`."""
    name, code = _clean(name), _clean(code).upper() or None
    if not name:
        raise AccountError("Give the school's name.")
    if len(name) > 200:
        raise AccountError("The school's name is longer than 200 characters.")
    if code is not None and len(code) > 32:
        raise AccountError("The school code is longer than 32 characters.")
    with db.engine.begin() as conn:
        conn.execute(text("LOCK TABLE schools IN SHARE ROW EXCLUSIVE MODE"))
        by_name = conn.execute(
            text(f"SELECT {_SCHOOL_COLS} FROM schools WHERE lower(name) = lower(:n)"), {"n": name}
        ).first()
        by_code = (
            conn.execute(
                text(f"SELECT {_SCHOOL_COLS} FROM schools WHERE upper(code) = :c"), {"c": code}
            ).first()
            if code
            else None
        )
        if by_name is not None:
            if code and by_name.code.upper() != code:
                raise AccountError(
                    f"The school '{by_name.name}' already exists with code '{by_name.code}'."
                )
            return _school_info(by_name)
        if by_code is not None:
            raise AccountError(f"The code '{code}' already belongs to the school '{by_code.name}'.")
        if code is None:
            base = _code_from_name(name)
            code, n = base, 2
            while conn.execute(text("SELECT 1 FROM schools WHERE code = :c"), {"c": code}).first():
                suffix = f"-{n}"
                code, n = base[: 32 - len(suffix)] + suffix, n + 1
        row = conn.execute(
            text(
                f"INSERT INTO schools (id, code, name) VALUES (:id, :c, :n) RETURNING {_SCHOOL_COLS}"
            ),
            {"id": uuid.uuid4(), "c": code, "n": name},
        ).one()
        log.info("school created (code %s)", code)
        return _school_info(row)


def _school_ids(conn: Connection, schools: Sequence[str]) -> dict[uuid.UUID, str]:
    """School names or codes → {id: name}; an unknown one is an :class:`AccountError`."""
    found: dict[uuid.UUID, str] = {}
    for given in schools:
        key = _clean(given)
        if not key:
            continue
        row = conn.execute(
            text(
                "SELECT id, name FROM schools WHERE lower(name) = lower(:k) OR upper(code) = "
                "upper(:k) ORDER BY (lower(name) = lower(:k)) DESC LIMIT 1"
            ),
            {"k": key},
        ).first()
        if row is None:
            raise AccountError(
                f"There is no school '{key}'; create it first with 'medapp admin create-school'."
            )
        found[row.id] = row.name
    return found


# -- users ---------------------------------------------------------------------------------------


def _username(username: str) -> str:
    name = (username or "").strip().lower()
    if not pgroles.valid_username(name):
        raise AccountError(
            f"'{username}' cannot be a user name: use 2 to 63 lowercase letters, digits, '.', "
            "'_' or '-', starting with a letter (not 'pg_…' or 'medapp_…')."
        )
    return name


def _user_row(conn: Connection, username: str) -> Row[Any] | None:
    return conn.execute(
        text(
            "SELECT id, username, first_name, last_name, role, is_active, "
            "password_hash IS NOT NULL AS has_hash FROM users WHERE username = :u"
        ),
        {"u": username},
    ).first()


def _memberships(conn: Connection, user_id: uuid.UUID) -> dict[uuid.UUID, str]:
    rows = conn.execute(
        text(
            "SELECT s.id, s.name FROM user_schools us JOIN schools s ON s.id = us.school_id "
            "WHERE us.user_id = :u"
        ),
        {"u": user_id},
    ).all()
    return {r.id: r.name for r in rows}


def _load(conn: Connection, username: str, *, embedded: bool) -> UserRow:
    row = _user_row(conn, username)
    if row is None:
        raise AccountError(f"There is no user '{username}'.")
    info = pgroles.role_info(conn, username)
    if embedded:
        has_password = bool(row.has_hash)
    else:
        has_password = bool(
            info is not None
            and conn.execute(
                text("SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname = :n"),
                {"n": username},
            ).scalar()
            if _can_read_authid(conn)
            else info is not None and info.can_login
        )
    return UserRow(
        id=row.id,
        username=row.username,
        first_name=row.first_name,
        last_name=row.last_name,
        role=Role.parse(row.role),
        schools=tuple(sorted(_memberships(conn, row.id).values())),
        active=bool(row.is_active),
        login_role=info is not None,
        has_password=has_password,
    )


def _can_read_authid(conn: Connection) -> bool:
    return bool(
        conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()
    )


def _lock_accounts(conn: Connection) -> None:
    """One account change at a time (two IT scripts creating the same user must not race)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('medapp.accounts'))"))


def create_user(
    db: Database,
    username: str,
    role: Role,
    schools: Sequence[str],
    password: str,
    first_name: str = "",
    last_name: str = "",
) -> CreateResult:
    """Create the account (users row, memberships, database role, password).

    Re-running with the same role and schools changes nothing (the password too: use
    :func:`reset_password`); an existing account with another role or other schools is an
    :class:`AccountError`. A users row without its database role (a restored database, demo
    data) gets the role and this password.
    """
    name = _username(username)
    role = Role(role)
    check_policy(password)
    first, last = _clean(first_name)[:100], _clean(last_name)[:100]
    with db.engine.begin() as conn:
        _lock_accounts(conn)
        school_ids = _school_ids(conn, schools)
        if role in _SCHOOL_ROLES and not school_ids:
            raise AccountError(f"A {role.label.lower()} needs at least one school (--school).")
        existing = _user_row(conn, name)
        info = pgroles.role_info(conn, name)
        if (
            existing is None
            and info is not None
            and not (info.groups & set(pgroles.GROUP_ROLES.values()))
        ):
            raise AccountError(
                f"The database already has a role '{name}' that is not a medapp account; "
                "choose another user name."
            )
        if existing is not None:
            current = UserRowLite(
                Role.parse(existing.role),
                frozenset(_memberships(conn, existing.id)),
            )
            if current.role is not role or current.school_ids != frozenset(school_ids):
                had = ", ".join(sorted(_memberships(conn, existing.id).values())) or "no school"
                raise AccountError(
                    f"The user '{name}' already exists as {current.role.label.lower()} of "
                    f"{had}; nothing was changed."
                )
            changed = False
            if info is None or (not db.embedded and not info.can_login and existing.is_active):
                pgroles.ensure_user_role(
                    conn,
                    name,
                    role,
                    login=not db.embedded and bool(existing.is_active),
                    password=None if db.embedded else password,
                )
                changed = True
            if db.embedded and not existing.has_hash:
                conn.execute(
                    text("UPDATE users SET password_hash = :h WHERE id = :id"),
                    {"h": hash_password(password), "id": existing.id},
                )
                changed = True
            if changed:
                log.info("account completed (role and password set)")
            return CreateResult(_load(conn, name, embedded=db.embedded), created=changed)
        user_id = uuid.uuid4()
        home = next(iter(school_ids), None)
        conn.execute(
            text(
                "INSERT INTO users (id, first_name, last_name, username, role, school_id, "
                "is_active, password_hash) VALUES (:id, :f, :l, :u, :r, :s, true, :h)"
            ),
            {
                "id": user_id,
                "f": first,
                "l": last,
                "u": name,
                "r": role.value,
                "s": home,
                "h": hash_password(password) if db.embedded else None,
            },
        )
        for school_id in school_ids:
            conn.execute(
                text("INSERT INTO user_schools (user_id, school_id) VALUES (:u, :s)"),
                {"u": user_id, "s": school_id},
            )
        pgroles.ensure_user_role(
            conn,
            name,
            role,
            login=not db.embedded,
            password=None if db.embedded else password,
        )
        log.info("account created (role %s, %d schools)", role.value, len(school_ids))
        return CreateResult(_load(conn, name, embedded=db.embedded), created=True)


@dataclass(frozen=True)
class UserRowLite:
    role: Role
    school_ids: frozenset[uuid.UUID]


def _require_user(conn: Connection, username: str) -> Row[Any]:
    name = (username or "").strip().lower()
    row = _user_row(conn, name)
    if row is None:
        raise AccountError(f"There is no user '{name}'.")
    return row


def disable_user(db: Database, username: str) -> UserRow:
    """The account can no longer sign in (records she made keep her name). On a server her
    login is switched off and her open connections are ended."""
    with db.engine.begin() as conn:
        _lock_accounts(conn)
        row = _require_user(conn, username)
        name = row.username
        conn.execute(text("UPDATE users SET is_active = false WHERE id = :id"), {"id": row.id})
        info = pgroles.role_info(conn, name)
        if info is not None and info.can_login:
            pgroles.set_role_login(conn, name, False)
    if not db.embedded:
        with db.engine.begin() as conn:
            ended = pgroles.terminate_sessions(conn, name)
        if ended:
            log.info("ended %d open connections of a disabled account", ended)
    with db.engine.connect() as conn:
        return _load(conn, name, embedded=db.embedded)


def enable_user(db: Database, username: str) -> UserRow:
    """Undo :func:`disable_user` (the password is unchanged)."""
    with db.engine.begin() as conn:
        _lock_accounts(conn)
        row = _require_user(conn, username)
        name = row.username
        conn.execute(text("UPDATE users SET is_active = true WHERE id = :id"), {"id": row.id})
        info = pgroles.role_info(conn, name)
        if info is not None and not db.embedded and not info.can_login:
            pgroles.set_role_login(conn, name, True)
        return _load(conn, name, embedded=db.embedded)


def reset_password(db: Database, username: str, password: str) -> UserRow:
    """Set a new password (the old one stops working at once; open sessions stay)."""
    check_policy(password)
    with db.engine.begin() as conn:
        _lock_accounts(conn)
        row = _require_user(conn, username)
        name = row.username
        if db.embedded:
            conn.execute(
                text("UPDATE users SET password_hash = :h WHERE id = :id"),
                {"h": hash_password(password), "id": row.id},
            )
            if pgroles.role_info(conn, name) is None:
                pgroles.ensure_user_role(
                    conn,
                    name,
                    Role.parse(row.role),
                    login=False,
                    password=None,
                )
        else:
            pgroles.ensure_user_role(
                conn,
                name,
                Role.parse(row.role),
                login=bool(row.is_active),
                password=password,
            )
        log.info("password reset for one account")
        return _load(conn, name, embedded=db.embedded)


def list_users(db: Database) -> tuple[UserRow, ...]:
    """Every account, by user name."""
    with db.engine.connect() as conn:
        names = conn.execute(text("SELECT username FROM users ORDER BY username")).scalars().all()
        return tuple(_load(conn, n, embedded=db.embedded) for n in names)


# -- first run of a single-PC install ------------------------------------------------------------


def needs_first_admin(db: Database) -> bool:
    """True on a private database where nobody can sign in yet (no active account with a
    password): the app shows the first-run dialog instead of the sign-in. Never on a server
    (district IT creates the accounts there)."""
    if not db.embedded:
        return False
    with db.engine.connect() as conn:
        return not conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM users WHERE is_active AND password_hash IS NOT NULL)"
            )
        ).scalar()


def create_first_admin(
    db: Database,
    username: str,
    password: str,
    *,
    first_name: str = "",
    last_name: str = "",
    school_name: str | None = None,
) -> CreateResult:
    """The first account of a single-PC install: a LEAD_NURSE of every school on this database
    (``school_name`` is created first if given, and is required when there is no school yet),
    who also manages accounts here (:func:`may_manage_accounts`). Refused once any account can
    sign in, so the dialog cannot be used to take over an installed desk."""
    if not db.embedded:
        raise AccountError(
            "The first-run account is only for the private database; on a district server "
            "IT creates accounts with 'medapp admin create-user'."
        )
    if not needs_first_admin(db):
        raise AccountError("This desk already has an account; sign in with it.")
    if school_name and _clean(school_name):
        create_school(db, school_name)
    with db.engine.connect() as conn:
        schools = conn.execute(text("SELECT name FROM schools ORDER BY name")).scalars().all()
    if not schools:
        raise AccountError("Give the name of your school.")
    return create_user(
        db, username, Role.LEAD_NURSE, list(schools), password, first_name, last_name
    )
