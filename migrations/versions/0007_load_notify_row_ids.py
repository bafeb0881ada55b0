"""change notifications carry the changed rows' ids (district fan-out)

Revision ID: 0007_load_notify_row_ids
Revises: 0006_reports_missed

Until now a dose logged anywhere at a school sent ``medication_logs:<school>`` and every desk of
that school reloaded its whole reminder list. The payload is now
``<table>:<school>:<id>,<id>,…`` — still one notification per statement and school (a COPY of
half a million rows sends one per school) — so a desk re-reads only those rows. PostgreSQL caps
a payload at 8000 bytes: past 100 ids (37 bytes each) the ids are left out, which the desks read
as "reload this school's list", exactly the old meaning. Old desks parse the new payload as the
same table and school (``medapp.db.notify.Change.parse`` reads both forms).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007_load_notify_row_ids"
down_revision: str | None = "0006_reports_missed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_IDS = 100  # frozen copy of medapp.db.notify.MAX_IDS

NEW_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION medapp_notify_by_prescription() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT s.school_id AS sid, count(*) AS n,
           string_agg(c.id::text, ',' ORDER BY c.id) AS ids
      FROM changed_rows c
      JOIN student_medications sm ON sm.id = c.student_medication_id
      JOIN students s ON s.id = sm.student_id
     GROUP BY s.school_id
  LOOP
    PERFORM pg_notify('medapp_changes', TG_TABLE_NAME || ':' || r.sid::text
      || CASE WHEN r.n <= {MAX_IDS} THEN ':' || r.ids ELSE '' END);
  END LOOP;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION medapp_notify_by_student() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT s.school_id AS sid, count(*) AS n, string_agg(c.id::text, ',' ORDER BY c.id) AS ids
      FROM changed_rows c JOIN students s ON s.id = c.student_id
     GROUP BY s.school_id
  LOOP
    PERFORM pg_notify('medapp_changes', TG_TABLE_NAME || ':' || r.sid::text
      || CASE WHEN r.n <= {MAX_IDS} THEN ':' || r.ids ELSE '' END);
  END LOOP;
  RETURN NULL;
END $$;
"""

OLD_FUNCTIONS = """
CREATE OR REPLACE FUNCTION medapp_notify_by_prescription() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE FUNCTION medapp_notify_by_student() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE sid uuid;
BEGIN
  FOR sid IN
    SELECT DISTINCT s.school_id FROM changed_rows c JOIN students s ON s.id = c.student_id
  LOOP
    PERFORM pg_notify('medapp_changes', TG_TABLE_NAME || ':' || sid::text);
  END LOOP;
  RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.execute(NEW_FUNCTIONS)


def downgrade() -> None:
    op.execute(OLD_FUNCTIONS)
