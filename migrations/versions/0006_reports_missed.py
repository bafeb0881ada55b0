"""end of the school day: MISSED dose records

Revision ID: 0006_reports_missed
Revises: 0005

* ``medication_logs.status`` may be ``MISSED``: the end-of-day close
  (``medapp/services/end_of_day.py``) writes one for every scheduled school dose of the day that
  nobody documented. A MISSED record names its dose (``scheduled_for``), takes nothing from stock
  and carries a system note saying what wrote it and when the day was closed
  (``ck_medication_logs_missed_has_dose_and_note``). It is written under the signed-in nurse who
  ran the close at her desk (``nurse_id`` = her, the audit trail's actor = her role), because on
  the district server there is no role that could write for a school without being a person.
* At most one MISSED per scheduled dose (``uq_medication_logs_one_missed_per_dose``; the close
  also uses deterministic ids and ``ON CONFLICT DO NOTHING``), so closing a day twice adds
  nothing.
* A GIVEN or NOT_GIVEN documented later for that dose supersedes the MISSED record in the same
  transaction (``correction_kind = 'DOCUMENTED_AFTER_MISSED'``, with its reason). The triggers of
  0004 already apply: a MISSED is not a GIVEN, so ``medapp_one_given_per_dose`` ignores it, and
  ``medapp_supersede_pair`` demands the same order and dose from the record that supersedes it.
  Row-level security and the audit trail of 0005 are per table, so they cover MISSED rows as is.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_reports_missed"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = ("GIVEN", "NOT_GIVEN", "ENTERED_IN_ERROR")
NEW_STATUSES = (*OLD_STATUSES, "MISSED")
OLD_KINDS = (
    "ENTERED_IN_ERROR",
    "WRONG_TIME",
    "WRONG_DOSE",
    "WRONG_STATUS",
    "GIVEN_AFTER_NOT_GIVEN",
)
NEW_KINDS = (*OLD_KINDS, "DOCUMENTED_AFTER_MISSED")

STATUS_CHECK = "ck_medication_logs_status_known"
KIND_CHECK = "ck_medication_logs_correction_kind_known"
MISSED_CHECK = "ck_medication_logs_missed_has_dose_and_note"
MISSED_INDEX = "uq_medication_logs_one_missed_per_dose"


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _checks(statuses: Sequence[str], kinds: Sequence[str]) -> None:
    op.drop_constraint(op.f(STATUS_CHECK), "medication_logs", type_="check")
    op.drop_constraint(op.f(KIND_CHECK), "medication_logs", type_="check")
    op.create_check_constraint(
        op.f(STATUS_CHECK), "medication_logs", _in("status", statuses)
    )
    op.create_check_constraint(
        op.f(KIND_CHECK),
        "medication_logs",
        f"correction_kind IS NULL OR {_in('correction_kind', kinds)}",
    )


def upgrade() -> None:
    _checks(NEW_STATUSES, NEW_KINDS)
    op.create_check_constraint(
        op.f(MISSED_CHECK),
        "medication_logs",
        "status <> 'MISSED' OR (scheduled_for IS NOT NULL AND inventory_id IS NULL "
        "AND length(btrim(coalesce(notes, ''))) > 0)",
    )
    op.create_index(
        MISSED_INDEX,
        "medication_logs",
        ["student_medication_id", "scheduled_for"],
        unique=True,
        postgresql_where=sa.text("status = 'MISSED'"),
    )


def downgrade() -> None:
    # Dose logs cannot be deleted (0005), so MISSED rows written under 0006 stay; the older
    # checks are added NOT VALID so they bind new rows only.
    op.drop_index(MISSED_INDEX, table_name="medication_logs")
    op.drop_constraint(op.f(MISSED_CHECK), "medication_logs", type_="check")
    op.drop_constraint(op.f(STATUS_CHECK), "medication_logs", type_="check")
    op.drop_constraint(op.f(KIND_CHECK), "medication_logs", type_="check")
    op.execute(
        f"ALTER TABLE medication_logs ADD CONSTRAINT {STATUS_CHECK} CHECK "
        f"({_in('status', OLD_STATUSES)}) NOT VALID"
    )
    op.execute(
        f"ALTER TABLE medication_logs ADD CONSTRAINT {KIND_CHECK} CHECK "
        f"(correction_kind IS NULL OR {_in('correction_kind', OLD_KINDS)}) NOT VALID"
    )
