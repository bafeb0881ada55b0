"""Two schools, their records, and real login roles for raw-SQL security tests.

The database is migrated and seeded by the owner (the test server's superuser); every person is
a PostgreSQL LOGIN role named like her ``users.username``, member of her group role, as on a
district server. Login roles are global to the server: names carry a uuid suffix and are dropped
afterwards (after the database, so nothing of theirs is left behind).
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from medapp.db import migrate
from medapp.db.engine import make_engine
from medapp.db.testing import scratch_database

GROUP = {
    "NURSE": "medapp_nurse",
    "LEAD_NURSE": "medapp_lead_nurse",
    "DISTRICT_ADMIN": "medapp_district_admin",
    "AUDITOR": "medapp_auditor",
}


@dataclass
class SecureWorld:
    """Ids of the seeded rows (``a_*`` in school A, ``b_*`` in school B) and the role names."""

    url: str
    owner: Engine
    roles: dict[str, str]  # person key -> role name (= users.username)
    users: dict[str, uuid.UUID]
    ids: dict[str, uuid.UUID]
    _engines: dict[str, Engine] = field(default_factory=dict)

    def engine(self, person: str) -> Engine:
        """An engine that logs in as that person's own role (no pooling: a fresh session)."""
        if person not in self._engines:
            url = make_url(self.url).set(username=self.roles[person], password=None)
            self._engines[person] = create_engine(url, poolclass=NullPool)
        return self._engines[person]

    @contextmanager
    def as_person(self, person: str) -> Iterator[Connection]:
        """Her own connection, in a transaction that is rolled back."""
        with self.engine(person).connect() as conn:
            trans = conn.begin()
            try:
                yield conn
            finally:
                trans.rollback()

    @contextmanager
    def as_owner(self) -> Iterator[Connection]:
        """The owner (superuser here), in a transaction that is rolled back."""
        with self.owner.connect() as conn:
            trans = conn.begin()
            try:
                yield conn
            finally:
                trans.rollback()

    @contextmanager
    def as_owner_set_role(self, person: str) -> Iterator[Connection]:
        """The private database's way: the superuser connection takes her role."""
        with self.owner.connect() as conn:
            trans = conn.begin()
            try:
                conn.execute(text(f'SET LOCAL ROLE "{self.roles[person]}"'))
                yield conn
            finally:
                trans.rollback()

    def dispose(self) -> None:
        for eng in self._engines.values():
            eng.dispose()


def sqlstate(exc: pytest.ExceptionInfo[DBAPIError]) -> str:
    return getattr(exc.value.orig, "sqlstate", "") or ""


# table -> the seeded row key suffix
STUDENT_DATA = {
    "students": "student",
    "student_medications": "order",
    "medication_logs": "log",
    "allergies": "allergy",
    "incident_reports": "incident",
    "adverse_reactions": "reaction",
    "medication_inventory": "lot",
    "inventory_adjustments": "adjustment",
    "student_conditions": "condition",  # 0008_student_page
    "emergency_contacts": "contact",
    "prn_outcomes": "outcome",
}

UPDATES = {
    "students": "UPDATE students SET grade = '4' WHERE id = :id",
    "student_medications": "UPDATE student_medications SET dosage = '99 mg' WHERE id = :id",
    "allergies": "UPDATE allergies SET severity = 'MILD' WHERE id = :id",
    "incident_reports": "UPDATE incident_reports SET description = 'nothing' WHERE id = :id",
    "medication_inventory": "UPDATE medication_inventory SET reorder_level = 0 WHERE id = :id",
}

