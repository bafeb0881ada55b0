"""one dose, one truth: the database refuses a second current GIVEN within the dose window, and
only a correction of the same order and dose, in the same transaction, supersedes a log

Revision ID: 0004
Revises: 0003

* ``medapp_one_given_per_dose`` (BEFORE INSERT on medication_logs, GIVEN rows that are
  current): takes a transaction-level advisory lock per order, then refuses the row when a
  current GIVEN of the same order has a dose tag within the school's dose window (strictly
  less than ``schools.dose_window_minutes`` apart) — the tag is ``scheduled_for``, or
  ``time_given`` when a scheduled order's log has none. As-needed orders
  (``student_medications.is_prn``, or "prn"/"as needed" in the order's words) may have several
  GIVENs a day: a PRN log without a tag is not checked (the PRN limits are the service's
  rules). Limitation: two doses of one order closer together than the window are one dose to
  the database (the service's rules tell them apart by the schedule; no school order has them). SQLSTATE 23505 with the constraint name
  ``medapp_one_given_per_dose``, like the partial unique index it complements (kept).
  The lock serialises two PCs (or scripts) inserting for one order; under READ COMMITTED each
  statement of the trigger sees what the other committed before the lock was granted.
* ``medapp_supersede_pair`` (deferred constraint triggers, checked at COMMIT): a log stamped
  ``superseded_by_id = N`` needs N to be a log of the same order and dose that says
  ``supersedes_id`` = this log; a log inserted with ``supersedes_id = O`` needs O stamped
  ``superseded_by_id`` = it. The stamp itself can be made only once (``medapp_append_only``), so
  a stamp and its correction are always written in the same transaction: an old log of the
  order cannot be reused, and another order's log never fits.
* ``superseded_by_id`` becomes DEFERRABLE INITIALLY DEFERRED so a correction can stamp the
  original *before* inserting the replacement (the partial unique index would otherwise see
  two current GIVENs for a moment).
* ``medication_logs.correction_reason``/``correction_kind``: why a record superseded its
  original (ENTERED_IN_ERROR, WRONG_TIME, WRONG_DOSE, WRONG_STATUS, GIVEN_AFTER_NOT_GIVEN).
* ``adverse_reactions``: every reaction now records a suspected allergy, so a mild one may carry
  an ``allergy_id`` too (a serious one still must).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK_SUPERSEDED_BY = "fk_medication_logs_superseded_by_id_medication_logs"
REACTION_CHECK = "ck_adverse_reactions_severe_records_allergy"
CORRECTION_KINDS = (
    "ENTERED_IN_ERROR",
    "WRONG_TIME",
    "WRONG_DOSE",
    "WRONG_STATUS",
    "GIVEN_AFTER_NOT_GIVEN",
)

FUNCTIONS = r"""
CREATE FUNCTION medapp_one_given_per_dose() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  prn boolean;
  window_minutes integer;
  dose_key timestamptz;
  other record;
BEGIN
  -- As needed: the nurse's flag, or the order's words (the parser reads the same words).
  SELECT sm.is_prn OR sm.frequency ~* '(\mprn\M|\mp\.r\.n\M|as needed|when needed)',
         sc.dose_window_minutes
    INTO prn, window_minutes
    FROM student_medications sm
    JOIN students st ON st.id = sm.student_id
    JOIN schools sc ON sc.id = st.school_id
   WHERE sm.id = NEW.student_medication_id;
  IF NOT FOUND THEN
    RETURN NEW;  -- the foreign key reports the missing order
  END IF;
  IF prn AND NEW.scheduled_for IS NULL THEN
    RETURN NEW;  -- as-needed doses: several a day are legal
  END IF;
  dose_key := coalesce(NEW.scheduled_for, NEW.time_given);
  PERFORM pg_advisory_xact_lock(hashtext('medapp.one_given'),
                                hashtext(NEW.student_medication_id::text));
  SELECT l.id, l.time_given, u.first_name, u.last_name INTO other
    FROM medication_logs l
    JOIN users u ON u.id = l.nurse_id
   WHERE l.student_medication_id = NEW.student_medication_id
     AND l.status = 'GIVEN'
     AND l.superseded_at IS NULL
     AND l.id <> NEW.id
     AND CASE WHEN prn THEN l.scheduled_for ELSE coalesce(l.scheduled_for, l.time_given) END
         > dose_key - make_interval(mins => window_minutes)
     AND CASE WHEN prn THEN l.scheduled_for ELSE coalesce(l.scheduled_for, l.time_given) END
         < dose_key + make_interval(mins => window_minutes)
   ORDER BY abs(extract(epoch FROM
            coalesce(l.scheduled_for, l.time_given) - dose_key))
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'medapp: this dose was already given (log %, at %, by % %); correct that record instead',
      other.id, other.time_given, other.first_name, other.last_name
      USING ERRCODE = '23505', CONSTRAINT = 'medapp_one_given_per_dose', TABLE = 'medication_logs';
  END IF;
  RETURN NEW;
END $$;

