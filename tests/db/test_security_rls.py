"""The server enforces who may do what (migration 0005), proven with raw SQL on each person's own
login connection: another school's rows are invisible and unchangeable, an auditor changes
nothing, a district administrator sees no student data, nobody empties, rewrites or switches
off anything."""

from __future__ import annotations

import datetime as dt
import importlib.util
import threading
import uuid

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from medapp import paths
from medapp.db.models import User
from medapp.db.notify import Change
from medapp.db.repositories.reminders import load_inputs
from medapp.services.desk import Role
from medapp.services.inventory import inventory_alerts, refresh_alert_view
from tests.db.desks import reader_desk
from tests.db.secure_world import (
    INSERTS,
    STUDENT_DATA,
    UPDATES,
    SecureWorld,
    params,
    sqlstate,
    world,  # noqa: F401
)

DENIED = "42501"  # insufficient_privilege (also: new row violates row-level security policy)


def _ids(conn, table: str) -> set[uuid.UUID]:  # noqa: ANN001
    return set(conn.execute(text(f"SELECT id FROM {table}")).scalars())  # noqa: S608


@pytest.mark.parametrize("table", sorted(STUDENT_DATA))
def test_a_nurse_sees_only_her_schools_rows(world: SecureWorld, table: str) -> None:  # noqa: F811
    key = STUDENT_DATA[table]
    with world.as_person("nurse_a") as conn:
        seen = _ids(conn, table)
    assert world.ids[f"a_{key}"] in seen
    assert world.ids[f"b_{key}"] not in seen
    with world.as_person("nurse_b") as conn:
        seen_b = _ids(conn, table)
    assert world.ids[f"b_{key}"] in seen_b and world.ids[f"a_{key}"] not in seen_b


def test_student_kept_stock_follows_the_students_school(world: SecureWorld) -> None:  # noqa: F811
    with world.as_person("nurse_a") as conn:
        seen = _ids(conn, "medication_inventory")
    assert world.ids["a_own_lot"] in seen and world.ids["b_own_lot"] not in seen


def test_the_same_rules_hold_when_the_superuser_connection_takes_her_role(
    world: SecureWorld,  # noqa: F811
) -> None:
    with world.as_owner_set_role("nurse_a") as conn:
        assert conn.execute(text("SELECT current_user")).scalar() == world.roles["nurse_a"]
        seen = _ids(conn, "students")
        assert seen == {world.ids["a_student"]}
        assert conn.execute(text("SELECT medapp_actor()")).scalar() == world.roles["nurse_a"]


@pytest.mark.parametrize("table", sorted(UPDATES))
def test_another_schools_rows_cannot_be_changed(world: SecureWorld, table: str) -> None:  # noqa: F811
    key = STUDENT_DATA[table]
    with world.as_person("nurse_a") as conn:
        changed = conn.execute(text(UPDATES[table]), {"id": world.ids[f"b_{key}"]}).rowcount
        assert changed == 0  # invisible, so untouched
        mine = conn.execute(text(UPDATES[table]), {"id": world.ids[f"a_{key}"]}).rowcount
        assert mine == 1  # her own school's row: allowed


def test_moving_a_student_to_another_school_is_refused(world: SecureWorld) -> None:  # noqa: F811
    with world.as_person("nurse_a") as conn, pytest.raises(DBAPIError) as exc:
        conn.execute(
            text("UPDATE students SET school_id = :b WHERE id = :id"),
            {"b": world.ids["school_B"], "id": world.ids["a_student"]},
        )
    assert sqlstate(exc) == DENIED


@pytest.mark.parametrize("table", sorted(INSERTS))
def test_a_nurse_cannot_write_into_another_school(world: SecureWorld, table: str) -> None:  # noqa: F811
    with world.as_person("nurse_a") as conn:
        conn.execute(text("SAVEPOINT own"))
        conn.execute(text(INSERTS[table]), params(world, "a"))  # her school: fine
        conn.execute(text("RELEASE SAVEPOINT own"))
        with pytest.raises(DBAPIError) as exc:
            conn.execute(text(INSERTS[table]), params(world, "b"))
    assert sqlstate(exc) == DENIED


def test_an_auditor_reads_everything_and_changes_nothing(world: SecureWorld) -> None:  # noqa: F811
    with world.as_person("auditor") as conn:
        for table, key in STUDENT_DATA.items():
            seen = _ids(conn, table)
            assert {world.ids[f"a_{key}"], world.ids[f"b_{key}"]} <= seen, table
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() > 0
    for table, sql in {**UPDATES, **INSERTS}.items():
        with world.as_person("auditor") as conn, pytest.raises(DBAPIError) as exc:
            conn.execute(text(sql), {**params(world, "a"), "id": world.ids["a_student"]})
        assert sqlstate(exc) == DENIED, table