INSERTS = {
    "students": (
        "INSERT INTO students (student_number, first_name, last_name, grade, date_of_birth, "
        "school_id) VALUES ('SX' || left(md5(random()::text), 8), 'X', 'Y', '1', '2019-01-01', "
        ":school)"
    ),
    "allergies": (
        "INSERT INTO allergies (student_id, allergen, severity) VALUES (:student, 'latex', 'MILD')"
    ),
    "student_medications": (
        "INSERT INTO student_medications (student_id, medication_id, dosage, frequency, route, "
        "start_date, prescribed_by) VALUES (:student, :med, '1', 'daily', 'PO', '2026-09-01', 'X')"
    ),
    "medication_logs": (
        "INSERT INTO medication_logs (id, student_medication_id, nurse_id, time_given, status) "
        "VALUES (gen_random_uuid(), :order, :nurse, now() - make_interval(days => :days), 'GIVEN')"
    ),
    "incident_reports": (
        "INSERT INTO incident_reports (student_id, reported_by_id, type, severity, description, "
        "occurred_at) VALUES (:student, :nurse, 'OTHER', 'MILD', 'x', now())"
    ),
    "medication_inventory": (
        "INSERT INTO medication_inventory (medication_id, school_id, batch_number, quantity, "
        "expiration_date) VALUES (:med, :school, 'N', 1, '2030-01-01')"
    ),
    "inventory_adjustments": (
        "INSERT INTO inventory_adjustments (inventory_id, delta, quantity_after, reason, user_id) "
        "VALUES (:lot, 1, 21, 'count', :nurse)"
    ),
    # 0009_supplies_field_trips: the lot's school decides, as for the ledger
    "field_trip_signouts": (
        "INSERT INTO field_trip_signouts (id, inventory_id, student_id, direction, doses, trip, "
        "other_person, nurse_id) VALUES (gen_random_uuid(), :lot, :student, 'OUT', 1, 'Zoo', "
        "'Mr. Teach', :nurse)"
    ),
    "student_conditions": (
        "INSERT INTO student_conditions (student_id, name) VALUES (:student, 'Asthma')"
    ),
    "emergency_contacts": (
        "INSERT INTO emergency_contacts (student_id, name, relationship, phone) "
        "VALUES (:student, 'X', 'Mother', '555-0100')"
    ),
}


_DOSE_DAYS = itertools.count(1)


def params(world: SecureWorld, school: str) -> dict[str, object]:
    """Bind parameters of INSERTS for that school's rows (written by nurse_a). Each call's dose
    is on a day of its own: one scheduled dose is given once (migration 0004), so two inserts
    of "the same dose now" would rightly be refused."""
    return {
        "days": next(_DOSE_DAYS),
        "school": world.ids[f"school_{school.upper()}"],
        "student": world.ids[f"{school}_student"],
        "order": world.ids[f"{school}_order"],
        "lot": world.ids[f"{school}_lot"],
        "med": world.ids["med"],
        "nurse": world.users["nurse_a"],
    }


PEOPLE = {
    "nurse_a": ("NURSE", ("A",)),
    "nurse_b": ("NURSE", ("B",)),
    "lead_a": ("LEAD_NURSE", ("A",)),
    "auditor": ("AUDITOR", ()),
    "admin": ("DISTRICT_ADMIN", ()),
    "gone_a": ("NURSE", ("A",)),  # disabled account
}


