"""The audit trail (migration 0005): every insert, update and delete on student data, users and
schools is written by the database with the acting role, whoever acts and however she is
connected; opening a record is logged; the stock ledger rule holds for everybody."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from tests.db.secure_world import (
    INSERTS,
    STUDENT_DATA,
    UPDATES,
    SecureWorld,
    params,
    sqlstate,
    world,  # noqa: F401
)


def _last(conn: Connection, table: str, row_id: object) -> list[dict[str, object]]:
    rows = conn.execute(
        text(
            "SELECT actor, action, old_row, new_row FROM audit_log "
            "WHERE table_name = :t AND row_id = :r ORDER BY id"
        ),
        {"t": table, "r": str(row_id)},
    ).all()
    return [dict(r._mapping) for r in rows]


@pytest.mark.parametrize("how", ["login", "set_role"])
def test_a_nurses_changes_are_audited_with_her_name(world: SecureWorld, how: str) -> None:  # noqa: F811
    who = world.roles["nurse_a"]
    allergy = uuid.uuid4()
    engine = world.engine("nurse_a") if how == "login" else world.owner
    with engine.begin() as conn:  # committed, as the desk does
        if how == "set_role":
            conn.execute(text(f'SET LOCAL ROLE "{who}"'))
        conn.execute(
            text(
                "INSERT INTO allergies (id, student_id, allergen, severity) "
                "VALUES (:id, :s, 'penicillin', 'SEVERE')"
            ),
            {"id": allergy, "s": world.ids["a_student"]},
        )
        conn.execute(text("UPDATE allergies SET severity = 'MILD' WHERE id = :id"), {"id": allergy})
        conn.execute(
            text("UPDATE students SET grade = '5' WHERE id = :id"), {"id": world.ids["a_student"]}
        )
    with world.as_owner() as conn:
        trail = _last(conn, "allergies", allergy)
        student = _last(conn, "students", world.ids["a_student"])
    assert [(r["actor"], r["action"]) for r in trail] == [(who, "INSERT"), (who, "UPDATE")]
    old, new = trail[1]["old_row"], trail[1]["new_row"]
    assert isinstance(old, dict) and isinstance(new, dict)
    assert (old["severity"], new["severity"]) == ("SEVERE", "MILD")  # SEVERE → MILD is visible
    assert student[-1]["actor"] == who and student[-1]["action"] == "UPDATE"


AUDITED_TABLES = (
    "students",
    "student_medications",
    "medication_logs",
    "allergies",
    "medication_inventory",
    "inventory_adjustments",
    "incident_reports",
    "adverse_reactions",
    "users",
    "schools",
    "user_schools",
    "field_trip_signouts",  # 0009_supplies_field_trips
    "student_conditions",  # 0008_student_page
    "emergency_contacts",
    "prn_outcomes",
)


def test_every_audited_table_has_its_three_triggers(world: SecureWorld) -> None:  # noqa: F811
    with world.owner.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.relname, count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname LIKE '%\\_audit\\_%' AND t.tgenabled = 'O' GROUP BY c.relname"
            )
        ).all()
    assert dict(rows) == dict.fromkeys(AUDITED_TABLES, 3)


def test_every_insert_and_update_on_every_table_is_audited(world: SecureWorld) -> None:  # noqa: F811
    """As the owner (the demo loader, a script): actor is the session user."""
    w = world
    with w.owner.connect() as conn:
        trans = conn.begin()
        try:
            me = conn.execute(text("SELECT session_user")).scalar()
            start = conn.execute(text("SELECT coalesce(max(id), 0) FROM audit_log")).scalar()
            new_school = uuid.uuid4()
            statements = [
                ("schools", "INSERT INTO schools (id, code, name) VALUES (:x, :c, 'S')"),
                ("schools", "UPDATE schools SET name = 'T' WHERE id = :x"),
                ("user_schools", "INSERT INTO user_schools VALUES (:nurse_b, :x)"),
                ("user_schools", "DELETE FROM user_schools WHERE school_id = :x"),
                ("users", "UPDATE users SET first_name = 'Tess' WHERE id = :nurse_b"),
                ("students", "UPDATE students SET grade = '2' WHERE id = :a_student"),
                (
                    "student_medications",
                    "UPDATE student_medications SET dosage = '5 mg' WHERE id = :a_order",
                ),
                (
                    "medication_logs",
                    "UPDATE medication_logs SET superseded_at = now(), "
                    "superseded_by_id = :a_log WHERE id = :a_log",
                ),
                ("allergies", "UPDATE allergies SET treatment = 'epi' WHERE id = :a_allergy"),
                (
                    "medication_inventory",
                    "UPDATE medication_inventory SET reorder_level = 1 WHERE id = :a_lot",
                ),
                (
                    "inventory_adjustments",
                    "INSERT INTO inventory_adjustments (inventory_id, "
                    "delta, quantity_after, reason, user_id) VALUES (:a_lot, 1, 21, 'x', :nurse_a)",
                ),
                (
                    "incident_reports",
                    "UPDATE incident_reports SET follow_up_notes = 'ok' WHERE id = :a_incident",
                ),
                (
                    "adverse_reactions",
                    "INSERT INTO adverse_reactions (id, student_id, "
                    "medication_id, severity, reaction, reported_by_id, occurred_at, "
                    "incident_report_id) VALUES (gen_random_uuid(), :a_student, :med, 'MILD', 'x', "
                    ":nurse_a, now(), :a_incident)",
                ),
                (
                    "field_trip_signouts",
                    "INSERT INTO field_trip_signouts (id, inventory_id, student_id, direction, "
                    "doses, trip, other_person, nurse_id) VALUES (gen_random_uuid(), :a_lot, "
                    ":a_student, 'OUT', 1, 'Zoo', 'Mr. Teach', :nurse_a)",
                ),
                (
                    "student_conditions",
                    "INSERT INTO student_conditions (student_id, name) VALUES (:a_student, 'x')",
                ),
                (
                    "emergency_contacts",
                    "INSERT INTO emergency_contacts (student_id, name, relationship, phone) "
                    "VALUES (:a_student, 'x', 'Mother', '555')",
                ),
                (
                    "medication_logs",
                    "INSERT INTO medication_logs (id, student_medication_id, nurse_id, "
                    "time_given, status) VALUES (:x, :a_order, :nurse_a, "
                    "now() - interval '40 days', 'GIVEN')",
                ),
                (
                    "prn_outcomes",
                    "INSERT INTO prn_outcomes (id, medication_log_id, outcome, recorded_by_id, "
                    "observed_at) VALUES (gen_random_uuid(), :x, 'RESOLVED', :nurse_a, now())",
                ),
            ]
            params = {
                **{k: v for k, v in w.ids.items()},
                "nurse_a": w.users["nurse_a"],
                "nurse_b": w.users["nurse_b"],
                "x": new_school,
                "c": f"AUD-{new_school.hex[:6]}",
            }
            for _table, sql in statements:
                conn.execute(text(sql), params)
            logged = conn.execute(
                text(
                    "SELECT table_name, action, actor FROM audit_log WHERE id > :start ORDER BY id"
                ),
                {"start": start},
            ).all()
        finally:
            trans.rollback()
    expected = [(t, s.split()[0], me) for t, s in statements]
    assert [tuple(r) for r in logged] == expected
    assert {t for t, _a, _w in expected} == set(AUDITED_TABLES)


def test_a_password_hash_never_reaches_the_audit_log(world: SecureWorld) -> None:  # noqa: F811
    with world.as_owner() as conn:
        conn.execute(
            text("UPDATE users SET password_hash = '$argon2id$v=19$secret' WHERE id = :u"),
            {"u": world.users["nurse_a"]},
        )
        row = _last(conn, "users", world.users["nurse_a"])[-1]
    assert "secret" not in str(row)
    new = row["new_row"]
    assert isinstance(new, dict) and str(new["password_hash"]).startswith("fp:")


def test_opening_a_record_is_logged_and_the_trail_is_readable_by_the_right_people(
    world: SecureWorld,  # noqa: F811
) -> None:
    student = world.ids["a_student"]
    with world.engine("nurse_a").begin() as conn:
        conn.execute(text("SELECT medapp_log_read('students', :s)"), {"s": student})
    with world.as_person("auditor") as conn:
        reads = [r for r in _last(conn, "students", student) if r["action"] == "READ"]
    assert reads and reads[-1]["actor"] == world.roles["nurse_a"]
    with world.as_person("lead_a") as conn:  # her school: she reads its history
        assert any(r["action"] == "READ" for r in _last(conn, "students", student))
        other = _last(conn, "students", world.ids["b_student"])
        assert other == []  # school B is not hers
        order_trail = _last(conn, "student_medications", world.ids["a_order"])
        assert order_trail  # child rows resolve to her school
    with world.as_person("nurse_a") as conn, pytest.raises(DBAPIError) as exc:
        conn.execute(text("SELECT count(*) FROM audit_log"))
    assert sqlstate(exc) == "42501"
    with world.as_person("nurse_a") as conn, pytest.raises(DBAPIError) as exc:
        conn.execute(text("SELECT medapp_log_read('pg_authid', :s)"), {"s": student})
    assert sqlstate(exc) == "22023"


@pytest.mark.parametrize(
    "table", ["student_conditions", "emergency_contacts", "prn_outcomes", "field_trip_signouts"]
)
def test_a_lead_nurse_reads_the_trail_of_the_new_tables_of_her_school_only(
    world: SecureWorld,  # noqa: F811
    table: str,
) -> None:
    """0008's and 0009's tables resolve to their student's school (migration 0010): before it,
    their audit rows had no school and only auditors could read them."""
    rows: dict[str, object] = {}
    if table == "field_trip_signouts":
        with world.owner.begin() as conn:
            for school in ("a", "b"):
                rows[school] = uuid.uuid4()
                conn.execute(
                    text(
                        "INSERT INTO field_trip_signouts (id, inventory_id, student_id, direction, "
                        "doses, trip, other_person, nurse_id) VALUES (:id, :lot, :st, 'OUT', 1, "
                        "'Zoo', 'Mr. Teach', :n)"
                    ),
                    {
                        "id": rows[school],
                        "lot": world.ids[f"{school}_own_lot"],
                        "st": world.ids[f"{school}_student"],
                        "n": world.users[f"nurse_{school}"],
                    },
                )
    else:
        rows = {school: world.ids[f"{school}_{STUDENT_DATA[table]}"] for school in ("a", "b")}
    with world.as_person("auditor") as conn:
        assert _last(conn, table, rows["a"]) and _last(conn, table, rows["b"])
    with world.as_person("lead_a") as conn:
        mine = _last(conn, table, rows["a"])
        assert [r["action"] for r in mine] == ["INSERT"]
        assert _last(conn, table, rows["b"]) == []  # school B is not hers


# --- the stock ledger ---------------------------------------------------------------------------


def _raise_stock(conn: Connection, lot: uuid.UUID, by: int = 1000) -> None:
    conn.execute(
        text("UPDATE medication_inventory SET quantity = quantity + :by WHERE id = :id"),
        {"by": by, "id": lot},
    )


def _ledger(conn: Connection, lot: uuid.UUID, user: uuid.UUID, after: int) -> None:
    conn.execute(
        text(
            "INSERT INTO inventory_adjustments (inventory_id, delta, quantity_after, reason, "
            "user_id) VALUES (:lot, 1000, :after, 'delivery', :u)"
        ),
        {"lot": lot, "after": after, "u": user},
    )


@pytest.mark.parametrize("who", ["nurse_a", "owner"])
def test_stock_cannot_change_without_a_ledger_line(world: SecureWorld, who: str) -> None:  # noqa: F811
    lot = world.ids["a_lot"]
    opener = world.as_person("nurse_a") if who == "nurse_a" else world.as_owner()
    with opener as conn:
        _raise_stock(conn, lot)
        with pytest.raises(DBAPIError) as exc:
            conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # what COMMIT would check
        assert sqlstate(exc) == "23000"


def test_a_commit_without_a_ledger_line_is_refused(world: SecureWorld) -> None:  # noqa: F811
    lot = world.ids["a_lot"]
    with world.engine("nurse_a").connect() as conn:
        conn.begin()
        _raise_stock(conn, lot)
        with pytest.raises(DBAPIError) as exc:
            conn.commit()
        assert sqlstate(exc) == "23000"
    with world.owner.connect() as conn:
        assert (
            conn.execute(
                text("SELECT quantity FROM medication_inventory WHERE id = :id"), {"id": lot}
            ).scalar()
            == 20
        )


def test_with_a_ledger_line_in_the_same_transaction_it_passes(world: SecureWorld) -> None:  # noqa: F811
    lot = world.ids["a_lot"]
    with world.as_person("nurse_a") as conn:
        _raise_stock(conn, lot)
        _ledger(conn, lot, world.users["nurse_a"], 1020)
        conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
    with world.as_person("nurse_a") as conn:  # the ORM's way: the line written in a savepoint
        _raise_stock(conn, lot)
        conn.execute(text("SAVEPOINT orm"))
        _ledger(conn, lot, world.users["nurse_a"], 1020)
        conn.execute(text("RELEASE SAVEPOINT orm"))
        conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))


def test_a_rolled_back_ledger_line_does_not_count(world: SecureWorld) -> None:  # noqa: F811
    lot = world.ids["a_lot"]
    with world.as_person("nurse_a") as conn:
        _raise_stock(conn, lot)
        conn.execute(text("SAVEPOINT s"))
        _ledger(conn, lot, world.users["nurse_a"], 1020)
        conn.execute(text("ROLLBACK TO SAVEPOINT s"))
        with pytest.raises(DBAPIError) as exc:
            conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        assert sqlstate(exc) == "23000"


def test_an_old_ledger_line_or_another_lots_line_does_not_count(world: SecureWorld) -> None:  # noqa: F811
    """The lot already has a committed 'received' line from the seed: not enough."""
    with world.as_person("nurse_a") as conn:
        _raise_stock(conn, world.ids["a_lot"])
        _ledger(conn, world.ids["a_own_lot"], world.users["nurse_a"], 1003)
        with pytest.raises(DBAPIError) as exc:
            conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        assert sqlstate(exc) == "23000"


def test_other_lot_changes_and_new_lots_need_no_ledger_line(world: SecureWorld) -> None:  # noqa: F811
    with world.as_person("nurse_a") as conn:
        conn.execute(
            text("UPDATE medication_inventory SET reorder_level = 9 WHERE id = :id"),
            {"id": world.ids["a_lot"]},
        )
        conn.execute(
            text(
                "INSERT INTO medication_inventory (medication_id, school_id, batch_number, "
                "quantity, expiration_date) VALUES (:m, :s, 'NEW', 50, '2030-01-01')"
            ),
            {"m": world.ids["med"], "s": world.ids["school_A"]},
        )
        conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))


def _audit_since(world: SecureWorld, start: int) -> list[tuple[str, str, str]]:  # noqa: F811
    with world.as_owner() as conn:
        rows = conn.execute(
            text("SELECT table_name, action, actor FROM audit_log WHERE id > :s ORDER BY id"),
            {"s": start},
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def _audit_high_water(world: SecureWorld) -> int:  # noqa: F811
    with world.as_owner() as conn:
        return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM audit_log")).scalar_one())


@pytest.mark.parametrize("how", ["login", "set_role"])
def test_every_clinical_write_of_a_nurse_is_audited_under_her_name(
    world: SecureWorld,  # noqa: F811
    how: str,
) -> None:
    who = world.roles["nurse_a"]
    start = _audit_high_water(world)
    engine = world.engine("nurse_a") if how == "login" else world.owner
    with engine.begin() as conn:
        if how == "set_role":
            conn.execute(text(f'SET LOCAL ROLE "{who}"'))
        for sql in INSERTS.values():
            conn.execute(text(sql), params(world, "a"))
        for table, sql in UPDATES.items():
            conn.execute(text(sql), {"id": world.ids[f"a_{STUDENT_DATA[table]}"]})
    logged = _audit_since(world, start)
    assert {actor for _t, _a, actor in logged} == {who}
    assert {(t, "INSERT") for t in INSERTS} | {(t, "UPDATE") for t in UPDATES} == {
        (t, a) for t, a, _w in logged
    }


@pytest.mark.parametrize("how", ["login", "set_role"])
def test_user_and_school_changes_are_audited_under_the_admins_name(
    world: SecureWorld,  # noqa: F811
    how: str,
) -> None:
    who = world.roles["admin"]
    start = _audit_high_water(world)
    engine = world.engine("admin") if how == "login" else world.owner
    school, user = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        if how == "set_role":
            conn.execute(text(f'SET LOCAL ROLE "{who}"'))
        conn.execute(
            text("INSERT INTO schools (id, code, name) VALUES (:id, :c, 'Audited School')"),
            {"id": school, "c": f"AUDIT-{school.hex[:8]}"},
        )
        conn.execute(
            text(
                "INSERT INTO users (id, first_name, last_name, username, role, school_id) "
                "VALUES (:id, 'New', 'Nurse', :u, 'NURSE', :s)"
            ),
            {"id": user, "u": f"new_{user.hex[:8]}", "s": school},
        )
        conn.execute(
            text("INSERT INTO user_schools (user_id, school_id) VALUES (:u, :s)"),
            {"u": user, "s": school},
        )
        conn.execute(text("UPDATE users SET role = 'LEAD_NURSE' WHERE id = :u"), {"u": user})
        conn.execute(text("DELETE FROM user_schools WHERE user_id = :u"), {"u": user})
    assert _audit_since(world, start) == [
        ("schools", "INSERT", who),
        ("users", "INSERT", who),
        ("user_schools", "INSERT", who),
        ("users", "UPDATE", who),
        ("user_schools", "DELETE", who),
    ]
