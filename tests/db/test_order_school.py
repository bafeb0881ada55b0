"""An order's ``school_id`` (migration 0011) is always its student's school: the server sets it,
a client cannot steer it, a transfer carries it — because row-level security now decides who
sees an order and its dose logs through it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.db.secure_world import SecureWorld, params, sqlstate, world  # noqa: F401

DENIED = "42501"


def _school_of(conn, order_id) -> object:  # noqa: ANN001
    return conn.execute(
        text("SELECT school_id FROM student_medications WHERE id = :id"), {"id": order_id}
    ).scalar_one()


def test_a_new_order_gets_its_students_school_whatever_the_client_sends(
    world: SecureWorld,  # noqa: F811
) -> None:
    with world.as_person("nurse_a") as conn:
        order_id = conn.execute(
            text(
                "INSERT INTO student_medications (student_id, medication_id, dosage, frequency, "
                "route, start_date, prescribed_by, school_id) VALUES (:student, :med, '1', "
                "'daily', 'PO', '2026-09-01', 'X', :other) RETURNING id"
            ),
            {**params(world, "a"), "other": world.ids["school_B"]},
        ).scalar_one()
        assert _school_of(conn, order_id) == world.ids["school_A"]


def test_an_order_cannot_be_pointed_at_another_school(world: SecureWorld) -> None:  # noqa: F811
    with world.as_person("nurse_a") as conn:
        conn.execute(
            text("UPDATE student_medications SET school_id = :b WHERE id = :id"),
            {"b": world.ids["school_B"], "id": world.ids["a_order"]},
        )
        assert _school_of(conn, world.ids["a_order"]) == world.ids["school_A"]


def test_moving_an_order_to_another_schools_student_is_refused(
    world: SecureWorld,  # noqa: F811
) -> None:
    with world.as_person("nurse_a") as conn, pytest.raises(DBAPIError) as exc:
        conn.execute(
            text("UPDATE student_medications SET student_id = :s WHERE id = :id"),
            {"s": world.ids["b_student"], "id": world.ids["a_order"]},
        )
    assert sqlstate(exc) == DENIED


def test_a_transfer_moves_the_orders_and_their_dose_logs_to_the_new_school(
    world: SecureWorld,  # noqa: F811
) -> None:
    with world.as_owner() as conn:
        conn.execute(
            text("UPDATE students SET school_id = :b WHERE id = :id"),
            {"b": world.ids["school_B"], "id": world.ids["a_student"]},
        )
        assert _school_of(conn, world.ids["a_order"]) == world.ids["school_B"]
        # what each school's nurse now sees, in this same (uncommitted) transaction
        for person, sees in (("nurse_b", True), ("nurse_a", False)):
            conn.execute(text(f'SET LOCAL ROLE "{world.roles[person]}"'))
            orders = set(conn.execute(text("SELECT id FROM student_medications")).scalars())
            logs = set(conn.execute(text("SELECT id FROM medication_logs")).scalars())
            assert (world.ids["a_order"] in orders) is sees, person
            assert (world.ids["a_log"] in logs) is sees, person
            conn.execute(text("RESET ROLE"))
        changes = conn.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE table_name = 'student_medications' "
                "AND row_id = :id AND action = 'UPDATE'"
            ),
            {"id": str(world.ids["a_order"])},
        ).scalar_one()
        assert changes >= 1  # the carried school is an audited change like any other
