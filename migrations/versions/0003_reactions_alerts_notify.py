"""adverse reactions, inventory alert view, cross-PC change notifications

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One notification per statement and school (not per row): a COPY of a million dose logs sends
# one message per school, not a million. Payload: '<table>:<school id or *>'.
NOTIFY_FUNCTIONS = """
CREATE FUNCTION medapp_notify_by_prescription() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE sid uuid;
BEGIN
  FOR sid IN
    SELECT DISTINCT s.school_id FROM changed_rows c
      JOIN student_medications sm ON sm.id = c.student_medication_id
      JOIN students s ON s.id = sm.student_id
  LOOP
    PERFORM pg_notify('medapp_changes', TG_TABLE_NAME || ':' || sid::text);
  END LOOP;
  RETURN NULL;
END $$;

CREATE FUNCTION medapp_notify_by_student() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE sid uuid;
BEGIN
  FOR sid IN
    SELECT DISTINCT s.school_id FROM changed_rows c JOIN students s ON s.id = c.student_id
  LOOP
    PERFORM pg_notify('medapp_changes', TG_TABLE_NAME || ':' || sid::text);
  END LOOP;
  RETURN NULL;
END $$;

CREATE FUNCTION medapp_notify_table() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('medapp_changes', TG_TABLE_NAME || ':*');
  RETURN NULL;
END $$;
"""

BY_PRESCRIPTION = ("medication_logs",)
BY_STUDENT = ("student_medications", "allergies", "adverse_reactions")
WHOLE_TABLE = ("medications", "medication_inventory", "schools", "school_closures")

# Frozen copy of medapp.domain.inventory.inventory_status_sql(...) for the mi.* columns at the
# time of this migration (a migration must not change when the code does); a test checks that
# the view and the domain rules still agree on every boundary.
EXPIRY_SQL = (
    "CASE WHEN mi.expiration_date <= CURRENT_DATE THEN 'EXPIRED' "
    "WHEN mi.expiration_date <= CURRENT_DATE + 30 THEN 'NEAR_EXPIRY' ELSE 'OK' END"
)
STOCK_SQL = (
    "CASE WHEN mi.quantity <= mi.reorder_level THEN 'LOW_STOCK' "
    "WHEN mi.quantity <= mi.reorder_level * 1.5 THEN 'WARNING' ELSE 'OK' END"
)

ALERT_VIEW = """
CREATE MATERIALIZED VIEW medication_inventory_alerts AS
SELECT
  mi.id,
  mi.medication_id,
  mi.school_id,
  mi.student_id,
  m.name AS medication_name,
  m.strength,
  m.dosage_form,
  mi.batch_number,
  mi.quantity,
  mi.reorder_level,
  mi.expiration_date,
  {expiry} AS expiry_status,
  {stock} AS stock_status,
  now() AS computed_at
FROM medication_inventory mi
JOIN medications m ON m.id = mi.medication_id
WHERE mi.quantity > 0
"""


def upgrade() -> None:
    op.create_table(
        "adverse_reactions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("student_id", sa.Uuid(), nullable=False),
        sa.Column("medication_id", sa.Uuid(), nullable=False),
        sa.Column("student_medication_id", sa.Uuid(), nullable=True),
        sa.Column("medication_log_id", sa.Uuid(), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("reaction", sa.Text(), nullable=False),
        sa.Column("action_taken", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("reported_by_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("incident_report_id", sa.Uuid(), nullable=False),
        sa.Column("allergy_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "severity IN ('MILD', 'MODERATE', 'SEVERE', 'LIFE_THREATENING')",
            name=op.f("ck_adverse_reactions_severity_known"),
        ),
        sa.CheckConstraint(
            "(severity IN ('SEVERE', 'LIFE_THREATENING')) = (allergy_id IS NOT NULL)",
            name=op.f("ck_adverse_reactions_severe_records_allergy"),
        ),
        sa.CheckConstraint("length(btrim(reaction)) > 0", name=op.f("ck_adverse_reactions_reaction_not_blank")),
        sa.ForeignKeyConstraint(["allergy_id"], ["allergies.id"], name=op.f("fk_adverse_reactions_allergy_id_allergies")),
        sa.ForeignKeyConstraint(
            ["incident_report_id"], ["incident_reports.id"], name=op.f("fk_adverse_reactions_incident_report_id_incident_reports")
        ),
        sa.ForeignKeyConstraint(["medication_id"], ["medications.id"], name=op.f("fk_adverse_reactions_medication_id_medications")),
        sa.ForeignKeyConstraint(
            ["medication_log_id"], ["medication_logs.id"], name=op.f("fk_adverse_reactions_medication_log_id_medication_logs")
        ),
        sa.ForeignKeyConstraint(["reported_by_id"], ["users.id"], name=op.f("fk_adverse_reactions_reported_by_id_users")),
        sa.ForeignKeyConstraint(["student_id"], ["students.id"], name=op.f("fk_adverse_reactions_student_id_students")),
        sa.ForeignKeyConstraint(
            ["student_medication_id"],
            ["student_medications.id"],
            name=op.f("fk_adverse_reactions_student_medication_id_student_medications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_reactions")),
    )
    op.create_index("ix_adverse_reactions_student_id", "adverse_reactions", ["student_id", "occurred_at"], unique=False)
    op.execute(
        "CREATE TRIGGER adverse_reactions_no_delete BEFORE DELETE ON adverse_reactions "
        "FOR EACH ROW EXECUTE FUNCTION medapp_forbid_delete()"
    )
    op.execute(
        "CREATE TRIGGER adverse_reactions_append_only BEFORE UPDATE ON adverse_reactions "
        "FOR EACH ROW EXECUTE FUNCTION medapp_append_only()"
    )

    op.execute(ALERT_VIEW.format(expiry=EXPIRY_SQL, stock=STOCK_SQL))
    op.execute("CREATE UNIQUE INDEX medication_inventory_alerts_id ON medication_inventory_alerts (id)")
    op.execute("CREATE INDEX medication_inventory_alerts_expiry ON medication_inventory_alerts (expiry_status)")
    op.execute("CREATE INDEX medication_inventory_alerts_stock ON medication_inventory_alerts (stock_status)")
    op.execute("CREATE INDEX medication_inventory_alerts_school ON medication_inventory_alerts (school_id)")

    op.execute(NOTIFY_FUNCTIONS)
    for table in BY_PRESCRIPTION:
        for event in ("INSERT", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER {table}_notify_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT "
                f"EXECUTE FUNCTION medapp_notify_by_prescription()"
            )
    for table in BY_STUDENT:
        for event in ("INSERT", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER {table}_notify_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT "
                f"EXECUTE FUNCTION medapp_notify_by_student()"
            )
    for table in WHOLE_TABLE:
        op.execute(
            f"CREATE TRIGGER {table}_notify AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION medapp_notify_table()"
        )


def downgrade() -> None:
    for table in WHOLE_TABLE:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_notify ON {table}")
    for table in BY_PRESCRIPTION + BY_STUDENT:
        for event in ("insert", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_notify_{event} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS medapp_notify_table()")
    op.execute("DROP FUNCTION IF EXISTS medapp_notify_by_student()")
    op.execute("DROP FUNCTION IF EXISTS medapp_notify_by_prescription()")
    op.execute("DROP MATERIALIZED VIEW IF EXISTS medication_inventory_alerts")
    op.drop_index("ix_adverse_reactions_student_id", table_name="adverse_reactions")
    op.drop_table("adverse_reactions")
