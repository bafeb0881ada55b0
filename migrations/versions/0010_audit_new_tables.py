"""lead nurses see the audit rows of 0008's and 0009's tables

Revision ID: 0010_audit_new_tables
Revises: 0009_supplies_field_trips

``medapp_audit_school`` (0005) tells the audit log's row policy which school an audit row
belongs to; it did not know ``student_conditions``, ``emergency_contacts``, ``prn_outcomes``
(0008) or ``field_trip_signouts`` (0009), so it returned NULL for them and a lead nurse could not
read their history (auditors, who read everything, could). The function is replaced with one
that knows them: the first three and the sign-outs through ``student_id``, a PRN outcome through
its dose log's order. Downgrade restores 0005's body verbatim.

Both bodies are written out here (a migration must not change when other code does).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010_audit_new_tables"
down_revision: str | None = "0009_supplies_field_trips"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDIT_SCHOOL = """
CREATE OR REPLACE FUNCTION medapp_audit_school(tbl text, row_id text, old_row jsonb, new_row jsonb)
RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  r jsonb := coalesce(new_row, old_row);
  sid uuid;
BEGIN
  IF r IS NULL AND row_id IS NOT NULL AND tbl IN (
      'students', 'student_medications', 'medication_logs', 'allergies', 'medication_inventory',
      'inventory_adjustments', 'incident_reports', 'adverse_reactions', 'student_conditions',
      'emergency_contacts', 'prn_outcomes', 'field_trip_signouts') THEN
    -- a READ row: look the record up
    EXECUTE format('SELECT to_jsonb(t) FROM public.%I t WHERE t.id::text = $1', tbl)
      INTO r USING row_id;
  END IF;
  IF tbl = 'students' THEN
    sid := (r->>'school_id')::uuid;
  ELSIF tbl IN ('student_medications', 'allergies', 'incident_reports', 'adverse_reactions',
                'student_conditions', 'emergency_contacts', 'field_trip_signouts') THEN
    SELECT s.school_id INTO sid FROM public.students s WHERE s.id = (r->>'student_id')::uuid;
  ELSIF tbl = 'medication_logs' THEN
    SELECT s.school_id INTO sid FROM public.student_medications sm
      JOIN public.students s ON s.id = sm.student_id
      WHERE sm.id = (r->>'student_medication_id')::uuid;
  ELSIF tbl = 'prn_outcomes' THEN
    SELECT s.school_id INTO sid FROM public.medication_logs ml
      JOIN public.student_medications sm ON sm.id = ml.student_medication_id
      JOIN public.students s ON s.id = sm.student_id
      WHERE ml.id = (r->>'medication_log_id')::uuid;
  ELSIF tbl IN ('medication_inventory', 'inventory_adjustments') THEN
    SELECT coalesce(mi.school_id, s.school_id) INTO sid FROM public.medication_inventory mi
      LEFT JOIN public.students s ON s.id = mi.student_id
      WHERE mi.id = CASE WHEN tbl = 'medication_inventory' THEN (r->>'id')::uuid
                         ELSE (r->>'inventory_id')::uuid END;
  END IF;
  RETURN sid;
END $$;
"""

# 0005's body, as it was.
AUDIT_SCHOOL_0005 = """
CREATE OR REPLACE FUNCTION medapp_audit_school(tbl text, row_id text, old_row jsonb, new_row jsonb)
RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  r jsonb := coalesce(new_row, old_row);
  sid uuid;
BEGIN
  IF r IS NULL AND row_id IS NOT NULL AND tbl IN (
      'students', 'student_medications', 'medication_logs', 'allergies', 'medication_inventory',
      'inventory_adjustments', 'incident_reports', 'adverse_reactions') THEN
    -- a READ row: look the record up
    EXECUTE format('SELECT to_jsonb(t) FROM public.%I t WHERE t.id::text = $1', tbl)
      INTO r USING row_id;
  END IF;
  IF tbl = 'students' THEN
    sid := (r->>'school_id')::uuid;
  ELSIF tbl IN ('student_medications', 'allergies', 'incident_reports', 'adverse_reactions') THEN
    SELECT s.school_id INTO sid FROM public.students s WHERE s.id = (r->>'student_id')::uuid;
  ELSIF tbl = 'medication_logs' THEN
    SELECT s.school_id INTO sid FROM public.student_medications sm
      JOIN public.students s ON s.id = sm.student_id
      WHERE sm.id = (r->>'student_medication_id')::uuid;
  ELSIF tbl IN ('medication_inventory', 'inventory_adjustments') THEN
    SELECT coalesce(mi.school_id, s.school_id) INTO sid FROM public.medication_inventory mi
      LEFT JOIN public.students s ON s.id = mi.student_id
      WHERE mi.id = CASE WHEN tbl = 'medication_inventory' THEN (r->>'id')::uuid
                         ELSE (r->>'inventory_id')::uuid END;
  END IF;
  RETURN sid;
END $$;
"""


def upgrade() -> None:
    op.execute(AUDIT_SCHOOL)


def downgrade() -> None:
    op.execute(AUDIT_SCHOOL_0005)