def _seed(conn: Connection, suffix: str) -> tuple[dict[str, uuid.UUID], dict[str, uuid.UUID]]:
    ids: dict[str, uuid.UUID] = {}
    users: dict[str, uuid.UUID] = {}

    def new(key: str) -> uuid.UUID:
        ids[key] = uuid.uuid4()
        return ids[key]

    def run(sql: str, **params: object) -> None:
        conn.execute(text(sql), params)

    for school in ("A", "B"):
        run(
            "INSERT INTO schools (id, code, name) VALUES (:id, :code, :name)",
            id=new(f"school_{school}"),
            code=f"SEC-{school}-{suffix}",
            name=f"School {school}",
        )
    for person, (role, schools) in PEOPLE.items():
        users[person] = uuid.uuid4()
        home = ids[f"school_{schools[0]}"] if schools else None
        run(
            "INSERT INTO users (id, first_name, last_name, username, role, school_id, is_active) "
            "VALUES (:id, 'Test', :last, :username, :role, :home, :active)",
            id=users[person],
            last=person,
            username=f"{person}_{suffix}",
            role=role,
            home=home,
            active=person != "gone_a",
        )
        for school in schools:
            run(
                "INSERT INTO user_schools (user_id, school_id) VALUES (:u, :s)",
                u=users[person],
                s=ids[f"school_{school}"],
            )
    run(
        "INSERT INTO medications (id, name, dosage_form, strength) "
        "VALUES (:id, 'Testamol', 'TABLET', '10 mg')",
        id=new("med"),
    )
    for school in ("a", "b"):
        sid = ids[f"school_{school.upper()}"]
        nurse = users[f"nurse_{school}"]
        run(
            "INSERT INTO students (id, student_number, first_name, last_name, grade, "
            "date_of_birth, school_id) VALUES (:id, :num, 'Kid', :last, '3', '2017-05-01', :s)",
            id=new(f"{school}_student"),
            num=f"S{school}{suffix}",
            last=f"Student{school.upper()}",
            s=sid,
        )
        run(
            "INSERT INTO student_medications (id, student_id, medication_id, dosage, frequency, "
            "route, start_date, prescribed_by) VALUES (:id, :st, :med, '10 mg', 'daily', 'PO', "
            "'2026-09-01', 'Dr. Who')",
            id=new(f"{school}_order"),
            st=ids[f"{school}_student"],
            med=ids["med"],
        )
        run(
            "INSERT INTO medication_logs (id, student_medication_id, nurse_id, time_given, status) "
            "VALUES (:id, :rx, :n, :t, 'GIVEN')",
            id=new(f"{school}_log"),
            rx=ids[f"{school}_order"],
            n=nurse,
            t=dt.datetime(2026, 11, 2, 17, tzinfo=dt.UTC),
        )
        run(
            "INSERT INTO allergies (id, student_id, allergen, severity) "
            "VALUES (:id, :st, 'peanut', 'SEVERE')",
            id=new(f"{school}_allergy"),
            st=ids[f"{school}_student"],
        )
        run(
            "INSERT INTO incident_reports (id, student_id, reported_by_id, type, severity, "
            "description, occurred_at) VALUES (:id, :st, :n, 'ADVERSE_REACTION', 'MILD', "
            "'hives', now())",
            id=new(f"{school}_incident"),
            st=ids[f"{school}_student"],
            n=nurse,
        )
        run(
            "INSERT INTO adverse_reactions (id, student_id, medication_id, severity, reaction, "
            "reported_by_id, occurred_at, incident_report_id) VALUES (:id, :st, :med, 'MILD', "
            "'hives', :n, now(), :inc)",
            id=new(f"{school}_reaction"),
            st=ids[f"{school}_student"],
            med=ids["med"],
            n=nurse,
            inc=ids[f"{school}_incident"],
        )
        run(
            "INSERT INTO medication_inventory (id, medication_id, school_id, batch_number, "
            "quantity, reorder_level, expiration_date) VALUES (:id, :med, :s, 'LOT', 20, 5, "
            "current_date + 5)",
            id=new(f"{school}_lot"),
            med=ids["med"],
            s=sid,
        )
        run(
            "INSERT INTO medication_inventory (id, medication_id, student_id, batch_number, "
            "quantity, reorder_level, expiration_date) VALUES (:id, :med, :st, 'OWN', 3, 0, "
            "'2030-01-01')",
            id=new(f"{school}_own_lot"),
            med=ids["med"],
            st=ids[f"{school}_student"],
        )
        run(
            "INSERT INTO inventory_adjustments (id, inventory_id, delta, quantity_after, reason, "
            "user_id) VALUES (:id, :lot, 20, 20, 'received', :n)",
            id=new(f"{school}_adjustment"),
            lot=ids[f"{school}_lot"],
            n=nurse,
        )
        run(
            "INSERT INTO student_conditions (id, student_id, name) VALUES (:id, :st, 'Asthma')",
            id=new(f"{school}_condition"),
            st=ids[f"{school}_student"],
        )
        run(
            "INSERT INTO emergency_contacts (id, student_id, name, relationship, phone) "
            "VALUES (:id, :st, 'Pat', 'Mother', '555-0100')",
            id=new(f"{school}_contact"),
            st=ids[f"{school}_student"],
        )
        run(
            "INSERT INTO prn_outcomes (id, medication_log_id, outcome, recorded_by_id, "
            "observed_at) VALUES (:id, :log, 'RESOLVED', :n, now())",
            id=new(f"{school}_outcome"),
            log=ids[f"{school}_log"],
            n=nurse,
        )
    return ids, users


@pytest.fixture(scope="module")
def world(pg_server_url: str) -> Iterator[SecureWorld]:
    suffix = uuid.uuid4().hex[:8]
    roles = {person: f"{person}_{suffix}" for person in PEOPLE}
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with ExitStack() as stack:

        def drop_roles() -> None:
            with admin.connect() as conn:
                for role in roles.values():
                    conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
            admin.dispose()

        stack.callback(drop_roles)
        url = stack.enter_context(scratch_database(pg_server_url, prefix="medapp_sec"))
        owner = make_engine(url)
        stack.callback(owner.dispose)
        migrate.upgrade(owner)
        with admin.connect() as conn:
            for person, (role, _schools) in PEOPLE.items():
                conn.execute(text(f'CREATE ROLE "{roles[person]}" LOGIN IN ROLE {GROUP[role]}'))
        with owner.begin() as conn:
            ids, users = _seed(conn, suffix)
        w = SecureWorld(url=url, owner=owner, roles=roles, users=users, ids=ids)
        stack.callback(w.dispose)
        yield w
