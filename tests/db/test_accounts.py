"""Accounts on a real server: schools and users created idempotently, each user a PostgreSQL
role in her group (LOGIN with a SCRAM verifier on a district server, NOLOGIN with an argon2id
hash on the private database), disabled, re-passworded and listed; no password in any log."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from medapp.db import migrate
from medapp.db.engine import Database, open_database
from medapp.db.testing import scratch_database
from medapp.services import accounts
from medapp.services.accounts import AccountError, PasswordRejected
from medapp.services.desk import Actor, Role
from medapp.services.passwords import verify_hash

PASSWORD = "correct horse battery"


def as_private(db: Database) -> Database:
    """The same database seen as the private single-PC one (accounts hashed with argon2)."""
    return Database(db.engine, sessionmaker(db.engine), db.url, embedded=True)


@pytest.fixture(scope="module")
def server_db(committed_db: Database) -> Database:
    return committed_db


@pytest.fixture
def schools(server_db: Database) -> tuple[str, str]:
    tag = uuid.uuid4().hex[:6]
    a = accounts.create_school(server_db, f"North {tag} Elementary")
    b = accounts.create_school(server_db, f"South {tag} Middle", code=f"SM{tag}")
    return a.name, b.name


def role_row(db: Database, name: str) -> dict:
    with db.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT a.rolcanlogin, a.rolpassword, "
                "array(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
                "WHERE m.member = a.oid ORDER BY 1) AS groups FROM pg_authid a WHERE a.rolname = :n"
            ),
            {"n": name},
        ).first()
    assert row is not None, f"no role {name}"
    return {"login": row.rolcanlogin, "password": row.rolpassword, "groups": list(row.groups)}


def user_row(db: Database, name: str) -> dict:
    with db.engine.connect() as conn:
        return dict(
            conn.execute(
                text("SELECT id, role, is_active, password_hash FROM users WHERE username = :n"),
                {"n": name},
            )
            .mappings()
            .one()
        )


# --- schools ---------------------------------------------------------------------------------


def test_create_school_is_idempotent_and_refuses_conflicts(server_db: Database) -> None:
    tag = uuid.uuid4().hex[:6]
    first = accounts.create_school(server_db, f"  Lincoln  {tag} Elementary ")
    assert first.name == f"Lincoln {tag} Elementary"
    assert first.code == f"LINCOLN-{tag.upper()}-ELEMENTARY"
    again = accounts.create_school(server_db, f"lincoln {tag} elementary")
    assert again.id == first.id
    assert accounts.create_school(server_db, first.name, code=first.code.lower()).id == first.id
    with pytest.raises(AccountError, match="already exists with code"):
        accounts.create_school(server_db, first.name, code="OTHER")
    with pytest.raises(AccountError, match="already belongs"):
        accounts.create_school(server_db, f"Another {tag}", code=first.code)
    with pytest.raises(AccountError):
        accounts.create_school(server_db, "   ")


# --- district server accounts ----------------------------------------------------------------


def test_a_server_account_is_a_scram_login_role_in_its_group(
    server_db: Database, schools: tuple[str, str], login_roles, caplog
) -> None:  # noqa: ANN001
    name = login_roles.new("nurse")
    caplog.set_level(logging.DEBUG)
    result = accounts.create_user(
        server_db, name.upper(), Role.NURSE, [schools[0]], PASSWORD, "Nora", "North"
    )
    assert result.created
    user = result.user
    assert (user.username, user.role, user.schools, user.active) == (
        name,
        Role.NURSE,
        (schools[0],),
        True,
    )
    assert user.login_role and user.has_password and user.display_name == "Nora North"
    role = role_row(server_db, name)
    assert role["login"] is True and role["groups"] == ["medapp_nurse"]
    assert role["password"].startswith("SCRAM-SHA-256$")
    assert user_row(server_db, name)["password_hash"] is None  # the server keeps the password
    assert PASSWORD not in caplog.text

    # the same command again changes nothing, not even the password
    again = accounts.create_user(
        server_db, name, Role.NURSE, [schools[0]], "another password!", "Nora", "North"
    )
    assert not again.created and role_row(server_db, name)["password"] == role["password"]
    # a different role or other schools are refused, not guessed
    with pytest.raises(AccountError, match="already exists as nurse"):
        accounts.create_user(server_db, name, Role.AUDITOR, [], PASSWORD)
    with pytest.raises(AccountError, match="nothing was changed"):
        accounts.create_user(server_db, name, Role.NURSE, list(schools), PASSWORD)
    assert role_row(server_db, name)["groups"] == ["medapp_nurse"]


def test_disable_enable_and_reset_password_on_the_server(
    server_db: Database, schools: tuple[str, str], login_roles, caplog
) -> None:  # noqa: ANN001
    name = login_roles.new("lead")
    accounts.create_user(server_db, name, Role.LEAD_NURSE, list(schools), PASSWORD)
    assert role_row(server_db, name)["groups"] == ["medapp_lead_nurse"]
    before = role_row(server_db, name)["password"]
    caplog.set_level(logging.DEBUG)
    accounts.reset_password(server_db, name, "a brand new pass phrase")
    after = role_row(server_db, name)["password"]
    assert after.startswith("SCRAM-SHA-256$") and after != before
    assert "brand new" not in caplog.text

    disabled = accounts.disable_user(server_db, name)
    assert not disabled.active and role_row(server_db, name)["login"] is False
    assert user_row(server_db, name)["is_active"] is False
    accounts.disable_user(server_db, name)  # again: still disabled, no error
    enabled = accounts.enable_user(server_db, name)
    assert enabled.active and role_row(server_db, name)["login"] is True
    with pytest.raises(AccountError, match="no user"):
        accounts.disable_user(server_db, "nobody.here")


def test_list_users(server_db: Database, schools: tuple[str, str], login_roles) -> None:  # noqa: ANN001
    nurse, auditor = login_roles.new("n"), login_roles.new("a")
    accounts.create_user(server_db, nurse, Role.NURSE, list(reversed(schools)), PASSWORD)
    accounts.create_user(server_db, auditor, Role.AUDITOR, [], PASSWORD, "Audra", "Auditor")
    accounts.disable_user(server_db, auditor)
    rows = {u.username: u for u in accounts.list_users(server_db)}
    assert rows[nurse].schools == tuple(sorted(schools)) and rows[nurse].active
    assert rows[auditor].role is Role.AUDITOR and rows[auditor].schools == ()
    assert not rows[auditor].active and rows[auditor].login_role
    assert rows[auditor].as_dict()["role"] == "AUDITOR"


@pytest.mark.parametrize(
    ("username", "role", "school_index", "password", "error", "words"),
    [
        ("ok.name", Role.NURSE, 0, "Tiny9pw", PasswordRejected, "at least 10"),
        ("ok.name", Role.NURSE, 0, " " * 12, PasswordRejected, "only spaces"),
        ("1bad", Role.NURSE, 0, PASSWORD, AccountError, "cannot be a user name"),
        ("pg_evil", Role.NURSE, 0, PASSWORD, AccountError, "cannot be a user name"),
        ("medapp_nurse", Role.NURSE, 0, PASSWORD, AccountError, "cannot be a user name"),
        ('x"; drop', Role.NURSE, 0, PASSWORD, AccountError, "cannot be a user name"),
        ("ok.name", Role.NURSE, None, PASSWORD, AccountError, "at least one school"),
        ("ok.name", Role.NURSE, "nowhere", PASSWORD, AccountError, "no school 'nowhere'"),
    ],
)
def test_bad_requests_are_refused_in_one_sentence(
    server_db: Database, schools, username, role, school_index, password, error, words
) -> None:  # noqa: ANN001
    names = (
        []
        if school_index is None
        else [school_index]
        if isinstance(school_index, str)
        else [schools[school_index]]
    )
    with pytest.raises(error) as err:
        accounts.create_user(server_db, username, role, names, password)
    assert words in str(err.value) and str(err.value).count(". ") <= 1
    if password.strip():
        assert password not in str(err.value)
    with server_db.engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM users WHERE username = :n"), {"n": username}
            ).scalar()
            == 0
        )


def test_a_foreign_database_role_is_not_taken_over(server_db: Database, login_roles) -> None:  # noqa: ANN001
    name = login_roles.new("x")
    with server_db.engine.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{name}" LOGIN'))
    with pytest.raises(AccountError, match="not a medapp account"):
        accounts.create_user(server_db, name, Role.AUDITOR, [], PASSWORD)


# --- private database accounts ---------------------------------------------------------------


def test_a_private_account_is_a_nologin_role_with_an_argon2_hash(
    server_db: Database, schools: tuple[str, str], login_roles
) -> None:  # noqa: ANN001
    db = as_private(server_db)
    name = login_roles.new("p")
    accounts.create_user(db, name, Role.NURSE, [schools[1]], PASSWORD)
    role = role_row(db, name)
    assert role["login"] is False and role["password"] is None
    assert role["groups"] == ["medapp_nurse"]
    stored = user_row(db, name)["password_hash"]
    assert stored.startswith("$argon2id$") and verify_hash(stored, PASSWORD)
    accounts.reset_password(db, name, "another long pass")
    stored2 = user_row(db, name)["password_hash"]
    assert verify_hash(stored2, "another long pass") and not verify_hash(stored2, PASSWORD)
    accounts.disable_user(db, name)
    assert role_row(db, name)["login"] is False and user_row(db, name)["is_active"] is False
    [row] = [u for u in accounts.list_users(db) if u.username == name]
    assert row.has_password and not row.active


def test_a_users_row_without_its_role_gets_one(
    server_db: Database, schools: tuple[str, str], login_roles
) -> None:  # noqa: ANN001
    """Demo data and restored databases have users rows whose roles do not exist yet."""
    name = login_roles.new("r")
    with server_db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, first_name, last_name, username, role) "
                "VALUES (:id, 'Al', 'Ready', :n, 'AUDITOR')"
            ),
            {"id": uuid.uuid4(), "n": name},
        )
    result = accounts.create_user(server_db, name, Role.AUDITOR, [], PASSWORD)
    assert result.created and result.user.login_role
    assert role_row(server_db, name)["groups"] == ["medapp_auditor"]


# --- first run of a single-PC install --------------------------------------------------------


@pytest.fixture
def fresh_private(pg_server_url: str) -> Iterator[Database]:
    with scratch_database(pg_server_url) as url:
        db = open_database(url)
        migrate.upgrade(db.engine)
        try:
            yield as_private(db)
        finally:
            db.dispose()


def test_first_run_creates_a_lead_nurse_who_manages_accounts(
    fresh_private: Database, login_roles
) -> None:  # noqa: ANN001
    db = fresh_private
    assert accounts.needs_first_admin(db)
    name = login_roles.new("first")
    with pytest.raises(AccountError, match="name of your school"):
        accounts.create_first_admin(db, name, PASSWORD)
    result = accounts.create_first_admin(
        db, name, PASSWORD, first_name="Fran", last_name="First", school_name="Home School"
    )
    assert result.user.role is Role.LEAD_NURSE and result.user.schools == ("Home School",)
    assert not accounts.needs_first_admin(db)
    with pytest.raises(AccountError, match="already has an account"):
        accounts.create_first_admin(db, login_roles.new("second"), PASSWORD, school_name="X")
    lead = Actor(result.user.id, name, "Fran", "First", Role.LEAD_NURSE)
    assert accounts.may_manage_accounts(lead, embedded=True)
    assert not accounts.may_manage_accounts(lead, embedded=False)
    admin = Actor(uuid.uuid4(), "it", "", "", Role.DISTRICT_ADMIN)
    assert accounts.may_manage_accounts(admin, embedded=False)
    # a server never shows the first-run dialog
    assert not accounts.needs_first_admin(Database(db.engine, db.sessions, db.url, False))
