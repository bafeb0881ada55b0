"""The demo can be signed into: every demo account has the published demo password (argon2id
on the private demo database) and its NOLOGIN role in its group; the sign-in screen's list
shows one account of each role first."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, text

from medapp.demo import load_demo
from medapp.demo.accounts import DEMO_PASSWORD, demo_accounts, enable_demo_sign_in
from medapp.services.passwords import verify_hash


def test_demo_accounts_sign_in_with_the_demo_password(connection: Connection) -> None:
    # everything here is rolled back, the roles included (CREATE ROLE is transactional)
    load_demo(connection, "school", 3, today=dt.date(2026, 11, 2))
    count = enable_demo_sign_in(connection, create_roles=True)
    users = connection.execute(text("SELECT username, role, password_hash FROM users")).all()
    assert count == len(users) >= 3
    assert all(verify_hash(u.password_hash, DEMO_PASSWORD) for u in users)
    for u in users:
        groups = (
            connection.execute(
                text(
                    "SELECT g.rolname FROM pg_roles r JOIN pg_auth_members m ON m.member = r.oid "
                    "JOIN pg_roles g ON g.oid = m.roleid WHERE r.rolname = :n"
                ),
                {"n": u.username},
            )
            .scalars()
            .all()
        )
        assert groups == [f"medapp_{u.role.lower()}"]
    shown = demo_accounts(connection)
    roles = [role for _, _, role in shown]
    assert roles[0] == "NURSE" and "LEAD_NURSE" in roles
    assert all(name and display.strip() for name, display, _ in shown)


def test_the_readme_shows_the_demo_password() -> None:
    from pathlib import Path

    readme = Path(__file__).resolve().parents[2] / "README.md"
    assert f"`{DEMO_PASSWORD}`" in readme.read_text(encoding="utf-8")
