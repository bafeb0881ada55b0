"""Student medication orders: who gets what, from when, authorized until when.

The active orders follow the scale's count and scheduled/PRN mix. Around them, the history a
real office has: finished antibiotic courses, orders whose dose or time changed mid-window (the
old row is superseded by the new one), and authorizations that have lapsed (one deactivated by
the nurse, the others still active so the app has something to flag) or lapse within 14 days.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from medapp.demo.base import DemoError, UuidSource
from medapp.demo.catalog import ALBUTEROL, ALL_TEMPLATES, ANTIBIOTIC, BUNDLES, Bundle, Template
from medapp.demo.formulary import Formulary, Med
from medapp.demo.names import PRESCRIBERS
from medapp.demo.people import School, Student
from medapp.demo.scales import Scale
from medapp.demo.sigs import Sig, sig

RX_COLUMNS = (
    "id",
    "student_id",
    "medication_id",
    "dosage",
    "frequency",
    "route",
    "instructions",
    "start_date",
    "end_date",
    "is_active",
    "prescribed_by",
    "administration_times",
    "is_prn",
    "prn_min_interval_minutes",
    "prn_max_per_day",
    "authorization_expires",
    "parent_consent_on",
    "supersedes_id",
    "schedule_effective_from",
    "created_by",
    "created_at",
    "updated_at",
)

MAX_ORDERS_PER_STUDENT = 4


@dataclass(eq=False)
class Rx:
    id: UUID
    student: Student
    template: Template
    med: Med
    sig: Sig
    dosage: str
    start_date: date
    end_date: date | None
    is_active: bool
    prescribed_by: str
    times: tuple[time, ...] | None
    authorization_expires: date
    parent_consent_on: date
    created_by: UUID | None
    created_at: datetime
    supersedes_id: UUID | None = None
    schedule_effective_from: datetime | None = None
    lot: object | None = field(default=None, repr=False)  # inventory.Lot of the student's supply

    @property
    def school(self) -> School:
        return self.student.school

    @property
    def is_prn(self) -> bool:
        return self.sig.prn

    def row(self) -> tuple[object, ...]:
        s = self.sig
        return (
            self.id,
            self.student.id,
            self.med.id,
            self.dosage,
            s.text,
            self.template.route,
            self.template.instructions,
            self.start_date,
            self.end_date,
            self.is_active,
            self.prescribed_by,
            list(self.times) if self.times else None,
            s.prn,
            s.min_interval_minutes if s.prn else None,
            s.max_per_day if s.prn else None,
            self.authorization_expires,
            self.parent_consent_on,
            self.supersedes_id,
            self.schedule_effective_from,
            self.created_by,
            self.created_at,
            self.created_at,
        )

    def last_dosing_day(self, today: date) -> date:
        """Last day this order could have been given before today."""
        last = today - timedelta(1)
        if self.end_date is not None:
            last = min(last, self.end_date)
        return min(last, self.authorization_expires)


@dataclass
class Orders:
    rxs: list[Rx]  # every row, superseded versions first
    active: int
    scheduled_active: int
    epinephrine_students: set[UUID]
    takes: dict[UUID, set[str]]  # student id -> school item names ordered for them


def _at(school: School, day: date, hour: int, minute: int) -> datetime:
    return school.clock.at(day, time(hour, minute))


class _Builder:
    def __init__(
        self,
        formulary: Formulary,
        today: date,
        window_start: date,
        rng: random.Random,
        new_id: UuidSource,
    ) -> None:
        self.formulary = formulary
        self.today = today
        self.window_start = window_start
        self.rng = rng
        self.new_id = new_id
        self.rxs: list[Rx] = []

    def make(
        self,
        student: Student,
        template: Template,
        start: date,
        end: date | None,
        *,
        dosage: str | None = None,
        times: tuple[time, ...] | None = None,
    ) -> Rx:
        rng = self.rng
        school = student.school
        s = sig(template.sig)
        item = self.formulary.items[template.item]
        if times is None and not s.prn:
            times = s.times_at(school.day_start, school.lunch_time)
        consent = start - timedelta(rng.randint(0, 14))
        created_day = min(start, self.today - timedelta(1))
        staff = school.nurses or school.aides
        rx = Rx(
            id=self.new_id(),
            student=student,
            template=template,
            med=self.formulary.by_item[template.item],
            sig=s,
            dosage=dosage or template.dose or item.dose,
            start_date=start,
            end_date=end,
            is_active=True,
            prescribed_by=rng.choice(PRESCRIBERS[template.prescriber]),
            times=times if not s.prn else None,
            authorization_expires=school.year_end,
            parent_consent_on=consent,
            created_by=rng.choice(staff) if staff else None,
            created_at=_at(school, created_day, 7, rng.randint(30, 59)),
        )
        self.rxs.append(rx)
        return rx


def _pick(rng: random.Random, templates: tuple[Template, ...], grade: int) -> Template | None:
    fits = [t for t in templates if t.grades[0] <= grade <= t.grades[1]]
    if not fits:
        return None
    return rng.choices(fits, [t.weight for t in fits])[0]


def _other_strength(
    formulary: Formulary, template: Template, grade: int, rng: random.Random
) -> Template | None:
    """A prescriber's dose change, as it happens: another strength of the same drug in the same
    form (Ritalin 10 mg -> Ritalin 20 mg), so the order's "1 tab" and its dose still agree with
    the product. None when the catalogue has no other strength for this student."""
    item = formulary.items[template.item]
    choices = [
        t
        for t in ALL_TEMPLATES
        if t.item != template.item
        and t.grades[0] <= grade <= t.grades[1]
        and not sig(t.sig).prn
        and (other := formulary.items[t.item]).generic_name == item.generic_name
        and other.dosage_form == item.dosage_form
        and other.strength != item.strength
    ]
    return rng.choice(choices) if choices else None


def build_orders(
    scale: Scale,
    students: list[Student],
    formulary: Formulary,
    today: date,
    window_start: date,
    rng: random.Random,
    new_id: UuidSource,
) -> Orders:
    b = _Builder(formulary, today, window_start, rng, new_id)
    want_sched = round(scale.prescriptions * scale.scheduled_share)
    want_prn = scale.prescriptions - want_sched
    have = {"sched": 0, "prn": 0}
    eligible = [s for s in students if s.is_active]
    if not eligible:
        raise DemoError("no active students to give orders to")
    per_student: dict[UUID, int] = {}
    bundles_of: dict[UUID, set[str]] = {}
    epi: set[UUID] = set()
    bundle_weights = [x.weight for x in BUNDLES]

    def chronic_start() -> date:
        return window_start - timedelta(rng.randint(1, 45))

    def add_bundle(bundle: Bundle) -> None:
        for _ in range(20):
            student = rng.choice(eligible)
            lo, hi = bundle.grades
            if (
                lo <= student.grade <= hi
                and bundle.name not in bundles_of.get(student.id, set())
                and per_student.get(student.id, 0) < MAX_ORDERS_PER_STUDENT
            ):
                break
        else:
            return
        start = chronic_start()
        for probability, choices in bundle.slots:
            if rng.random() >= probability:
                continue
            template = _pick(rng, choices, student.grade)
            if template is None:
                continue
            kind = "prn" if sig(template.sig).prn else "sched"
            if have[kind] >= (want_prn if kind == "prn" else want_sched):
                continue
            if template.course_days:  # an antibiotic course still running today
                course_start = today - timedelta(rng.randint(1, template.course_days - 1))
                b.make(
                    student,
                    template,
                    course_start,
                    course_start + timedelta(template.course_days - 1),
                )
            else:
                b.make(student, template, start, None)
            have[kind] += 1
            per_student[student.id] = per_student.get(student.id, 0) + 1
            bundles_of.setdefault(student.id, set()).add(bundle.name)
            if template.emergency == "anaphylaxis":
                epi.add(student.id)

    guard = 0
    while (have["sched"] < want_sched or have["prn"] < want_prn) and guard < 100 * (
        scale.prescriptions + 10
    ):
        guard += 1
        add_bundle(rng.choices(BUNDLES, bundle_weights)[0])
    active = list(b.rxs)

    # Authorizations: a few lapse within 14 days, a couple have lapsed already.
    chronic = [r for r in active if r.end_date is None]
    rng.shuffle(chronic)
    n_soon = max(2, round(0.04 * len(active)))
    n_lapsed = max(2, round(0.01 * len(active)))
    for rx in chronic[:n_soon]:
        rx.authorization_expires = today + timedelta(rng.randint(0, 13))
    for rx in chronic[n_soon : n_soon + n_lapsed]:
        rx.authorization_expires = today - timedelta(rng.randint(1, 20))
    # One more lapsed order the nurse has already deactivated (not counted as active).
    lapsed_student = rng.choice(eligible)
    template = _pick(rng, ALBUTEROL, lapsed_student.grade)
    if template is not None:
        rx = b.make(lapsed_student, template, chronic_start(), None)
        rx.authorization_expires = today - timedelta(rng.randint(5, 25))
        rx.is_active = False

    # Finished antibiotic courses inside the window (history only).
    window_days = (today - window_start).days
    for _ in range(max(3, round(scale.prescriptions * 0.12))):
        student = rng.choice(eligible)
        template = _pick(rng, ANTIBIOTIC, student.grade)
        if template is None or template.course_days is None:
            continue
        latest = window_days - template.course_days - 1
        if latest < 1:
            continue
        start = window_start + timedelta(rng.randint(0, latest))
        rx = b.make(student, template, start, start + timedelta(template.course_days - 1))
        rx.is_active = False

    # Dose or time changes: the old version ends, the new one supersedes it.
    versions: list[Rx] = []
    changeable = [r for r in active if not r.is_prn and r.end_date is None]
    for rx in rng.sample(changeable, min(len(changeable), max(2, round(0.05 * len(changeable))))):
        change = window_start + timedelta(rng.randint(7, max(8, window_days - 7)))
        new_template = (
            _other_strength(formulary, rx.template, rx.student.grade, rng)
            if rng.random() < 0.5
            else None
        )
        old = Rx(
            id=new_id(),
            student=rx.student,
            template=rx.template,
            med=rx.med,
            sig=rx.sig,
            dosage=rx.dosage,
            start_date=rx.start_date,
            end_date=change - timedelta(1),
            is_active=False,
            prescribed_by=rx.prescribed_by,
            times=rx.times,
            authorization_expires=rx.authorization_expires,
            parent_consent_on=rx.parent_consent_on,
            created_by=rx.created_by,
            created_at=rx.created_at,
        )
        if new_template is not None:
            rx.template = new_template
            rx.med = formulary.by_item[new_template.item]
            rx.dosage = new_template.dose or formulary.items[new_template.item].dose
        elif rx.times and len(rx.times) == 1:
            old_time = rx.times[0]
            moved = time(old_time.hour, 30) if old_time.minute == 0 else time(old_time.hour, 0)
            if rx.school.clock.in_hours(moved):
                old.times = rx.times
                rx.times = (moved,)
        rx.start_date = change
        rx.supersedes_id = old.id
        rx.schedule_effective_from = _at(rx.school, change, 0, 0).astimezone(UTC)
        rx.created_at = _at(rx.school, change - timedelta(1), 15, rng.randint(0, 59))
        rx.parent_consent_on = min(rx.parent_consent_on, change)
        versions.append(old)

    rxs = versions + b.rxs
    takes: dict[UUID, set[str]] = {}
    for rx in rxs:
        takes.setdefault(rx.student.id, set()).add(rx.template.item)
    return Orders(
        rxs=rxs,
        active=sum(r.is_active for r in rxs),
        scheduled_active=sum(r.is_active and not r.is_prn for r in rxs),
        epinephrine_students=epi,
        takes=takes,
    )
