"""Reporting an adverse reaction: synchronous, transactional, nothing held in memory.

The seed queued reports in memory and wrote them later, so a crash lost them. Here the reaction,
its incident report and the allergy/intolerance it implies are written in one transaction, or
not at all. The id comes from the client, so a retry after a timeout does not create a second
report.

Any medication can be reported (the open order's, office stock, or one the parent gave at home):
``cmd.medication_id`` is any row of ``medications``; ``student_medication_id`` is optional.
Every reported reaction — whatever its severity — records an allergy for each of the product's
active ingredients (``medications.generic_name`` may list several, separated by ';', ',' or
"and"), with the severity as reported and ``verified = false`` ("suspected", until a clinician
confirms it), so the next order or dose of *any* product with that ingredient warns. An active
allergy that already matches the ingredient (the same ingredient, or its class: "penicillin"
covers amoxicillin) is not duplicated.
A product with no readable ingredient (no generic name, a name of salts only: "Sodium Chloride
0.9%") records its own name as the substance, so a serious report is never refused for it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from medapp.cache.store import school_tag
from medapp.db.models import (
    ALLERGY_SEVERITIES,
    AdverseReaction,
    Allergy,
    IncidentReport,
    Medication,
    MedicationInventory,
    Student,
    StudentMedication,
)
from medapp.domain.checks import active_ingredients, allergy_matches
from medapp.services.desk import AccessDenied, Desk
from medapp.services.students import MedicationBrief

log = logging.getLogger(__name__)

SERIOUS = frozenset({"SEVERE", "LIFE_THREATENING"})
_STRENGTH_TAIL = re.compile(r"\s+\d.*$")  # "Saline 0.9% 10 mL" -> "Saline"


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
    allergy_id: uuid.UUID | None  # the first allergy the reaction stands on (new or existing)
    allergy_created: bool  # at least one allergy was added
    already_reported: bool = False
    allergy_ids: tuple[uuid.UUID, ...] = ()  # every allergy for the product's ingredients
    allergens_added: tuple[str, ...] = ()  # the ingredients newly recorded


@dataclass(frozen=True)
class ReactionChoices:
    """What "Report reaction…" offers first: the student's orders and her school's office stock
    (any other medication through the formulary search)."""

    orders: tuple[MedicationBrief, ...]
    stock: tuple[MedicationBrief, ...]


def _validate(cmd: ReactionCommand, now: dt.datetime) -> None:
    if cmd.severity not in ALLERGY_SEVERITIES:
        raise ReactionInputError(f"Severity must be one of {', '.join(ALLERGY_SEVERITIES)}.")
    if not cmd.reaction.strip():
        raise ReactionInputError("Describe the reaction.")
    if cmd.occurred_at.tzinfo is None:
        raise ReactionInputError("The time of the reaction must include a timezone.")
    if cmd.occurred_at > now + dt.timedelta(minutes=5):
        raise ReactionInputError("The reaction cannot be in the future.")


def report_adverse_reaction(desk: Desk, cmd: ReactionCommand) -> ReactionResult:
    """Record the reaction, its incident report and the suspected allergy (one transaction).

    Raises ReactionInputError (one sentence) or AccessDenied."""
    actor = desk.actor
    actor.require_active()
    if cmd.reported_by_id != actor.user_id:
        raise AccessDenied(
            f"A reaction is reported under the name of the nurse signed in ({actor.display_name})."
        )
    _validate(cmd, desk.now())
    with desk.sessions.begin() as s:
        result, school_id = _report_in(s, cmd, desk)
    if desk.cache is not None and school_id is not None:
        desk.cache.evict_tag(school_tag(school_id))
    return result


def reaction_choices(desk: Desk, student_id: uuid.UUID) -> ReactionChoices:
    """The student's orders' medications and her school's office stock, by name."""
    with desk.sessions() as s:
        student = s.get(Student, student_id)
        if student is None:
            raise ReactionInputError("That student is not in the database.")
        desk.actor.require_read(student.school_id, "this student")
        orders = s.scalars(
            select(Medication)
            .join(StudentMedication, StudentMedication.medication_id == Medication.id)
            .where(StudentMedication.student_id == student_id)
            .distinct()
        ).all()
        stock = s.scalars(
            select(Medication)
            .join(MedicationInventory, MedicationInventory.medication_id == Medication.id)
            .where(
                MedicationInventory.school_id == student.school_id,
                MedicationInventory.student_id.is_(None),
            )
            .distinct()
        ).all()

        def brief(rows: Sequence[Medication]) -> tuple[MedicationBrief, ...]:
            return tuple(
                sorted(
                    (
                        MedicationBrief(m.id, m.name, m.generic_name, m.strength, m.dosage_form)
                        for m in rows
                    ),
                    key=lambda b: b.name.casefold(),
                )
            )

        return ReactionChoices(brief(orders), brief(stock))


