"""orders carry their student's school, so row-level security finds a school's orders by index

Revision ID: 0011_order_school
Revises: 0010_audit_new_tables

Why: the row policies of ``student_medications``, ``medication_logs`` and ``prn_outcomes`` (0005,
0008) found "my orders" by joining every order to its student. PostgreSQL ran that as a scan of
all the district's orders with a hashed sub-plan for every statement that touched an order or a
dose log — about 1 ms of the 1.8 ms a school's dose-log read took (EXPLAIN ANALYZE on the
district bench data, 5,742 orders), and a dose record runs six such statements.

* ``student_medications.school_id`` (NOT NULL, indexed) is always the school of the order's
  student: a BEFORE trigger sets it from ``students`` on every insert and on any update of
  ``student_id`` or ``school_id`` (a value the client sends is overwritten, so it cannot be used
  to move an order into another school's view); an AFTER trigger on ``students`` carries a
  transfer (``students.school_id`` changed) to the student's orders. Both trigger functions are
  SECURITY DEFINER with a fixed search path: the nurse's own row policies must not hide the
  student row the value comes from, and the order update must reach every order of the student.
* The policies say the same thing through the new column: an order is mine when
  ``school_id = ANY (my schools)``; a dose log when its order is one of those (an index scan on
  ``ix_student_medications_school_id``); a PRN outcome when its dose log is.
* ``medapp_one_given_per_dose`` reads the school's dose window, and
  ``medapp_notify_by_prescription`` the school a change notification names, through the order's
  school (one join fewer, and no pass over the students' row policy).

Downgrade restores 0005's and 0008's policies, 0004's and 0007's trigger functions verbatim.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_order_school"
down_revision: str | None = "0010_audit_new_tables"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NURSE = "medapp_nurse"
LEAD = "medapp_lead_nurse"
CLINICAL = f"{NURSE}, {LEAD}"

MY_SCHOOLS = "(SELECT public.medapp_my_schools())::uuid[]"

# 0005 / 0008, written out (a migration must not change when other code does).
OLD_MY_STUDENTS = f"(SELECT s.id FROM public.students s WHERE s.school_id = ANY ({MY_SCHOOLS}))"
OLD_MY_ORDERS = (
    "(SELECT sm.id FROM public.student_medications sm JOIN public.students s "
    f"ON s.id = sm.student_id WHERE s.school_id = ANY ({MY_SCHOOLS}))"
)
OLD_MY_LOGS = (
    "(SELECT ml.id FROM public.medication_logs ml JOIN public.student_medications sm "
    "ON sm.id = ml.student_medication_id JOIN public.students s ON s.id = sm.student_id "
    f"WHERE s.school_id = ANY ({MY_SCHOOLS}))"
)
OLD_POLICIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "student_medications": (f"student_id IN {OLD_MY_STUDENTS}", ("SELECT", "INSERT", "UPDATE")),
    "medication_logs": (f"student_medication_id IN {OLD_MY_ORDERS}", ("SELECT", "INSERT", "UPDATE")),
    "prn_outcomes": (f"medication_log_id IN {OLD_MY_LOGS}", ("SELECT", "INSERT")),
}

MY_ORDERS = (
    f"(SELECT sm.id FROM public.student_medications sm WHERE sm.school_id = ANY ({MY_SCHOOLS}))"
)
MY_LOGS = (
    "(SELECT ml.id FROM public.medication_logs ml "
    f"WHERE ml.student_medication_id IN {MY_ORDERS})"
)
NEW_POLICIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "student_medications": (f"school_id = ANY ({MY_SCHOOLS})", ("SELECT", "INSERT", "UPDATE")),
    "medication_logs": (f"student_medication_id IN {MY_ORDERS}", ("SELECT", "INSERT", "UPDATE")),
    "prn_outcomes": (f"medication_log_id IN {MY_LOGS}", ("SELECT", "INSERT")),
}

FUNCTIONS = """
CREATE FUNCTION medapp_order_school() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  -- Always the student's school, whatever the statement said (NULL if the student does not
  -- exist: the NOT NULL and the foreign key then refuse the row with their own message).
  NEW.school_id := (SELECT s.school_id FROM public.students s WHERE s.id = NEW.student_id);
  RETURN NEW;
END $$;

CREATE FUNCTION medapp_student_moved() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  UPDATE public.student_medications SET school_id = NEW.school_id
   WHERE student_id = NEW.id AND school_id IS DISTINCT FROM NEW.school_id;
  RETURN NULL;
END $$;
"""

NOTIFY_TEMPLATE = """
CREATE OR REPLACE FUNCTION medapp_notify_by_prescription() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT {school} AS sid, count(*) AS n,
           string_agg(c.id::text, ',' ORDER BY c.id) AS ids
      FROM changed_rows c
      JOIN student_medications sm ON sm.id = c.student_medication_id{join}
     GROUP BY {school}
  LOOP
    PERFORM pg_notify('medapp_changes', TG_TABLE_NAME || ':' || r.sid::text
      || CASE WHEN r.n <= 100 THEN ':' || r.ids ELSE '' END);
  END LOOP;
  RETURN NULL;
