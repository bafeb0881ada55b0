"""Reporting an adverse reaction: synchronous, transactional, nothing held in memory.

The seed queued reports in memory and wrote them later, so a crash lost them. Here the reaction,
its incident report and — for SEVERE or LIFE_THREATENING reactions — the allergy that blocks
the medication from then on are written in one transaction, or not at all. The id comes from
the client, so a retry after a timeout does not create a second report.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medapp.cache.store import Cache, school_tag
from medapp.db.models import (
    ALLERGY_SEVERITIES,
    AdverseReaction,
    Allergy,
    IncidentReport,
    Medication,
    Student,
)

log = logging.getLogger(__name__)

SERIOUS = frozenset({"SEVERE", "LIFE_THREATENING"})


class ReactionInputError(ValueError):
    """The report is incomplete or names something that does not exist."""


@dataclass(frozen=True)
class ReactionCommand:
    id: uuid.UUID
    student_id: uuid.UUID
    medication_id: uuid.UUID
    reported_by_id: uuid.UUID
    severity: str
    reaction: str
    occurred_at: dt.datetime
    action_taken: str | None = None
    notes: str | None = None
    student_medication_id: uuid.UUID | None = None
    medication_log_id: uuid.UUID | None = None
    parent_notified: bool | None = None  # None: notified by rule (serious reactions)


@dataclass(frozen=True)
class ReactionResult:
    reaction_id: uuid.UUID
    incident_report_id: uuid.UUID
    allergy_id: uuid.UUID | None
    allergy_created: bool
    already_reported: bool = False


def _validate(cmd: ReactionCommand) -> None:
    if cmd.severity not in ALLERGY_SEVERITIES:
        raise ReactionInputError(f"Severity must be one of {', '.join(ALLERGY_SEVERITIES)}.")
    if not cmd.reaction.strip():
        raise ReactionInputError("Describe the reaction.")
    if cmd.occurred_at.tzinfo is None:
        raise ReactionInputError("The time of the reaction must include a timezone.")
    if cmd.occurred_at > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5):
        raise ReactionInputError("The reaction cannot be in the future.")


def report_adverse_reaction(
    sessions: sessionmaker[Session], cmd: ReactionCommand, *, cache: Cache | None = None
) -> ReactionResult:
    _validate(cmd)
    with sessions.begin() as s:
        result, school_id = _report_in(s, cmd)
    if cache is not None and school_id is not None:
        cache.evict_tag(school_tag(school_id))
    return result


def _report_in(s: Session, cmd: ReactionCommand) -> tuple[ReactionResult, uuid.UUID | None]:
    existing = s.get(AdverseReaction, cmd.id)
    if existing is not None:
        return (
            ReactionResult(
                existing.id,
                existing.incident_report_id,
                existing.allergy_id,
                False,
                already_reported=True,
            ),
            None,
        )
    student = s.get(Student, cmd.student_id)
    medication = s.get(Medication, cmd.medication_id)
    if student is None or medication is None:
        raise ReactionInputError("The student or the medication of this report does not exist.")
    serious = cmd.severity in SERIOUS
    medicine = medication.generic_name or medication.name
    description = f"Adverse reaction to {medication.name}: {cmd.reaction.strip()}"
    incident = IncidentReport(
        student_id=student.id,
        reported_by_id=cmd.reported_by_id,
        type="ADVERSE_REACTION",
        severity=cmd.severity,
        description=description,
        actions_taken=cmd.action_taken,
        parent_notified=serious if cmd.parent_notified is None else cmd.parent_notified,
        follow_up_required=cmd.severity != "MILD",
        occurred_at=cmd.occurred_at,
        medication_log_id=cmd.medication_log_id,
    )
    s.add(incident)
    allergy_id: uuid.UUID | None = None
    created = False
    if serious:
        allergy = s.scalars(
            select(Allergy).where(
                Allergy.student_id == student.id,
                Allergy.is_active,
                Allergy.medication_id == medication.id,
            )
        ).first()
        if allergy is None:
            allergy = Allergy(
                student_id=student.id,
                allergen=medicine[:200],
                medication_id=medication.id,
                severity=cmd.severity,
                reaction=cmd.reaction.strip(),
                treatment=cmd.action_taken,
                verified=False,
            )
            s.add(allergy)
            created = True
    s.flush()
    if serious:
        allergy_id = allergy.id
    s.add(
        AdverseReaction(
            id=cmd.id,
            student_id=student.id,
            medication_id=medication.id,
            student_medication_id=cmd.student_medication_id,
            medication_log_id=cmd.medication_log_id,
            severity=cmd.severity,
            reaction=cmd.reaction.strip(),
            action_taken=cmd.action_taken,
            notes=cmd.notes,
            reported_by_id=cmd.reported_by_id,
            occurred_at=cmd.occurred_at,
            incident_report_id=incident.id,
            allergy_id=allergy_id,
        )
    )
    s.flush()
    log.info("adverse reaction recorded (severity=%s, allergy_created=%s)", cmd.severity, created)
    return ReactionResult(cmd.id, incident.id, allergy_id, created), student.school_id