def test_a_district_admin_sees_no_student_data_but_runs_the_district(
    world: SecureWorld,  # noqa: F811
) -> None:
    for table in STUDENT_DATA:
        with world.as_person("admin") as conn, pytest.raises(DBAPIError) as exc:
            conn.execute(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
        assert sqlstate(exc) == DENIED, table
    with world.as_person("admin") as conn:
        school = conn.execute(
            text("INSERT INTO schools (code, name) VALUES (:c, 'New School') RETURNING id"),
            {"c": f"NEW-{uuid.uuid4().hex[:6]}"},
        ).scalar()
        conn.execute(
            text("INSERT INTO medications (name, dosage_form) VALUES ('Newmed', 'TABLET')")
        )
        conn.execute(
            text("INSERT INTO user_schools (user_id, school_id) VALUES (:u, :s)"),
            {"u": world.users["nurse_b"], "s": school},
        )
        conn.execute(
            text("UPDATE users SET is_active = false WHERE id = :u"),
            {"u": world.users["nurse_b"]},
        )


def test_a_lead_nurse_works_like_a_nurse_in_her_schools(world: SecureWorld) -> None:  # noqa: F811
    with world.as_person("lead_a") as conn:
        assert _ids(conn, "students") == {world.ids["a_student"]}
        conn.execute(text(INSERTS["allergies"]), params(world, "a"))


def test_a_disabled_account_sees_nothing(world: SecureWorld) -> None:  # noqa: F811
    with world.as_person("gone_a") as conn:
        assert _ids(conn, "students") == set()
        assert conn.execute(text("SELECT medapp_my_user_id()")).scalar() is None


def test_taking_the_group_role_hides_nobody(world: SecureWorld) -> None:  # noqa: F811
    """A nurse who SET ROLEs to her group is still herself in the audit trail, and sees less."""
    with world.as_person("nurse_a") as conn:
        conn.execute(text("SET LOCAL ROLE medapp_nurse"))
        assert conn.execute(text("SELECT medapp_actor()")).scalar() == world.roles["nurse_a"]
        assert _ids(conn, "students") == {world.ids["a_student"]}


def test_password_hashes_are_not_readable(world: SecureWorld) -> None:  # noqa: F811
    for person in ("nurse_a", "lead_a", "auditor", "admin"):
        with world.as_person(person) as conn:
            conn.execute(text("SELECT id, username, role, school_id FROM users")).all()
            with pytest.raises(DBAPIError) as exc:
                conn.execute(text("SELECT password_hash FROM users"))
            assert sqlstate(exc) == DENIED, person
    # The ORM's select(User) leaves the deferred column out, so it works for everybody.
    with Session(world.engine("nurse_a")) as s:
        assert len(s.scalars(select(User)).all()) == len(world.users)


DESTRUCTIVE = [
    "TRUNCATE medication_logs CASCADE",
    "TRUNCATE audit_log",
    "ALTER TABLE medication_logs DISABLE TRIGGER USER",
    "ALTER TABLE audit_log DISABLE TRIGGER audit_log_immutable",
    "ALTER TABLE students DISABLE ROW LEVEL SECURITY",
    "DROP TABLE medication_logs",
    "DROP POLICY students_school_select ON students",
    "DELETE FROM audit_log",
    "UPDATE audit_log SET actor = 'nobody'",
    "INSERT INTO audit_log (actor, table_name, action) VALUES ('x', 'students', 'READ')",
    "DELETE FROM medication_logs",
    "DELETE FROM students",
    "CREATE TABLE public.sneaky (id int)",
    "CREATE FUNCTION public.medapp_my_schools2() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "REFRESH MATERIALIZED VIEW medication_inventory_alerts",
    "SELECT * FROM medication_inventory_alerts",
    "GRANT medapp_auditor TO CURRENT_USER",
]


@pytest.mark.parametrize("person", ["nurse_a", "lead_a", "auditor", "admin"])
@pytest.mark.parametrize("sql", DESTRUCTIVE)
def test_application_roles_cannot_erase_or_switch_off_anything(
    world: SecureWorld,  # noqa: F811
    person: str,
    sql: str,
) -> None:
    with world.as_person(person) as conn, pytest.raises(DBAPIError) as exc:
        conn.execute(text(sql))
    assert sqlstate(exc) == DENIED, sqlstate(exc)


def test_the_owner_cannot_rewrite_the_audit_log_either(world: SecureWorld) -> None:  # noqa: F811
    for sql in ("DELETE FROM audit_log", "UPDATE audit_log SET actor = 'x'", "TRUNCATE audit_log"):
        with world.owner.connect() as conn, pytest.raises(DBAPIError) as exc:
            conn.execute(text(sql))
        assert sqlstate(exc) == DENIED, sql


def test_no_group_has_truncate_references_trigger_or_clinical_delete(
    world: SecureWorld,  # noqa: F811
) -> None:
    with world.owner.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT g, c.relname, p FROM unnest(ARRAY['medapp_nurse', 'medapp_lead_nurse', "
                "'medapp_district_admin', 'medapp_auditor']) g, pg_class c, "
                "unnest(ARRAY['TRUNCATE', 'REFERENCES', 'TRIGGER', 'DELETE']) p "
                "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'm') "
                "AND has_table_privilege(g, c.oid, p)"
            )
        ).all()
    allowed = {
        ("medapp_district_admin", "user_schools", "DELETE"),
        ("medapp_district_admin", "school_closures", "DELETE"),
    }
    assert {tuple(r) for r in rows} == allowed


def test_the_alert_view_shows_a_nurse_only_her_lots_and_she_may_refresh_it(
    world: SecureWorld,  # noqa: F811
) -> None:
    with world.engine("nurse_a").connect() as conn:
        conn.execute(text("SELECT medapp_refresh_inventory_alerts()"))
        conn.commit()
        seen = set(
            conn.execute(text("SELECT id FROM medication_inventory_alerts_visible")).scalars()
        )
    assert world.ids["a_lot"] in seen and world.ids["b_lot"] not in seen
    with world.owner.connect() as conn:
        everything = set(
            conn.execute(text("SELECT id FROM medication_inventory_alerts_visible")).scalars()
        )
    assert {world.ids["a_lot"], world.ids["b_lot"]} <= everything
    with world.as_person("auditor") as conn:
        assert {world.ids["a_lot"], world.ids["b_lot"]} <= set(
            conn.execute(text("SELECT id FROM medication_inventory_alerts_visible")).scalars()
        )


def test_change_notifications_still_fire_for_a_nurse(world: SecureWorld) -> None:  # noqa: F811
    """The NOTIFY triggers (migrations 0003, 0006) run as the nurse and read through her policies."""
    with world.owner.connect() as listener:
        listener.execute(text("LISTEN medapp_changes"))
        listener.commit()
        with world.engine("nurse_a").begin() as conn:
            conn.execute(text(INSERTS["medication_logs"]), params(world, "a"))
        raw = listener.connection.driver_connection
        assert raw is not None
        payloads = [n.payload for n in raw.notifies(timeout=5, stop_after=1)]
    changes = [Change.parse(p) for p in payloads]
    assert Change("medication_logs", str(world.ids["school_A"])) in changes
    assert all(c is not None and len(c.row_ids) == 1 for c in changes)  # the row, seen by her


def _migration_module():  # noqa: ANN202
    path = paths.migrations_dir() / "versions" / "0005_roles_rls_audit.py"
    spec = importlib.util.spec_from_file_location("migration_0005", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_creating_the_group_roles_is_safe_when_two_sessions_race(pg_server_url: str) -> None:
    """Session 1 creates the role but has not committed; session 2's CREATE waits, then finds
    the role there and goes on instead of failing."""
    name = f"medapp_race_{uuid.uuid4().hex[:8]}"
    sql = _migration_module().create_roles_sql((name,))
    engine = create_engine(pg_server_url, poolclass=NullPool)
    errors: list[BaseException] = []
    try:
        with engine.connect() as first:
            first.begin()
            first.execute(text(sql))

            def second() -> None:
                try:
                    with engine.begin() as conn:
                        conn.execute(text(sql))
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

            thread = threading.Thread(target=second)
            thread.start()
            thread.join(1.0)  # it is waiting on our uncommitted role
            first.commit()
        thread.join(30)
        assert not thread.is_alive() and errors == []
        with engine.connect() as conn:
            assert (
                conn.execute(
                    text("SELECT count(*) FROM pg_roles WHERE rolname = :n"), {"n": name}
                ).scalar()
                == 1
            )
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
            conn.commit()
        engine.dispose()


def test_the_services_queries_return_only_her_school_on_her_connection(
    world: SecureWorld,  # noqa: F811
) -> None:
    """The real repository/service code, unchanged, on a nurse's own connection: even asked for
    every school, the server answers with hers only."""
    sessions = sessionmaker(bind=world.engine("nurse_a"))
    with sessions() as s:
        inputs = load_inputs(s, dt.date(2026, 11, 2), None)
    assert set(inputs.prescriptions) == {world.ids["a_order"]}
    refresh_alert_view(world.engine("nurse_a"))
    for live in (False, True):
        alerts = inventory_alerts(reader_desk(sessions, role=Role.AUDITOR), force_live=live)
        assert alerts.source == ("live" if live else "view")
        assert {lot.id for lot in alerts.lots} == {world.ids["a_lot"]}  # near expiry, hers only
