"""Signing in to the demo: every demo account has the same, published password.

This is demo data on a private demo database (``medapp --demo``): the sign-in screen shows the
demo accounts and this password so anyone trying the app can sign in as a nurse, a lead nurse,
an auditor or a district administrator and see what each may do. It is never used for a real
account (the policy and ``medapp admin`` take real passwords from IT).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from medapp.db import roles as pgroles

__all__ = ["DEMO_PASSWORD", "DEMO_USERS_SHOWN", "demo_accounts", "enable_demo_sign_in"]

#: the password of every demo account (shown on the demo's sign-in screen)
DEMO_PASSWORD = "demo-password-2026"
#: how many demo accounts the sign-in screen lists (one of each role first)
DEMO_USERS_SHOWN = 6


def enable_demo_sign_in(conn: Connection, *, create_roles: bool) -> int:
    """Give every demo account :data:`DEMO_PASSWORD` (an argon2id hash, computed once: the
    password is public anyway) and, on the private demo database (``create_roles``), its
    NOLOGIN database role in its group. Returns the number of accounts."""
    from medapp.services.passwords import hash_password

    conn.execute(text("UPDATE users SET password_hash = :h"), {"h": hash_password(DEMO_PASSWORD)})
    rows = conn.execute(text("SELECT username, role FROM users ORDER BY username")).all()
    if create_roles:
        for username, role in rows:
            if pgroles.valid_username(username):
                pgroles.ensure_user_role(conn, username, role, login=False, password=None)
    return len(rows)


def demo_accounts(conn: Connection, limit: int = DEMO_USERS_SHOWN) -> list[tuple[str, str, str]]:
    """(user name, display name, role) of the accounts to show on the demo's sign-in screen:
    one of each role first, then the other nurses of the first school."""
    rows = conn.execute(
        text(
            "SELECT username, first_name || ' ' || last_name, role, "
            "row_number() OVER (PARTITION BY role ORDER BY username) AS n "
            "FROM users WHERE is_active ORDER BY n, "
            "array_position(ARRAY['NURSE','LEAD_NURSE','AUDITOR','DISTRICT_ADMIN'], role), "
            "username LIMIT :k"
        ),
        {"k": limit},
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]