def _report_in(
    s: Session, cmd: ReactionCommand, desk: Desk
) -> tuple[ReactionResult, uuid.UUID | None]:
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
    desk.actor.require_write(student.school_id, "report a reaction for this student")
    if cmd.student_medication_id is not None:
        order = s.get(StudentMedication, cmd.student_medication_id)
        if order is None or order.student_id != student.id:
            raise ReactionInputError("That order is not this student's.")
    serious = cmd.severity in SERIOUS
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
    allergies, added = _suspected_allergies(s, student.id, medication, cmd)
    s.flush()
    allergy_id = allergies[0].id if allergies else None
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
    log.info(
        "adverse reaction recorded (severity=%s, allergies_added=%d)", cmd.severity, len(added)
    )
    return (
        ReactionResult(
            cmd.id,
            incident.id,
            allergy_id,
            bool(added),
            allergy_ids=tuple(a.id for a in allergies),
            allergens_added=tuple(added),
        ),
        student.school_id,
    )


def _suspected_allergies(
    s: Session, student_id: uuid.UUID, medication: Medication, cmd: ReactionCommand
) -> tuple[list[Allergy], list[str]]:
    """One allergy per active ingredient: an existing active one that matches it, or a new
    suspected one (severity as reported, verified = false)."""
    on_file = list(
        s.scalars(
            select(Allergy)
            .where(Allergy.student_id == student_id, Allergy.is_active)
            .order_by(Allergy.created_at)
        ).all()
    )
    ingredients = active_ingredients(medication.generic_name, medication.name) or (
        _product_as_allergen(medication)
    )
    if not ingredients and cmd.severity in SERIOUS:
        raise ReactionInputError(
            "This medication has no recorded ingredient or usable name, and a serious reaction "
            "must record the substance: add its generic name (active ingredient) to the "
            "medication, then report again."
        )
    chosen: list[Allergy] = []
    added: list[str] = []
    for ingredient in ingredients:
        match = next(
            (
                a
                for a in on_file
                if a.allergen.strip().casefold() == ingredient
                or allergy_matches([ingredient], [a.allergen])
            ),
            None,
        )
        if match is None:
            match = Allergy(
                student_id=student_id,
                allergen=ingredient[:200],
                medication_id=medication.id,
                severity=cmd.severity,
                reaction=cmd.reaction.strip(),
                treatment=cmd.action_taken,
                verified=False,
            )
            s.add(match)
            on_file.append(match)
            added.append(ingredient)
        if match not in chosen:
            chosen.append(match)
    return chosen, added


def _product_as_allergen(medication: Medication) -> tuple[str, ...]:
    """The product's own name as the allergen when no ingredient can be read from it.

    A product with no generic name whose name is only salts or short words ("Sodium Chloride
    0.9%", "A+D") gives no ingredient; a serious reaction must still record an allergy (the
    database requires it), so the name the nurse chose stands for the substance until a
    clinician names it."""
    name = " ".join(medication.name.split())
    short = " ".join(_STRENGTH_TAIL.sub("", name).split())
    allergen = (short or name).casefold()
    return (allergen,) if allergen else ()