END $$;
"""
NOTIFY_NEW = NOTIFY_TEMPLATE.format(school="sm.school_id", join="")
NOTIFY_OLD = NOTIFY_TEMPLATE.format(  # 0007's body
    school="s.school_id", join="\n      JOIN students s ON s.id = sm.student_id"
)

ONE_GIVEN_LOOKUP_OLD = """  SELECT sm.is_prn OR sm.frequency ~* '(\\mprn\\M|\\mp\\.r\\.n\\M|as needed|when needed)',
         sc.dose_window_minutes
    INTO prn, window_minutes
    FROM student_medications sm
    JOIN students st ON st.id = sm.student_id
    JOIN schools sc ON sc.id = st.school_id
   WHERE sm.id = NEW.student_medication_id;"""
ONE_GIVEN_LOOKUP_NEW = """  SELECT sm.is_prn OR sm.frequency ~* '(\\mprn\\M|\\mp\\.r\\.n\\M|as needed|when needed)',
         sc.dose_window_minutes
    INTO prn, window_minutes
    FROM student_medications sm
    JOIN schools sc ON sc.id = sm.school_id
   WHERE sm.id = NEW.student_medication_id;"""


def _one_given_function(new: bool) -> str:
    """0004's function body with the school looked up through the order (or as 0004 had it)."""
    conn = op.get_bind()
    body = conn.execute(
        sa.text(
            "SELECT pg_get_functiondef('medapp_one_given_per_dose()'::regprocedure)"
        )
    ).scalar_one()
    old, replacement = (
        (ONE_GIVEN_LOOKUP_OLD, ONE_GIVEN_LOOKUP_NEW)
        if new
        else (ONE_GIVEN_LOOKUP_NEW, ONE_GIVEN_LOOKUP_OLD)
    )
    if old not in body:
        raise RuntimeError("medapp_one_given_per_dose is not the function this migration knows")
    return body.replace(old, replacement)


def _policies(policies: dict[str, tuple[str, tuple[str, ...]]]) -> None:
    for table, (predicate, commands) in policies.items():
        for command in commands:
            op.execute(f"DROP POLICY IF EXISTS {table}_school_{command.lower()} ON {table}")
            clause = {
                "SELECT": f"USING ({predicate})",
                "INSERT": f"WITH CHECK ({predicate})",
                "UPDATE": f"USING ({predicate}) WITH CHECK ({predicate})",
            }[command]
            op.execute(
                f"CREATE POLICY {table}_school_{command.lower()} ON {table} "
                f"FOR {command} TO {CLINICAL} {clause}"
            )


def upgrade() -> None:
    op.add_column("student_medications", sa.Column("school_id", sa.Uuid(), nullable=True))
    op.execute(
        "UPDATE student_medications sm SET school_id = s.school_id "
        "FROM students s WHERE s.id = sm.student_id"
    )
    op.alter_column("student_medications", "school_id", nullable=False)
    op.create_foreign_key(
        "fk_student_medications_school_id_schools",
        "student_medications",
        "schools",
        ["school_id"],
        ["id"],
    )
    op.create_index(
        "ix_student_medications_school_id", "student_medications", ["school_id"]
    )
    op.execute(FUNCTIONS)
    op.execute("REVOKE ALL ON FUNCTION medapp_order_school() FROM PUBLIC")
    op.execute("REVOKE ALL ON FUNCTION medapp_student_moved() FROM PUBLIC")
    op.execute(
        "CREATE TRIGGER student_medications_school BEFORE INSERT OR UPDATE OF student_id, "
        "school_id ON student_medications FOR EACH ROW EXECUTE FUNCTION medapp_order_school()"
    )
    op.execute(
        "CREATE TRIGGER students_moved AFTER UPDATE OF school_id ON students FOR EACH ROW "
        "WHEN (OLD.school_id IS DISTINCT FROM NEW.school_id) "
        "EXECUTE FUNCTION medapp_student_moved()"
    )
    op.execute(_one_given_function(new=True))
    op.execute(NOTIFY_NEW)
    _policies(NEW_POLICIES)


def downgrade() -> None:
    _policies(OLD_POLICIES)
    op.execute(_one_given_function(new=False))
    op.execute(NOTIFY_OLD)
    op.execute("DROP TRIGGER IF EXISTS students_moved ON students")
    op.execute("DROP TRIGGER IF EXISTS student_medications_school ON student_medications")
    op.execute("DROP FUNCTION IF EXISTS medapp_student_moved()")
    op.execute("DROP FUNCTION IF EXISTS medapp_order_school()")
    op.drop_index("ix_student_medications_school_id", table_name="student_medications")
    op.drop_constraint(
        "fk_student_medications_school_id_schools", "student_medications", type_="foreignkey"
    )
    op.drop_column("student_medications", "school_id")
