"""Adverse reactions: all-or-nothing, retry-safe, for any medication, and every one records a
suspected allergy for the product's ingredients so the next dose of any product with them warns."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from medapp.db.models import AdverseReaction, Allergy, IncidentReport
from medapp.domain.checks import DoseRefused
from medapp.services.desk import AccessDenied
from medapp.services.doses import DoseCommand, record_dose
from medapp.services.reactions import (
    ReactionCommand,
    ReactionInputError,
    reaction_choices,
    report_adverse_reaction,
)
from tests.db import factories as f
from tests.db.desks import desk_for

NY = ZoneInfo("America/New_York")


@pytest.fixture
def world(committed_db):  # noqa: ANN001, ANN201
    with Session(committed_db.engine) as s:
        sch = f.school(s, code=f"R{uuid.uuid4().hex[:6]}")
        nurse = f.nurse(s, sch, username=f"r{uuid.uuid4().hex[:6]}")
        stu = f.student(s, sch, number=f"R{uuid.uuid4().hex[:8]}")
        med = f.medication(s, name="Amoxicillin", ndc=None)
        med.generic_name = "amoxicillin"
        rx = f.prescription(
            s, stu, med, frequency="daily at noon", authorization_expires=dt.date(2027, 6, 15)
        )
        s.commit()
        return committed_db, dict(nurse=nurse.id, student=stu.id, med=med.id, rx=rx.id)


def cmd(ids, severity: str = "SEVERE", **kw) -> ReactionCommand:  # noqa: ANN001
    values = dict(
        id=uuid.uuid4(),
        student_id=ids["student"],
        medication_id=ids["med"],
        reported_by_id=ids["nurse"],
        severity=severity,
        reaction="hives and lip swelling",
        occurred_at=dt.datetime.now(dt.UTC),
        action_taken="diphenhydramine, parent called",
    )
    values.update(kw)
    return ReactionCommand(**values)


def report(db, c: ReactionCommand):  # noqa: ANN001, ANN201
    return report_adverse_reaction(desk_for(db.sessions, c.reported_by_id), c)


def counts(db, student_id) -> tuple[int, int, int]:  # noqa: ANN001
    with Session(db.engine) as s:
        return tuple(
            s.scalar(select(func.count()).select_from(model).where(model.student_id == student_id))
            for model in (AdverseReaction, IncidentReport, Allergy)
        )


def test_serious_reaction_writes_incident_and_allergy_together(world) -> None:  # noqa: ANN001
    db, ids = world
    result = report(db, cmd(ids))
    assert result.allergy_created and result.allergy_id is not None
    assert counts(db, ids["student"]) == (1, 1, 1)
    with Session(db.engine) as s:
        incident = s.get(IncidentReport, result.incident_report_id)
        assert (
            incident.type == "ADVERSE_REACTION"
            and incident.parent_notified
            and incident.follow_up_required
        )


def test_a_mild_reaction_records_a_suspected_allergy_too(world) -> None:  # noqa: ANN001
    db, ids = world
    result = report(db, cmd(ids, "MILD"))
    assert result.allergy_created and result.allergens_added == ("amoxicillin",)
    assert counts(db, ids["student"]) == (1, 1, 1)
    with Session(db.engine) as s:
        allergy = s.get(Allergy, result.allergy_id)
        assert (allergy.allergen, allergy.severity, allergy.verified) == (
            "amoxicillin",
            "MILD",
            False,
        )


def test_the_same_allergy_is_not_duplicated(world) -> None:  # noqa: ANN001
    db, ids = world
    first = report(db, cmd(ids, "MILD"))
    second = report(db, cmd(ids, "MODERATE"))
    assert not second.allergy_created and second.allergy_id == first.allergy_id
    assert counts(db, ids["student"]) == (2, 2, 1)


def test_a_parent_given_combination_product_warns_for_every_product_with_it(world) -> None:  # noqa: ANN001
    """A rash after a parent-given Augmentin (not an order of the student): both ingredients
    are recorded, and the school's amoxicillin order then needs an override."""
    db, ids = world
    with Session(db.engine) as s:
        augmentin = f.medication(s, name="Augmentin", ndc=None)
        augmentin.generic_name = "AMOXICILLIN; CLAVULANATE POTASSIUM"
        s.commit()
        other_med = augmentin.id
    result = report(db, cmd(ids, "MODERATE", medication_id=other_med))
    assert result.allergens_added == ("amoxicillin", "clavulanate")
    assert len(result.allergy_ids) == 2
    now = dt.datetime(2026, 11, 2, 12, 20, tzinfo=NY)
    dose = DoseCommand(
        id=uuid.uuid4(),
        prescription_id=ids["rx"],
        nurse_id=ids["nurse"],
        status="GIVEN",
        time_given=now,
    )
    with pytest.raises(DoseRefused, match="amoxicillin"):
        record_dose(desk_for(db.sessions, ids["nurse"], now=now), dose)


