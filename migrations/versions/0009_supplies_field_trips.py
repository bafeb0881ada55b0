"""students' own supplies: field-trip sign-out and count-back

Revision ID: 0009_supplies_field_trips
Revises: 0008_student_page

A student's own supply is already a lot with ``medication_inventory.student_id`` (0001), and
every change of its count already has its ledger line (``inventory_adjustments``, 0005's
deferred ledger check). What was missing is the field trip: doses counted out of the supply to
a teacher and counted back afterwards, with both names.

* ``field_trip_signouts``: one row when doses leave (``direction = 'OUT'``: how many, to whom —
  ``other_person`` is the teacher's name as she signs, she need not be a user — and which nurse
  counted them out), and one row when the trip comes back (``'BACK'``, naming its ``OUT`` row in
  ``signout_id``: doses returned, doses the teacher reports given on the trip, who brought them
  back and which nurse counted them). At most one ``BACK`` per ``OUT`` (unique ``signout_id``).
  Each row names the ledger line that moved the lot's count (``adjustment_id``; none for a
  count-back of zero returned doses).
* Append-only like the other clinical records: no UPDATE or DELETE (trigger, and no grant).
* Row-level security as ``inventory_adjustments``: nurses and lead nurses of the lot's school
  read and insert; auditors read. Audited by the same statement triggers as 0005's tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_supplies_field_trips"
down_revision: str | None = "0008_student_page"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLINICAL = "medapp_nurse, medapp_lead_nurse"
AUDITOR = "medapp_auditor"
TABLE = "field_trip_signouts"
MY_SCHOOLS = "(SELECT public.medapp_my_schools())::uuid[]"
MY_STUDENTS = f"(SELECT s.id FROM public.students s WHERE s.school_id = ANY ({MY_SCHOOLS}))"
MY_LOTS = (
    "(SELECT mi.id FROM public.medication_inventory mi "
    f"WHERE mi.school_id = ANY ({MY_SCHOOLS}) OR mi.student_id IN {MY_STUDENTS})"
)

IMMUTABLE_FUNCTION = """
CREATE FUNCTION medapp_field_trip_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'medapp: field-trip sign-outs are append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("inventory_id", sa.Uuid(), nullable=False),
        sa.Column("student_id", sa.Uuid(), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("signout_id", sa.Uuid(), nullable=True),
        sa.Column("doses", sa.Integer(), nullable=False),
        sa.Column("given_on_trip", sa.Integer(), nullable=True),
        sa.Column("trip", sa.String(length=200), nullable=False),
        sa.Column("other_person", sa.String(length=200), nullable=False),
        sa.Column("nurse_id", sa.Uuid(), nullable=False),
        sa.Column("adjustment_id", sa.Uuid(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "occurred_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "direction IN ('OUT', 'BACK')", name=op.f("ck_field_trip_signouts_direction_known")
        ),
        sa.CheckConstraint(
            "(direction = 'OUT') = (signout_id IS NULL)",
            name=op.f("ck_field_trip_signouts_back_names_out"),
        ),
        sa.CheckConstraint(
            "(direction = 'BACK') = (given_on_trip IS NOT NULL)",
            name=op.f("ck_field_trip_signouts_given_on_back"),
        ),
        sa.CheckConstraint(
            "doses >= 0 AND (direction = 'BACK' OR doses > 0)",
            name=op.f("ck_field_trip_signouts_doses_counted"),
        ),
        sa.CheckConstraint(
            "given_on_trip IS NULL OR given_on_trip >= 0",
            name=op.f("ck_field_trip_signouts_given_not_negative"),
        ),
        sa.CheckConstraint(
            "length(btrim(other_person)) > 0 AND length(btrim(trip)) > 0",
            name=op.f("ck_field_trip_signouts_names_not_blank"),
        ),
        sa.ForeignKeyConstraint(
            ["inventory_id"],
            ["medication_inventory.id"],
            name=op.f("fk_field_trip_signouts_inventory_id_medication_inventory"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["students.id"], name=op.f("fk_field_trip_signouts_student_id_students")
        ),
        sa.ForeignKeyConstraint(
            ["signout_id"],
            [f"{TABLE}.id"],
            name=op.f("fk_field_trip_signouts_signout_id_field_trip_signouts"),
        ),
        sa.ForeignKeyConstraint(
            ["nurse_id"], ["users.id"], name=op.f("fk_field_trip_signouts_nurse_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["adjustment_id"],
            ["inventory_adjustments.id"],
            name=op.f("fk_field_trip_signouts_adjustment_id_inventory_adjustments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_trip_signouts")),
        sa.UniqueConstraint("signout_id", name=op.f("uq_field_trip_signouts_signout_id")),
    )
    op.create_index(
        "ix_field_trip_signouts_student_id", TABLE, ["student_id", "occurred_at"], unique=False
    )
    op.create_index("ix_field_trip_signouts_inventory_id", TABLE, ["inventory_id"], unique=False)
    op.execute(IMMUTABLE_FUNCTION)
    op.execute("REVOKE ALL ON FUNCTION medapp_field_trip_immutable() FROM PUBLIC")
    op.execute(
        f"CREATE TRIGGER {TABLE}_immutable BEFORE UPDATE OR DELETE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION medapp_field_trip_immutable()"
    )
    # The three audit triggers of 0005's tables (updates and deletes are refused above, but
    # the set is uniform: a table is audited for every event or not at all).
    op.execute(
        f"CREATE TRIGGER {TABLE}_audit_insert AFTER INSERT ON {TABLE} "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION medapp_audit()"
    )
    op.execute(
        f"CREATE TRIGGER {TABLE}_audit_update AFTER UPDATE ON {TABLE} "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION medapp_audit()"
    )
    op.execute(
        f"CREATE TRIGGER {TABLE}_audit_delete AFTER DELETE ON {TABLE} "
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION medapp_audit()"
    )
    op.execute(f"GRANT SELECT, INSERT ON {TABLE} TO {CLINICAL}")
    op.execute(f"GRANT SELECT ON {TABLE} TO {AUDITOR}")
    op.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY {TABLE}_auditor_read ON {TABLE} FOR SELECT TO {AUDITOR} USING (true)")
    op.execute(
        f"CREATE POLICY {TABLE}_school_select ON {TABLE} FOR SELECT TO {CLINICAL} "
        f"USING (inventory_id IN {MY_LOTS})"
    )
    op.execute(
        f"CREATE POLICY {TABLE}_school_insert ON {TABLE} FOR INSERT TO {CLINICAL} "
        f"WITH CHECK (inventory_id IN {MY_LOTS})"
    )


def downgrade() -> None:
    op.drop_table(TABLE)  # its policies, triggers and indexes go with it
    op.execute("DROP FUNCTION IF EXISTS medapp_field_trip_immutable()")
