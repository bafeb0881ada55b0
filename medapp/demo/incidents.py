"""Incident reports: every emergency medication use, some reactions and medication errors from
the dose history, and the everyday injuries and illnesses of a health office."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from medapp.demo.base import UuidSource
from medapp.demo.logs import Event, LogResult
from medapp.demo.people import Student

INCIDENT_COLUMNS = (
    "id",
    "student_id",
    "reported_by_id",
    "type",
    "severity",
    "description",
    "actions_taken",
    "parent_notified",
    "follow_up_required",
    "follow_up_notes",
    "occurred_at",
    "medication_log_id",
    "created_at",
)

_EMERGENCY = {
    "anaphylaxis": (
        "ILLNESS",
        "LIFE_THREATENING",
        "Allergic reaction after eating at lunch: hives, throat tightness, wheezing.",
        "{med} given in the outer thigh at {time}; 911 called; EMS transported to the emergency "
        "department; parent notified and met the ambulance.",
        "Allergy action plan reviewed with cafeteria staff; new auto-injector requested.",
    ),
    "hypoglycemia": (
        "ILLNESS",
        "SEVERE",
        "Severe low blood sugar: student confused and unable to swallow safely (BG 41).",
        "{med} given at {time}; student placed on side; 911 called; BG 96 after 15 minutes; "
        "parent notified.",
        "Diabetes team contacted to review lunch insulin dose.",
    ),
    "seizure": (
        "ILLNESS",
        "SEVERE",
        "Generalized seizure in class lasting more than 5 minutes.",
        "{med} given at {time} per seizure action plan; seizure stopped about 3 minutes later; "
        "EMS called; parent notified.",
        "Neurologist informed; rescue medication supply to be replaced.",
    ),
}
_INJURIES = (
    ("Fell from the monkey bars at recess; abrasion to the left knee.", "MILD",
     "Wound cleaned and bandaged; ice pack 15 minutes; returned to class."),
    ("Collided with another student in PE; bump on the forehead, no loss of consciousness.", "MODERATE",
     "Ice applied; concussion screening negative; parent notified; observed for 30 minutes."),
    ("Finger caught in a classroom door.", "MILD", "Ice and elevation; full movement; returned to class."),
    ("Twisted right ankle on the stairs.", "MODERATE",
     "Ice, elevation; unable to bear weight; parent picked up for X-ray."),
    ("Hit in the face by a ball during PE; nosebleed.", "MILD",
     "Pressure applied; bleeding stopped in 10 minutes; returned to class."),
    ("Tripped on the playground; cut on the chin.", "MODERATE",
     "Cleaned and steri-stripped; parent notified; advised evaluation for stitches."),
)  # fmt: skip
_ILLNESSES = (
    ("Vomited in the classroom.", "MILD", "Rested in the health office; parent picked up at 11:40."),
    ("Temperature 101.2 °F and sore throat.", "MILD", "Sent home per fever policy; parent notified."),
    ("Severe headache and dizziness after PE.", "MODERATE",
     "Rested, water given; vital signs normal; parent notified and picked up."),
    ("Abdominal pain, pale and sweaty.", "MODERATE",
     "Observed in the health office; parent took student to the pediatrician."),
    ("Asthma flare during recess, not relieved by rest.", "MODERATE",
     "Rescue inhaler per plan; symptoms resolved; parent notified."),
)  # fmt: skip
_OTHER = (
    ("Student tearful and anxious before a test; asked to see the nurse.", "MILD",
     "Breathing exercises; counselor informed; returned to class."),
    ("Teacher found live lice during a head check.", "MILD",
     "Parent notified per district lice policy; class letter sent."),
)  # fmt: skip


def _nurse(student: Student, rng: random.Random) -> object:
    staff = student.school.nurses or student.school.aides
    return rng.choice(staff) if staff else None


def build_incidents(
    students: list[Student],
    logs: LogResult,
    target: int,
    today: date,
    window_start: date,
    rng: random.Random,
    new_id: UuidSource,
) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []

    def add(
        student: Student,
        reporter: object,
        kind: str,
        severity: str,
        description: str,
        actions: str,
        at: datetime,
        log: Event | None,
        follow_up: str | None = None,
    ) -> None:
        if reporter is None:
            return
        rows.append(
            (
                new_id(),
                student.id,
                reporter,
                kind,
                severity,
                description,
                actions,
                severity != "MILD" or rng.random() < 0.6,
                follow_up is not None,
                follow_up,
                at,
                log.log_id if log else None,
                at + timedelta(minutes=rng.randint(10, 90)),
            )
        )

    def hhmm(e: Event) -> str:
        return e.at.astimezone(e.rx.school.clock.tz).strftime("%H:%M")

    for e in logs.emergencies:
        kind, sev, what, actions, follow = _EMERGENCY[e.detail]
        add(e.rx.student, e.nurse, kind, sev, what,
            actions.format(med=e.rx.med.name, time=hhmm(e)), e.at, e, follow)  # fmt: skip
    for e in rng.sample(logs.reactions, min(len(logs.reactions), max(1, target // 10))):
        add(e.rx.student, e.nurse, "ADVERSE_REACTION", "MILD" if "Drowsy" in e.detail else "MODERATE",
            f"After the {hhmm(e)} dose of {e.rx.med.name} ({e.rx.dosage}): {e.detail.lower()}.",
            "Monitored in the health office for 30 minutes; vital signs stable; parent notified.",
            e.at, e, "Prescriber notified of the reaction.")  # fmt: skip
    for e in rng.sample(logs.corrections, min(len(logs.corrections), max(1, target // 10))):
        add(e.rx.student, e.nurse, "MEDICATION_ERROR", "MILD",
            f"Documentation error ({e.detail}) for {e.rx.med.name}; found at the daily review.",
            "Record corrected (entered in error); parent and school nurse supervisor informed.",
            e.at, e)  # fmt: skip
    for e in rng.sample(logs.late, min(len(logs.late), max(1, target // 10))):
        add(e.rx.student, e.nurse, "MEDICATION_ERROR", "MILD",
            f"Scheduled dose of {e.rx.med.name} given {e.detail} minutes late.",
            "Prescriber's office consulted: no action needed; parent notified; reminder process "
            "reviewed with the teacher.", e.at, e)  # fmt: skip

    active = [s for s in students if s.is_active and s.school.school_days]
    while len(rows) < target and active:
        student = rng.choice(active)
        pool = rng.choices((_INJURIES, _ILLNESSES, _OTHER), (6, 4, 1))[0]
        what, sev, actions = rng.choice(pool)
        kind = "INJURY" if pool is _INJURIES else "ILLNESS" if pool is _ILLNESSES else "OTHER"
        day = rng.choice(student.school.school_days)
        if day < window_start or day >= today:
            continue
        at = student.school.clock.at(day, time(rng.randint(8, 14), rng.randint(0, 59)))
        add(student, _nurse(student, rng), kind, sev, what, actions, at, None)
    return rows