@pytest.mark.parametrize("severity", ["SEVERE", "LIFE_THREATENING", "MILD"])
def test_a_product_with_no_recorded_ingredient_records_its_name(world, severity) -> None:  # noqa: ANN001
    """No generic name and a name of salts only ("Sodium Chloride 0.9%"): the report is saved
    (it used to fail with the database's 'a serious reaction records an allergy' check) and the
    product's name stands for the substance."""
    db, ids = world
    with Session(db.engine) as s:
        saline = f.medication(s, name="Sodium  Chloride 0.9% 10 mL", ndc=None)
        saline.generic_name = None
        s.commit()
        saline_id = saline.id
    result = report(db, cmd(ids, severity, medication_id=saline_id))
    assert result.allergens_added == ("sodium chloride",)
    assert counts(db, ids["student"]) == (1, 1, 1)
    with Session(db.engine) as s:
        allergy = s.get(Allergy, result.allergy_id)
        assert (allergy.allergen, allergy.medication_id, allergy.verified) == (
            "sodium chloride",
            saline_id,
            False,
        )
        reaction = s.get(AdverseReaction, result.reaction_id)
        assert reaction.allergy_id == allergy.id and reaction.reaction == "hives and lip swelling"


def test_reaction_choices_list_orders_and_office_stock(world) -> None:  # noqa: ANN001
    db, ids = world
    with Session(db.engine) as s:
        from medapp.db.models import Student

        school_id = s.get(Student, ids["student"]).school_id
        tylenol = f.medication(s, name="Tylenol 325 mg", ndc=None)
        f.lot(s, tylenol, school_id=school_id)
        s.commit()
    choices = reaction_choices(desk_for(db.sessions, ids["nurse"]), ids["student"])
    assert [m.name for m in choices.orders] == ["Amoxicillin"]
    assert [m.name for m in choices.stock] == ["Tylenol 325 mg"]


def test_another_school_cannot_report(world) -> None:  # noqa: ANN001
    db, ids = world
    desk = desk_for(db.sessions, ids["nurse"], schools=[uuid.uuid4()])
    with pytest.raises(AccessDenied):
        report_adverse_reaction(desk, cmd(ids))
    assert counts(db, ids["student"]) == (0, 0, 0)


def test_retry_with_same_id_is_one_report(world) -> None:  # noqa: ANN001
    db, ids = world
    c = cmd(ids)
    report(db, c)
    again = report(db, c)
    assert again.already_reported
    assert counts(db, ids["student"]) == (1, 1, 1)


def test_failure_writing_the_allergy_leaves_no_incident(world) -> None:  # noqa: ANN001
    db, ids = world
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION test_fail_allergy() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'injected failure'; END $$"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER test_fail_allergy BEFORE INSERT ON allergies "
                "FOR EACH ROW EXECUTE FUNCTION test_fail_allergy()"
            )
        )
    try:
        with pytest.raises(DBAPIError, match="injected failure"):
            report(db, cmd(ids))
        assert counts(db, ids["student"]) == (0, 0, 0)
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER test_fail_allergy ON allergies"))
            conn.execute(text("DROP FUNCTION test_fail_allergy()"))


def test_after_a_serious_reaction_the_dose_needs_an_override(world) -> None:  # noqa: ANN001
    db, ids = world
    report(db, cmd(ids))
    now = dt.datetime(2026, 11, 2, 12, 20, tzinfo=NY)  # a Monday, inside the noon dose window
    dose = DoseCommand(
        id=uuid.uuid4(),
        prescription_id=ids["rx"],
        nurse_id=ids["nurse"],
        status="GIVEN",
        time_given=now - dt.timedelta(minutes=15),
        scheduled_for=dt.datetime(2026, 11, 2, 12, 0, tzinfo=NY),
    )
    desk = desk_for(db.sessions, ids["nurse"], now=now)
    with pytest.raises(DoseRefused, match="Allergy") as refused:
        record_dose(desk, dose)
    assert [w.code.value for w in refused.value.warnings] == ["ALLERGY"]
    from dataclasses import replace

    ok = record_dose(desk, replace(dose, override_reason="Prescriber re-challenge, parent present"))
    assert ok.outcome == "RECORDED" and "ALLERGY" in (ok.override or "")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"severity": "BAD"}, "Severity"),
        ({"reaction": "  "}, "Describe"),
        ({"medication_id": uuid.uuid4()}, "does not exist"),
    ],
)
def test_bad_reports_are_refused_clearly(world, change, message) -> None:  # noqa: ANN001
    db, ids = world
    with pytest.raises(ReactionInputError, match=message):
        report(db, cmd(ids, **change))
