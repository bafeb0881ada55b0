"""Who changed what: the audit trail of a student, an order or a stock lot, for people who review.

The trail itself is written by database triggers into the append-only ``audit_log`` (whatever
program makes the change), with the PostgreSQL role that acted. This service only reads it back
for one record *and the records that hang from it* — a student's orders, allergies, dose logs,
reactions, incidents, conditions, emergency contacts, as-needed outcomes and field-trip
sign-outs; an order's dose logs and their outcomes; a lot's ledger lines and sign-outs — and
turns each row into a
sentence-sized entry with the changed fields. It first collects the ids of the related rows from
the live tables (on the reader's own connection, so row-level security decides what she can
reach), then reads the audit rows by ``(table_name, row_id)``, which the trail is indexed on.

Who may read it: lead nurses (their schools) and auditors (every school). Nurses record; the
history of their records is a reviewer's tool.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from medapp.db.models import (
    AdverseReaction,
    Allergy,
    EmergencyContact,
    FieldTripSignout,
    IncidentReport,
    InventoryAdjustment,
    MedicationInventory,
    MedicationLog,
    PrnOutcome,
    Student,
    StudentCondition,
    StudentMedication,
)
from medapp.services.desk import HISTORY_READERS, AccessDenied, Desk

__all__ = ["FieldChange", "HistoryEntry", "HistorySubject", "record_history"]

#: fields that change by themselves or say nothing to a reviewer
_NOISE = frozenset({"updated_at", "search_vector", "name_key", "generic_key", "search_keys"})
_SECRET = frozenset({"password_hash"})
#: shown first (what a reviewer reads), the rest alphabetically; ids and stamps last
_FIRST = (
    "status",
    "time_given",
    "scheduled_for",
    "dosage_given",
    "not_given_reason",
    "correction_kind",
    "correction_reason",
    "override_reason",
    "quantity",
    "delta",
    "reason",
    "allergen",
    "severity",
    "dosage",
    "frequency",
    "administration_times",
    "is_active",
    "role",
)
_LAST = frozenset({"id", "created_at"})
_TABLE_LABELS = {
    "students": "student",
    "student_medications": "order",
    "medication_logs": "dose record",
    "allergies": "allergy",
    "adverse_reactions": "reaction",
    "incident_reports": "incident",
    "medication_inventory": "stock lot",
    "inventory_adjustments": "stock change",
    "student_conditions": "health condition",
    "emergency_contacts": "emergency contact",
    "prn_outcomes": "as-needed dose outcome",
    "field_trip_signouts": "field-trip sign-out",
}
_ACTION_LABELS = {"INSERT": "added", "UPDATE": "changed", "DELETE": "removed", "READ": "opened"}
MAX_ENTRIES = 1000


class HistorySubject(StrEnum):
    STUDENT = "STUDENT"
    ORDER = "ORDER"
    LOT = "LOT"


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    occurred_at: dt.datetime
    actor: str  # the database role that acted (the user name)
    actor_name: str  # "Maria Rivera" when the role is a known user, else the role
    action: str  # INSERT | UPDATE | DELETE | READ
    table_name: str
    row_id: str
    changes: tuple[FieldChange, ...]

    @property
    def summary(self) -> str:
        what = _TABLE_LABELS.get(self.table_name, self.table_name.replace("_", " "))
        verb = _ACTION_LABELS.get(self.action, self.action.lower())
        if self.action == "UPDATE" and self.changes:
            fields = ", ".join(c.field.replace("_", " ") for c in self.changes[:4])
            more = "…" if len(self.changes) > 4 else ""
            return f"{what} {verb}: {fields}{more}"
        return f"{what} {verb}"


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def field_changes(action: str, old: dict | None, new: dict | None) -> tuple[FieldChange, ...]:
    """The fields a reviewer wants to see: what changed (UPDATE) or what was written."""
    old, new = old or {}, new or {}
    keys = sorted(
        (set(old) | set(new)) - _NOISE,
        key=lambda k: (
            k in _LAST,
            _FIRST.index(k) if k in _FIRST else len(_FIRST),
            k.endswith("_id"),
            k,
        ),
    )
    out: list[FieldChange] = []
    for key in keys:
        before, after = old.get(key), new.get(key)
        if key in _SECRET:
            if before != after:
                out.append(FieldChange(key, None, "(changed)"))
            continue
        if action == "UPDATE" and before == after:
            continue
        if action == "INSERT" and after is None:
            continue
        out.append(FieldChange(key, _text(before), _text(after)))
    return tuple(out)


def _ids(s: Session, query: object) -> list[str]:
    return [str(v) for v in s.scalars(query).all()]  # type: ignore[call-overload]


def _related(s: Session, subject: HistorySubject, row_id: uuid.UUID) -> dict[str, list[str]]:
    """(table → row ids) whose history belongs to the subject."""
    if subject is HistorySubject.LOT:
        return {
            "medication_inventory": [str(row_id)],
            "inventory_adjustments": _ids(
                s, select(InventoryAdjustment.id).where(InventoryAdjustment.inventory_id == row_id)
            ),
            "field_trip_signouts": _ids(
                s, select(FieldTripSignout.id).where(FieldTripSignout.inventory_id == row_id)
            ),
        }
    if subject is HistorySubject.ORDER:
        return {
            "student_medications": [str(row_id)],
            "medication_logs": _ids(
                s,
                select(MedicationLog.id).where(MedicationLog.student_medication_id == row_id),
            ),
            "prn_outcomes": _ids(
                s,
                select(PrnOutcome.id)
                .join(MedicationLog, MedicationLog.id == PrnOutcome.medication_log_id)
                .where(MedicationLog.student_medication_id == row_id),
            ),
        }
    orders = select(StudentMedication.id).where(StudentMedication.student_id == row_id)
    return {
        "students": [str(row_id)],
        "student_medications": _ids(s, orders),
        "medication_logs": _ids(
            s, select(MedicationLog.id).where(MedicationLog.student_medication_id.in_(orders))
        ),
        "allergies": _ids(s, select(Allergy.id).where(Allergy.student_id == row_id)),
        "adverse_reactions": _ids(
            s, select(AdverseReaction.id).where(AdverseReaction.student_id == row_id)
        ),
        "incident_reports": _ids(
            s, select(IncidentReport.id).where(IncidentReport.student_id == row_id)
        ),
        "prn_outcomes": _ids(
            s,
            select(PrnOutcome.id)
            .join(MedicationLog, MedicationLog.id == PrnOutcome.medication_log_id)
            .where(MedicationLog.student_medication_id.in_(orders)),
        ),
        "student_conditions": _ids(
            s, select(StudentCondition.id).where(StudentCondition.student_id == row_id)
        ),
        "emergency_contacts": _ids(
            s, select(EmergencyContact.id).where(EmergencyContact.student_id == row_id)
        ),
        "field_trip_signouts": _ids(
            s, select(FieldTripSignout.id).where(FieldTripSignout.student_id == row_id)
        ),
    }


def _school_of(s: Session, subject: HistorySubject, row_id: uuid.UUID) -> uuid.UUID | None:
    if subject is HistorySubject.STUDENT:
        return s.scalar(select(Student.school_id).where(Student.id == row_id))
    if subject is HistorySubject.ORDER:
        return s.scalar(
            select(Student.school_id)
            .join(StudentMedication, StudentMedication.student_id == Student.id)
            .where(StudentMedication.id == row_id)
        )
    return s.scalar(select(MedicationInventory.school_id).where(MedicationInventory.id == row_id))


_AUDIT_SQL = text(
    """
    SELECT a.occurred_at, a.actor, a.action, a.table_name, a.row_id, a.old_row, a.new_row,
           u.first_name, u.last_name
    FROM audit_log a
    LEFT JOIN users u ON u.username = a.actor
    WHERE a.table_name = :table AND a.row_id IN :ids
    ORDER BY a.occurred_at DESC, a.id DESC
    LIMIT :limit
    """
).bindparams(bindparam("ids", expanding=True))


def _entries(s: Session, related: Mapping[str, Sequence[str]], limit: int) -> list[HistoryEntry]:
    out: list[HistoryEntry] = []
    for table, ids in related.items():
        for chunk in _chunks(ids, 1000):
            for row in s.execute(_AUDIT_SQL, {"table": table, "ids": chunk, "limit": limit}):
                name = f"{row.first_name or ''} {row.last_name or ''}".strip() or row.actor
                out.append(
                    HistoryEntry(
                        occurred_at=row.occurred_at,
                        actor=row.actor,
                        actor_name=name,
                        action=row.action,
                        table_name=row.table_name,
                        row_id=row.row_id,
                        changes=field_changes(row.action, row.old_row, row.new_row),
                    )
                )
    out.sort(key=lambda e: e.occurred_at, reverse=True)
    return out[:limit]


def _chunks(ids: Sequence[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(ids), size):
        yield list(ids[i : i + size])


def record_history(
    desk: Desk, subject: HistorySubject, row_id: uuid.UUID, *, limit: int = MAX_ENTRIES
) -> tuple[HistoryEntry, ...]:
    """Newest first: every change to the subject and the records that hang from it."""
    actor = desk.actor
    actor.require_role(HISTORY_READERS, "read the history of records")
    with desk.sessions() as s:
        school_id = _school_of(s, subject, row_id)
        exists = school_id is not None or (
            subject is HistorySubject.LOT and s.get(MedicationInventory, row_id) is not None
        )
        if not exists:
            raise LookupError("That record does not exist (or is not yours to see).")
        if school_id is not None:
            actor.require_read(school_id, "the history of this record")
        elif actor.role.value != "AUDITOR":
            raise AccessDenied("Only an auditor reads the history of district stock.")
        return tuple(_entries(s, _related(s, subject, row_id), limit))
