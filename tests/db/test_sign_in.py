"""Signing in on a real server: the engine acts as the nurse (her role on every connection), the
actor is read on her own connection, wrong passwords and unknown names get the same sentence,
a disabled account is refused, the witness/lock-screen check, and the connection budget.

The test servers trust local connections, so a wrong password can only be caught on the private
(argon2) path; on the server path the tests prove the connection *is* her role."""

from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from medapp.db.engine import Database
from medapp.services import accounts
from medapp.services.desk import Role
from medapp.services.signin import NOT_RIGHT, SignInFailed, sign_in, verify_password

PASSWORD = "a long enough pass phrase"


def as_private(db: Database) -> Database:
    return Database(db.engine, sessionmaker(db.engine), db.url, embedded=True)


@pytest.fixture(scope="module")
def two_schools(committed_db: Database) -> tuple:
    tag = uuid.uuid4().hex[:6]
    a = accounts.create_school(committed_db, f"Alpha {tag}")
    b = accounts.create_school(committed_db, f"Beta {tag}")
    with committed_db.engine.begin() as conn:
        for school, number in ((a, f"A{tag}"), (b, f"B{tag}")):
            conn.execute(
                text(
                    "INSERT INTO students (id, student_number, first_name, last_name, grade, "
                    "date_of_birth, school_id) VALUES (:id, :n, 'Kid', 'Test', '3', "
                    "'2017-01-01', :s)"
                ),
                {"id": uuid.uuid4(), "n": number, "s": school.id},
            )
    return a, b


@pytest.fixture(params=["private", "server"])
def mode_db(request, committed_db: Database) -> Database:  # noqa: ANN001
    return as_private(committed_db) if request.param == "private" else committed_db


def test_signed_in_engine_acts_as_the_nurse(mode_db: Database, two_schools, login_roles) -> None:  # noqa: ANN001
    a, b = two_schools
    name = login_roles.new("nurse")
    accounts.create_user(mode_db, name, Role.NURSE, [a.name], PASSWORD, "Nia", "Nurse")
    signed = sign_in(mode_db, f"  {name.upper()} ", PASSWORD)
    try:
        actor = signed.actor
        assert (actor.username, actor.role, actor.display_name) == (name, Role.NURSE, "Nia Nurse")
        assert actor.school_ids == frozenset({a.id}) and actor.is_active
        with signed.db.sessions() as s:
            assert s.execute(text("SELECT current_user")).scalar() == name
            assert s.execute(text("SELECT medapp_actor()")).scalar() == name
            # row-level security on her own connection: the other school's student is invisible
            seen = set(s.execute(text("SELECT school_id FROM students")).scalars())
            assert seen == {a.id}
        # every connection of the pool is hers, a new one too (the budget: one pooled connection)
        with signed.db.engine.connect() as c1:
            assert c1.execute(text("SELECT current_user")).scalar() == name
        signed.db.engine.dispose()
        with signed.db.engine.connect() as c2:
            assert c2.execute(text("SELECT current_user")).scalar() == name
        assert signed.db.engine.pool.size() == 1  # type: ignore[attr-defined]
        assert signed.db.engine.pool._max_overflow == 0  # type: ignore[attr-defined]
        assert PASSWORD not in signed.db.url and "***" not in signed.db.url
        desk = signed.desk()
        assert desk.actor == actor and desk.check_password is not None
        assert signed.unlock(PASSWORD).user_id == actor.user_id
    finally:
        signed.close()


def test_wrong_password_and_unknown_user_get_the_same_sentence(
    committed_db: Database, two_schools, login_roles, caplog
) -> None:  # noqa: ANN001
    db = as_private(committed_db)
    name = login_roles.new("n")
    accounts.create_user(db, name, Role.NURSE, [two_schools[0].name], PASSWORD)
    caplog.set_level(logging.DEBUG)
    for user, password in (
        (name, "wrong password!"),
        (name, ""),
        ("no.such.user", PASSWORD),
        ('bad"name', PASSWORD),
    ):
        with pytest.raises(SignInFailed) as err:
            sign_in(db, user, password)
        assert str(err.value) == NOT_RIGHT
        with pytest.raises(SignInFailed) as err:
            verify_password(db, user, password)
        assert str(err.value) == NOT_RIGHT
    assert "wrong password" not in caplog.text and PASSWORD not in caplog.text


def test_a_disabled_account_cannot_sign_in(mode_db: Database, two_schools, login_roles) -> None:  # noqa: ANN001
    name = login_roles.new("d")
    accounts.create_user(mode_db, name, Role.NURSE, [two_schools[0].name], PASSWORD)
    accounts.disable_user(mode_db, name)
    with pytest.raises(SignInFailed, match="disabled"):
        sign_in(mode_db, name, PASSWORD)
    with pytest.raises(SignInFailed, match="disabled"):
        verify_password(mode_db, name, PASSWORD)
    if mode_db.embedded:  # the private check says "disabled" only after the right password
        with pytest.raises(SignInFailed) as err:
            sign_in(mode_db, name, "not the password")
        assert str(err.value) == NOT_RIGHT
    accounts.enable_user(mode_db, name)
    sign_in(mode_db, name, PASSWORD).close()


