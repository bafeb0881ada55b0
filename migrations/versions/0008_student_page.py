"""the student's page: conditions, emergency contacts, PRN complaint and outcome

Revision ID: 0008_student_page
Revises: 0007_load_notify_row_ids

* ``student_conditions`` (asthma, diabetes, seizures … with the care-plan note) and
  ``emergency_contacts`` (who to call, in order) belong to a student: the same row-level
  security as ``allergies`` (the student's school) and the same audit triggers as 0005.
* ``medication_logs.complaint``: why an as-needed dose was given ("headache"). Written with the
  dose, never changed afterwards (dose logs are append-only since 0004).
* ``prn_outcomes``: what became of it ("resolved / sent home / no change" + note, who, when),
  recorded later. Clinical records are append-only, so the outcome is its own row, one per dose
  (unique ``medication_log_id``), and a trigger refuses any UPDATE or DELETE: set once.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_student_page"
down_revision: str | None = "0007_load_notify_row_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NURSE = "medapp_nurse"
LEAD = "medapp_lead_nurse"
AUDITOR = "medapp_auditor"
CLINICAL = f"{NURSE}, {LEAD}"

PRN_OUTCOMES = ("RESOLVED", "SENT_HOME", "NO_CHANGE", "OTHER")

MY_SCHOOLS = "(SELECT public.medapp_my_schools())::uuid[]"
MY_STUDENTS = f"(SELECT s.id FROM public.students s WHERE s.school_id = ANY ({MY_SCHOOLS}))"
MY_LOGS = (
    "(SELECT ml.id FROM public.medication_logs ml JOIN public.student_medications sm "
    "ON sm.id = ml.student_medication_id JOIN public.students s ON s.id = sm.student_id "
    f"WHERE s.school_id = ANY ({MY_SCHOOLS}))"
)
# table -> (row predicate for nurses and lead nurses, commands they have)
RLS_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "student_conditions": (f"student_id IN {MY_STUDENTS}", ("SELECT", "INSERT", "UPDATE")),
    "emergency_contacts": (f"student_id IN {MY_STUDENTS}", ("SELECT", "INSERT", "UPDATE")),
    "prn_outcomes": (f"medication_log_id IN {MY_LOGS}", ("SELECT", "INSERT")),
}

SET_ONCE_FUNCTION = """
CREATE FUNCTION medapp_prn_outcome_set_once() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'medapp: a PRN outcome is recorded once and never changed (% refused)', TG_OP
    USING ERRCODE = 'integrity_constraint_violation';
END $$;
"""


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.create_table(
        "student_conditions",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("student_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("care_plan", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "length(btrim(name)) > 0", name=op.f("ck_student_conditions_name_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_student_conditions_student_id_students"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_student_conditions")),
    )
    op.create_index("ix_student_conditions_student_id", "student_conditions", ["student_id"])
    op.create_table(
        "emergency_contacts",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("student_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("relationship", sa.String(length=60), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.Integer(), server_default="1", nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "length(btrim(name)) > 0", name=op.f("ck_emergency_contacts_name_not_blank")
        ),
        sa.CheckConstraint(
            "length(btrim(phone)) > 0", name=op.f("ck_emergency_contacts_phone_not_blank")
        ),
        sa.CheckConstraint("priority > 0", name=op.f("ck_emergency_contacts_priority_positive")),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_emergency_contacts_student_id_students"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_contacts")),
    )
    op.create_index(
        "ix_emergency_contacts_student_id", "emergency_contacts", ["student_id", "priority"]
    )
    op.add_column("medication_logs", sa.Column("complaint", sa.String(length=200)))
    op.create_check_constraint(
        op.f("ck_medication_logs_complaint_not_blank"),
        "medication_logs",
        "complaint IS NULL OR length(btrim(complaint)) > 0",
    )
    op.create_table(
        "prn_outcomes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("medication_log_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            _in("outcome", PRN_OUTCOMES), name=op.f("ck_prn_outcomes_outcome_known")
        ),
        sa.CheckConstraint(
            "outcome <> 'OTHER' OR length(btrim(coalesce(note, ''))) > 0",
            name=op.f("ck_prn_outcomes_other_has_note"),
        ),
        sa.ForeignKeyConstraint(
            ["medication_log_id"],
            ["medication_logs.id"],
            name=op.f("fk_prn_outcomes_medication_log_id_medication_logs"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_prn_outcomes_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prn_outcomes")),
        sa.UniqueConstraint("medication_log_id", name=op.f("uq_prn_outcomes_medication_log_id")),
    )
    op.execute(SET_ONCE_FUNCTION)
    op.execute("REVOKE ALL ON FUNCTION medapp_prn_outcome_set_once() FROM PUBLIC")
    op.execute(
        "CREATE TRIGGER prn_outcomes_set_once BEFORE UPDATE OR DELETE ON prn_outcomes "
        "FOR EACH ROW EXECUTE FUNCTION medapp_prn_outcome_set_once()"
    )
    for table, (predicate, commands) in RLS_TABLES.items():
        for event, ref in (
            ("insert", "REFERENCING NEW TABLE AS new_rows"),
            ("update", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("delete", "REFERENCING OLD TABLE AS old_rows"),
        ):
            op.execute(
                f"CREATE TRIGGER {table}_audit_{event} AFTER {event.upper()} ON {table} "
                f"{ref} FOR EACH STATEMENT EXECUTE FUNCTION medapp_audit()"
            )
        op.execute(f"GRANT {', '.join(commands)} ON {table} TO {CLINICAL}")
        op.execute(f"GRANT SELECT ON {table} TO {AUDITOR}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_auditor_read ON {table} FOR SELECT TO {AUDITOR} USING (true)"
        )
        for command in commands:
            clause = {
                "SELECT": f"USING ({predicate})",
                "INSERT": f"WITH CHECK ({predicate})",
                "UPDATE": f"USING ({predicate}) WITH CHECK ({predicate})",
            }[command]
            op.execute(
                f"CREATE POLICY {table}_school_{command.lower()} ON {table} "
                f"FOR {command} TO {CLINICAL} {clause}"
            )


def downgrade() -> None:
    # Dropping the tables drops their policies and triggers with them.
    op.drop_table("prn_outcomes")
    op.execute("DROP FUNCTION IF EXISTS medapp_prn_outcome_set_once()")
    op.drop_constraint(
        op.f("ck_medication_logs_complaint_not_blank"), "medication_logs", type_="check"
    )
    op.drop_column("medication_logs", "complaint")
    op.drop_index("ix_emergency_contacts_student_id", table_name="emergency_contacts")
    op.drop_table("emergency_contacts")
    op.drop_index("ix_student_conditions_student_id", table_name="student_conditions")
    op.drop_table("student_conditions")
