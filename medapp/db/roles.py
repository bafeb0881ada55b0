"""The PostgreSQL side of an account: one database role per user, member of one group role.

Why a role per user: on the district server the desk connects *as the nurse*, so row-level
security, the audit trail and ``pg_stat_activity`` all know who acts; no shared application
password exists that could be copied from one PC to act as anybody.

* District server: the user's role is ``LOGIN`` with a SCRAM-SHA-256 password. The verifier is
  computed **on this PC** by libpq (``PQencryptPasswordConn``, what ``psql``'s ``\\password``
  does), so the clear password never travels to the server, never appears in its statement log
  (``log_statement = ddl`` would otherwise print it) and never sits in a SQL string here.
* Private single-PC database: the role is ``NOLOGIN`` (nobody connects with it over a socket);
  the app's own superuser connection takes it with ``SET ROLE`` after checking the argon2id
  hash kept in ``users.password_hash``.

Statements are composed with ``psycopg.sql`` (``Identifier``/``Literal``), never by string
formatting, and run on the raw driver cursor so SQLAlchemy does not copy them into an exception
message or an echo log. Every function runs inside the caller's transaction.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Connection, text

__all__ = [
    "GROUP_ROLES",
    "USERNAME_PATTERN",
    "RoleInfo",
    "drop_user_role",
    "ensure_group_roles",
    "ensure_user_role",
    "group_role",
    "role_info",
    "scram_verifier",
    "set_role_login",
    "set_role_password",
    "terminate_sessions",
    "valid_username",
]

#: the user name is the role name (lowercase so it never needs quoting surprises in psql)
USERNAME_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{1,62}$")
#: names a user may not take: the group roles, PostgreSQL's own and reserved prefixes
_RESERVED_PREFIXES = ("pg_", "medapp_")
_RESERVED = frozenset({"postgres", "public", "none", "current_user", "session_user", "all"})

#: users.role value → its group role (the values of ``medapp.services.desk.Role``)
GROUP_ROLES: dict[str, str] = {
    role: f"medapp_{role.lower()}" for role in ("NURSE", "LEAD_NURSE", "DISTRICT_ADMIN", "AUDITOR")
}


def group_role(role: str) -> str:
    """``LEAD_NURSE`` → ``medapp_lead_nurse`` (the group every lead nurse's role is in)."""
    return GROUP_ROLES[str(role)]


def valid_username(username: str) -> bool:
    return (
        bool(USERNAME_PATTERN.match(username))
        and username not in _RESERVED
        and not username.startswith(_RESERVED_PREFIXES)
    )


class RoleInfo:
    """What the server knows about one login role."""

    __slots__ = ("can_login", "groups", "name")

    def __init__(self, name: str, can_login: bool, groups: frozenset[str]) -> None:
        self.name, self.can_login, self.groups = name, can_login, groups


def _driver(conn: Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under SQLAlchemy's, inside the same transaction."""
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return driver


def _run(conn: Connection, statement: sql.Composed | sql.SQL) -> None:
    driver = _driver(conn)
    with driver.cursor() as cur:
        cur.execute(statement)


def role_info(conn: Connection, name: str) -> RoleInfo | None:
    row = conn.execute(
        text(
            "SELECT r.rolcanlogin, coalesce(array_agg(g.rolname) "
            "FILTER (WHERE g.rolname IS NOT NULL), '{}') "
            "FROM pg_roles r LEFT JOIN pg_auth_members m ON m.member = r.oid "
            "LEFT JOIN pg_roles g ON g.oid = m.roleid WHERE r.rolname = :n GROUP BY r.rolcanlogin"
        ),
        {"n": name},
    ).first()
    if row is None:
        return None
    return RoleInfo(name, bool(row[0]), frozenset(row[1]))


def ensure_group_roles(conn: Connection) -> None:
    """The four NOLOGIN group roles (migration 0005 creates them; this makes the accounts code
    usable on a database whose schema is upgraded by someone else, and is race-safe)."""
    existing = set(
        conn.execute(
            text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:names)"),
            {"names": list(GROUP_ROLES.values())},
        ).scalars()
    )
    for name in GROUP_ROLES.values():
        if name in existing:
            continue
        _run(
            conn,
            sql.SQL(
                "DO $$ BEGIN CREATE ROLE {} NOLOGIN; "
                "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            ).format(sql.Identifier(name)),
        )


def scram_verifier(conn: Connection, username: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier of ``password`` for ``username``, computed by libpq here."""
    pgconn = _driver(conn).pgconn
    return bytes(
        pgconn.encrypt_password(password.encode(), username.encode(), b"scram-sha-256")
    ).decode("ascii")


def ensure_user_role(
    conn: Connection, username: str, role: str, *, login: bool, password: str | None
) -> bool:
    """Create or align the user's role: LOGIN (with the password, if given) or NOLOGIN, member
    of exactly the group of ``role``. True when the role was created."""
    ensure_group_roles(conn)
    info = role_info(conn, username)
    created = info is None
    ident = sql.Identifier(username)
    if created:
        _run(
            conn,
            sql.SQL("CREATE ROLE {} {} IN ROLE {}").format(
                ident,
                sql.SQL("LOGIN" if login else "NOLOGIN"),
                sql.Identifier(group_role(role)),
            ),
        )
    elif info is not None and info.can_login != login:
        set_role_login(conn, username, login)
    if password is not None:
        set_role_password(conn, username, password if login else None)
    groups = info.groups if info is not None else frozenset({group_role(role)})
    wanted = group_role(role)
    for other in GROUP_ROLES.values():
        if other != wanted and other in groups:
            _run(conn, sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(other), ident))
    if wanted not in groups:
        _run(conn, sql.SQL("GRANT {} TO {}").format(sql.Identifier(wanted), ident))
    return created


def set_role_login(conn: Connection, username: str, login: bool) -> None:
    _run(
        conn,
        sql.SQL("ALTER ROLE {} {}").format(
            sql.Identifier(username), sql.SQL("LOGIN" if login else "NOLOGIN")
        ),
    )


def set_role_password(conn: Connection, username: str, password: str | None) -> None:
    """Store a SCRAM verifier (server accounts) or remove any password (``None``)."""
    if password is None:
        _run(conn, sql.SQL("ALTER ROLE {} PASSWORD NULL").format(sql.Identifier(username)))
        return
    # Belt and braces: if some server were to get the clear text it must still hash it as SCRAM.
    _run(conn, sql.SQL("SET LOCAL password_encryption = 'scram-sha-256'"))
    _run(
        conn,
        sql.SQL("ALTER ROLE {} PASSWORD {}").format(
            sql.Identifier(username), sql.Literal(scram_verifier(conn, username, password))
        ),
    )


def terminate_sessions(conn: Connection, username: str) -> int:
    """End the user's open connections (after disabling her); 0 when not permitted to."""
    try:
        with conn.begin_nested():
            return int(
                conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE usename = :n AND pid <> pg_backend_pid()"
                    ),
                    {"n": username},
                ).scalar()
                or 0
            )
    except Exception:  # noqa: BLE001 - lacking pg_signal_backend must not stop the disable
        return 0


def drop_user_role(conn: Connection, username: str) -> None:
    """Drop a user's role (tests, and undoing a half-made account). Never a group role."""
    if not valid_username(username):
        raise ValueError("not a user role name")
    _run(conn, sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(username)))