def test_unknown_user_on_the_server(committed_db: Database) -> None:
    with pytest.raises(SignInFailed) as err:
        sign_in(committed_db, f"ghost.{uuid.uuid4().hex[:8]}", PASSWORD)
    assert str(err.value) == NOT_RIGHT


def test_a_database_role_without_an_account_is_refused(committed_db: Database, login_roles) -> None:  # noqa: ANN001
    name = login_roles.new("bare")
    with committed_db.engine.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{name}" LOGIN'))
    with pytest.raises(SignInFailed, match="no medapp account"):
        sign_in(committed_db, name, PASSWORD)


def test_verify_password_returns_who_it_is(mode_db: Database, two_schools, login_roles) -> None:  # noqa: ANN001
    name = login_roles.new("w")
    accounts.create_user(mode_db, name, Role.LEAD_NURSE, [s.name for s in two_schools], PASSWORD)
    actor = verify_password(mode_db, name, PASSWORD)
    assert actor.username == name and actor.role is Role.LEAD_NURSE
    assert actor.school_ids == frozenset(s.id for s in two_schools)
    with mode_db.engine.connect() as conn:  # the base connection did not keep her role
        assert conn.execute(text("SELECT current_user")).scalar() != name


def test_pool_sizes_are_a_parameter(committed_db: Database, two_schools, login_roles) -> None:  # noqa: ANN001
    db = as_private(committed_db)
    name = login_roles.new("p")
    accounts.create_user(db, name, Role.NURSE, [two_schools[1].name], PASSWORD)
    signed = sign_in(db, name, PASSWORD, pool_size=1, max_overflow=0)
    try:
        pool = signed.db.engine.pool
        assert pool.size() == 1 and pool._max_overflow == 0  # type: ignore[attr-defined]
    finally:
        signed.close()


def test_a_desk_on_the_server_signs_in_from_an_address_alone(
    committed_db: Database, two_schools, login_roles
) -> None:  # noqa: ANN001
    """``bootstrap.desk_base`` makes no connection and keeps no credentials; the nurse's own
    name and password make the connection, and the schema is checked on it."""
    from sqlalchemy.engine import make_url

    from medapp.bootstrap import check_schema, desk_base
    from medapp.config import Settings

    name = login_roles.new("desk")
    accounts.create_user(committed_db, name, Role.NURSE, [two_schools[0].name], PASSWORD)
    configured = make_url(committed_db.url).set(username="shared", password="OldSharedPw1")
    base = desk_base(Settings(configured.render_as_string(hide_password=False), "flag", None))
    assert "OldSharedPw1" not in base.url and "shared" not in base.url
    signed = sign_in(base, name, PASSWORD)
    try:
        check_schema(signed.db)
        assert signed.actor.username == name
        with signed.db.engine.connect() as conn:
            assert conn.execute(text("SELECT session_user")).scalar() == name
    finally:
        signed.close()
        base.dispose()


def test_an_unreachable_server_is_one_sentence_without_the_password() -> None:
    from medapp.bootstrap import desk_base
    from medapp.config import Settings
    from medapp.db.errors import DatabaseUnavailable

    base = desk_base(Settings("postgresql://x@127.0.0.1:1/medapp", "flag", None))
    with pytest.raises(DatabaseUnavailable) as err:
        sign_in(base, "nurse.someone", "Hunter2Hunter2")
    assert "Hunter2" not in str(err.value) and "nothing is listening" in str(err.value)
    with pytest.raises(DatabaseUnavailable) as err:
        verify_password(base, "nurse.someone", "Hunter2Hunter2")
    assert "Hunter2" not in str(err.value)


def test_disabling_ends_her_open_connections_on_the_server(
    committed_db: Database, two_schools, login_roles
) -> None:  # noqa: ANN001
    from sqlalchemy.exc import DBAPIError

    name = login_roles.new("gone")
    accounts.create_user(committed_db, name, Role.NURSE, [two_schools[0].name], PASSWORD)
    signed = sign_in(committed_db, name, PASSWORD)
    try:
        with signed.db.engine.connect() as held:
            assert held.execute(text("SELECT 1")).scalar() == 1
            accounts.disable_user(committed_db, name)
            with pytest.raises(DBAPIError):
                held.execute(text("SELECT 1"))
        with pytest.raises(SignInFailed, match="disabled"):
            sign_in(committed_db, name, PASSWORD)
    finally:
        signed.close()