CREATE FUNCTION medapp_supersede_pair() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  other record;
BEGIN
  IF NEW.superseded_by_id IS NOT NULL THEN
    SELECT id, student_medication_id, supersedes_id, scheduled_for, status INTO other
      FROM medication_logs WHERE id = NEW.superseded_by_id;
    IF NOT FOUND
       OR other.id = NEW.id
       OR other.student_medication_id <> NEW.student_medication_id
       OR other.supersedes_id IS DISTINCT FROM NEW.id
       OR (NEW.scheduled_for IS NOT NULL AND other.status <> 'ENTERED_IN_ERROR'
           AND other.scheduled_for IS DISTINCT FROM NEW.scheduled_for) THEN
      RAISE EXCEPTION 'medapp: log % can be superseded only by a correction of the same order and dose written in the same transaction',
        NEW.id USING ERRCODE = '23514', CONSTRAINT = 'medapp_supersede_pair';
    END IF;
  END IF;
  IF TG_OP = 'INSERT' AND NEW.supersedes_id IS NOT NULL THEN
    SELECT id, superseded_by_id INTO other FROM medication_logs WHERE id = NEW.supersedes_id;
    IF NOT FOUND OR other.superseded_by_id IS DISTINCT FROM NEW.id THEN
      RAISE EXCEPTION 'medapp: correction % must stamp the log it supersedes in the same transaction',
        NEW.id USING ERRCODE = '23514', CONSTRAINT = 'medapp_supersede_pair';
    END IF;
  END IF;
  RETURN NULL;
END $$;
"""

TRIGGERS = """
CREATE TRIGGER medication_logs_one_given_per_dose
  BEFORE INSERT ON medication_logs
  FOR EACH ROW WHEN (NEW.status = 'GIVEN' AND NEW.superseded_at IS NULL)
  EXECUTE FUNCTION medapp_one_given_per_dose();

CREATE CONSTRAINT TRIGGER medication_logs_supersede_pair_insert
  AFTER INSERT ON medication_logs
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.supersedes_id IS NOT NULL OR NEW.superseded_by_id IS NOT NULL)
  EXECUTE FUNCTION medapp_supersede_pair();

CREATE CONSTRAINT TRIGGER medication_logs_supersede_pair_update
  AFTER UPDATE ON medication_logs
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.superseded_by_id IS NOT NULL)
  EXECUTE FUNCTION medapp_supersede_pair();
"""


def upgrade() -> None:
    op.add_column("medication_logs", sa.Column("correction_reason", sa.Text(), nullable=True))
    op.add_column(
        "medication_logs", sa.Column("correction_kind", sa.String(length=30), nullable=True)
    )
    kinds = ", ".join(f"'{k}'" for k in CORRECTION_KINDS)
    op.create_check_constraint(
        op.f("ck_medication_logs_correction_kind_known"),
        "medication_logs",
        f"correction_kind IS NULL OR correction_kind IN ({kinds})",
    )
    op.create_check_constraint(
        op.f("ck_medication_logs_correction_has_original"),
        "medication_logs",
        "correction_kind IS NULL OR supersedes_id IS NOT NULL",
    )
    op.drop_constraint(op.f(FK_SUPERSEDED_BY), "medication_logs", type_="foreignkey")
    op.create_foreign_key(
        FK_SUPERSEDED_BY,
        "medication_logs",
        "medication_logs",
        ["superseded_by_id"],
        ["id"],
        deferrable=True,
        initially="DEFERRED",
    )
    op.drop_constraint(op.f(REACTION_CHECK), "adverse_reactions", type_="check")
    op.create_check_constraint(
        "severe_records_allergy",
        "adverse_reactions",
        "severity NOT IN ('SEVERE', 'LIFE_THREATENING') OR allergy_id IS NOT NULL",
    )
    op.execute(FUNCTIONS)
    op.execute(TRIGGERS)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS medication_logs_supersede_pair_update ON medication_logs")
    op.execute("DROP TRIGGER IF EXISTS medication_logs_supersede_pair_insert ON medication_logs")
    op.execute("DROP TRIGGER IF EXISTS medication_logs_one_given_per_dose ON medication_logs")
    op.execute("DROP FUNCTION IF EXISTS medapp_supersede_pair()")
    op.execute("DROP FUNCTION IF EXISTS medapp_one_given_per_dose()")
    op.drop_constraint(op.f(REACTION_CHECK), "adverse_reactions", type_="check")
    # NOT VALID: reports written under 0004 (mild ones with an allergy) stay as they are.
    op.execute(
        f"ALTER TABLE adverse_reactions ADD CONSTRAINT {REACTION_CHECK} CHECK "
        "((severity IN ('SEVERE', 'LIFE_THREATENING')) = (allergy_id IS NOT NULL)) NOT VALID"
    )
    op.drop_constraint(op.f(FK_SUPERSEDED_BY), "medication_logs", type_="foreignkey")
    op.create_foreign_key(
        FK_SUPERSEDED_BY, "medication_logs", "medication_logs", ["superseded_by_id"], ["id"]
    )
    op.drop_constraint(
        op.f("ck_medication_logs_correction_has_original"), "medication_logs", type_="check"
    )
    op.drop_constraint(
        op.f("ck_medication_logs_correction_kind_known"), "medication_logs", type_="check"
    )
    op.drop_column("medication_logs", "correction_kind")
    op.drop_column("medication_logs", "correction_reason")
