"""Health conditions and emergency contacts for the demo students (the student's page).

Conditions follow the orders (an inhaler → asthma, an epinephrine pen → anaphylaxis risk, a
stimulant → ADHD, insulin → type 1 diabetes, rescue diazepam → seizure disorder) plus a few at
random; every student has one or two contacts, a parent first. Phone numbers are in the 555-01xx
range reserved for fiction.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from uuid import UUID

from medapp.demo.base import UuidSource
from medapp.demo.names import FIRST_NAMES
from medapp.demo.people import Student
from medapp.demo.prescriptions import Rx

CONDITION_COLUMNS = ("id", "student_id", "name", "care_plan")
CONTACT_COLUMNS = ("id", "student_id", "name", "relationship", "phone", "priority", "notes")

#: order prescriber kind (or item prefix) → (condition, care-plan note)
_FROM_ORDERS = {
    "adhd": ("ADHD", "Stimulant at lunch; quiet space for the dose."),
    "allergy": ("Anaphylaxis risk", "Epinephrine pen in the office and in the backpack."),
    "diabetes": ("Type 1 diabetes", "Check glucose before lunch and PE; snacks in the office."),
    "seizure": ("Seizure disorder", "Time the seizure; rescue medication after 5 minutes."),
    "psych": ("Anxiety", "Calm corner; call a parent if not settled in 20 minutes."),
}
_ASTHMA = ("Asthma", "Inhaler before PE; nebulizer in the office.")
_RANDOM = (
    (("Asthma", "Inhaler before PE; nebulizer in the office."), 6.0),
    (("Migraine", "Dark room, water; parent called after 30 minutes."), 2.0),
    (("Celiac disease", "Gluten-free snacks only."), 0.7),
    (("Hearing aid", "Seat at the front; spare batteries in the office."), 0.5),
)
_RELATIONS = (("Mother", 5.0), ("Father", 4.0), ("Grandmother", 1.0), ("Aunt", 0.5))


def build_conditions(
    rxs: Iterable[Rx], students: list[Student], rng: random.Random, new_id: UuidSource
) -> list[tuple[object, ...]]:
    have: dict[UUID, dict[str, str]] = {}
    for rx in rxs:
        item = rx.template.item.lower()
        found = (
            _ASTHMA
            if "wheez" in rx.template.sig.lower() or "albuterol" in item or "inhal" in item
            else _FROM_ORDERS.get(rx.template.prescriber)
        )
        if found is not None:
            have.setdefault(rx.student.id, {})[found[0]] = found[1]
    for student in students:
        if rng.random() < 0.08:
            (name, plan) = rng.choices([c for c, _ in _RANDOM], [w for _, w in _RANDOM])[0]
            have.setdefault(student.id, {}).setdefault(name, plan)
    return [
        (new_id(), sid, name, plan)
        for sid, found in sorted(have.items(), key=lambda kv: str(kv[0]))
        for name, plan in sorted(found.items())
    ]


def build_contacts(
    students: list[Student], rng: random.Random, new_id: UuidSource
) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for student in students:
        count = 1 if rng.random() < 0.3 else 2
        relations = [r for r, _ in _RELATIONS]
        weights = [w for _, w in _RELATIONS]
        used: set[str] = set()
        for priority in range(1, count + 1):
            relation = rng.choices(relations, weights)[0]
            if relation in used:
                relation = "Father" if relation == "Mother" else "Mother"
            used.add(relation)
            first = rng.choice(FIRST_NAMES)
            phone = f"555-01{rng.randrange(100):02d}"
            note = "Works nights — call after 2 pm" if rng.random() < 0.05 else None
            rows.append(
                (
                    new_id(),
                    student.id,
                    f"{first} {student.last_name}",
                    relation,
                    phone,
                    priority,
                    note,
                )
            )
    return rows
