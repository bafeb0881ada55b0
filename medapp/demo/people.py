"""Schools (with their calendars), staff, students and allergies."""

from __future__ import annotations

import bisect
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from medapp.demo.base import UuidSource
from medapp.demo.formulary import Formulary
from medapp.demo.names import FIRST_NAMES, LAST_NAMES, SCHOOL_NAMES, SCHOOL_STAFF
from medapp.demo.scales import Scale
from medapp.demo.schoolcal import SchoolClock, closures, current_year_end, year_start

GRADE_LABELS = ("K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12")


@dataclass(eq=False)
class School:
    id: UUID
    code: str
    name: str
    timezone: str
    day_start: time
    day_end: time
    lunch_time: time
    dose_window: int
    year_end: date
    grades: tuple[int, ...]
    size: int
    clock: SchoolClock = field(init=False)
    closed: dict[date, str] = field(default_factory=dict)
    school_days: list[date] = field(default_factory=list)  # in the log window, ascending
    nurses: list[UUID] = field(default_factory=list)
    aides: list[UUID] = field(default_factory=list)
    loggers: list[UUID] = field(default_factory=list)  # who records doses (nurses weighted)

    COLUMNS = (
        "id",
        "code",
        "name",
        "timezone",
        "day_start",
        "day_end",
        "lunch_time",
        "dose_window_minutes",
        "school_year_end",
    )

    def __post_init__(self) -> None:
        self.clock = SchoolClock(self.timezone, self.day_start, self.day_end, self.lunch_time)

    def row(self) -> tuple[object, ...]:
        return (
            self.id,
            self.code,
            self.name,
            self.timezone,
            self.day_start,
            self.day_end,
            self.lunch_time,
            self.dose_window,
            self.year_end,
        )

    def days_between(self, first: date, last: date) -> list[date]:
        lo = bisect.bisect_left(self.school_days, first)
        hi = bisect.bisect_right(self.school_days, last)
        return self.school_days[lo:hi]


@dataclass(eq=False)
class User:
    id: UUID
    first_name: str
    last_name: str
    username: str
    role: str
    school_id: UUID | None
    schools: list[UUID] = field(default_factory=list)  # user_schools

    COLUMNS = ("id", "first_name", "last_name", "username", "role", "school_id")

    def row(self) -> tuple[object, ...]:
        return (
            self.id,
            self.first_name,
            self.last_name,
            self.username,
            self.role,
            self.school_id,
        )


@dataclass(eq=False, slots=True)
class Student:
    id: UUID
    number: str
    first_name: str
    last_name: str
    grade: int
    date_of_birth: date
    school: School
    nurse_id: UUID | None
    is_active: bool = True

    COLUMNS = (
        "id",
        "student_number",
        "first_name",
        "last_name",
        "grade",
        "date_of_birth",
        "school_id",
        "nurse_id",
        "is_active",
    )

    def row(self) -> tuple[object, ...]:
        return (
            self.id,
            self.number,
            self.first_name,
            self.last_name,
            GRADE_LABELS[self.grade],
            self.date_of_birth,
            self.school.id,
            self.nurse_id,
            self.is_active,
        )


# --- schools ----------------------------------------------------------------------------------

# level: (grades, relative size, day start, day end, lunch)
_LEVELS = {
    "ES": (tuple(range(0, 6)), 600, time(8, 30), time(15, 0), (time(11, 45), time(12, 0))),
    "MS": (tuple(range(6, 9)), 1000, time(7, 50), time(14, 40), (time(11, 30), time(11, 45))),
    "HS": (tuple(range(9, 13)), 1900, time(7, 20), time(14, 20), (time(11, 15), time(11, 30))),
    "K8": (tuple(range(0, 9)), 800, time(8, 0), time(15, 0), (time(12, 0),)),
}
_LEVEL_NAMES = {
    "ES": "Elementary School",
    "MS": "Middle School",
    "HS": "High School",
    "K8": "K-8 School",
}
# District mix: 25 elementary, 8 middle, 5 high, 2 K-8 (the first one is the school demo's).
_DISTRICT_LEVELS = ("K8",) + ("ES",) * 25 + ("MS",) * 8 + ("HS",) * 5 + ("K8",)


def _spread(total: int, weights: list[float]) -> list[int]:
    """Integers proportional to ``weights`` that add up to ``total``."""
    raw = [total * w / sum(weights) for w in weights]
    out = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)[
        : total - sum(out)
    ]:
        out[i] += 1
    return out


def build_schools(
    scale: Scale, today: date, window: tuple[date, date], rng: random.Random, new_id: UuidSource
) -> list[School]:
    end = current_year_end(today)
    if scale.schools == 1:
        specs = [("Riverside", "K8", "America/New_York", time(8, 0), time(15, 0), time(12, 0))]
    else:
        names = rng.sample([n for n in SCHOOL_NAMES if n != "Riverside"], scale.schools - 1)
        specs = []
        for i, level in enumerate(_DISTRICT_LEVELS[: scale.schools]):
            grades, _, start, stop, lunches = _LEVELS[level]
            tz = "America/Chicago" if i >= scale.schools - 3 else "America/New_York"
            name = "Riverside" if i == 0 else names[i - 1]
            if i == 0:
                start, stop, lunches = time(8, 0), time(15, 0), (time(12, 0),)
            specs.append((name, level, tz, start, stop, rng.choice(lunches)))
    weights = [_LEVELS[level][1] * rng.uniform(0.85, 1.15) for _, level, *_ in specs]
    sizes = _spread(scale.students, weights) if len(specs) > 1 else [scale.students]

    # One district calendar (same holidays and snow days everywhere).
    closed = closures(window[0], end, today, rng)
    schools: list[School] = []
    codes: set[str] = set()
    for (name, level, tz, start, stop, lunch), size in zip(specs, sizes, strict=True):
        code = re.sub(r"[^A-Z]", "", name.upper())[:6] + "-" + level
        while code in codes:
            code += "X"
        codes.add(code)
        school = School(
            id=new_id(),
            code=code,
            name=f"{name} {_LEVEL_NAMES[level]}",
            timezone=tz,
            day_start=start,
            day_end=stop,
            lunch_time=lunch,
            dose_window=60 if not schools else rng.choice((60, 60, 60, 45, 30)),
            year_end=end,
            grades=_LEVELS[level][0],
            size=size,
        )
        school.closed = closed
        first, last = window
        school.school_days = [
            first + timedelta(n)
            for n in range((last - first).days + 1)
            if (first + timedelta(n)).weekday() < 5 and (first + timedelta(n)) not in closed
        ]
        schools.append(school)
    return schools


def closure_rows(schools: list[School], new_id: UuidSource) -> list[tuple[object, ...]]:
    return [(new_id(), s.id, day, why) for s in schools for day, why in s.closed.items()]


CLOSURE_COLUMNS = ("id", "school_id", "closed_on", "reason")


# --- staff ------------------------------------------------------------------------------------


# Demo staff kinds: (users.role, user-name prefix). Health aides record doses as nurses do.
_KINDS = {
    "NURSE": ("NURSE", "nurse"),
    "AIDE": ("NURSE", "aide"),
    "LEAD_NURSE": ("LEAD_NURSE", "lead"),
    "DISTRICT_ADMIN": ("DISTRICT_ADMIN", "admin"),
    "AUDITOR": ("AUDITOR", "auditor"),
}


def _username(kind: str, first: str, last: str, taken: set[str]) -> str:
    prefix = _KINDS[kind][1]
    base = f"{prefix}.{re.sub(r'[^a-z]', '', last.lower())}"
    name = base
    n = 1
    while name in taken:
        name = f"{base}.{first[0].lower()}" if n == 1 else f"{base}{n}"
        n += 1
    taken.add(name)
    return name


def build_users(
    scale: Scale, schools: list[School], rng: random.Random, new_id: UuidSource
) -> list[User]:
    """Office staff per school, and at district scale the district office: administrators,
    auditors, two lead nurses over every school and float nurses covering three schools each.
    ``User.schools`` become ``user_schools`` rows (what row-level security keys on)."""
    taken: set[str] = set()
    users: list[User] = []

    def add(first: str, last: str, kind: str, school: School | None) -> User:
        role = _KINDS[kind][0]
        user = User(new_id(), first, last, _username(kind, first, last, taken), role, None)
        if school is not None:
            user.school_id = school.id
            user.schools.append(school.id)
            (school.nurses if kind == "NURSE" else school.aides if kind == "AIDE" else []).append(
                user.id
            )
        users.append(user)
        return user

    first_school = schools[0]
    for first, last, kind in SCHOOL_STAFF:
        add(first, last, kind, first_school)
    if scale.schools > 1:

        def person() -> tuple[str, str]:
            return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)

        for school in schools:
            nurses = 1 + (school.size > 1200) + (school.size > 2500) - len(school.nurses)
            for _ in range(max(0, nurses)):
                add(*person(), "NURSE", school)
            add(*person(), "AIDE", school)
        for kind, count in (("DISTRICT_ADMIN", 4), ("AUDITOR", 8), ("LEAD_NURSE", 2)):
            for _ in range(count):
                user = add(*person(), kind, None)  # district office
                if kind == "LEAD_NURSE":
                    user.schools.extend(s.id for s in schools)
        for _ in range(4):
            user = add(*person(), "NURSE", None)  # float nurses
            user.schools.extend(s.id for s in rng.sample(schools, min(3, len(schools))))
    for school in schools:
        school.loggers = school.nurses * 4 + school.aides
    return users


def user_school_rows(users: list[User]) -> list[tuple[object, ...]]:
    return [(u.id, school_id) for u in users for school_id in dict.fromkeys(u.schools)]


USER_SCHOOL_COLUMNS = ("user_id", "school_id")


# --- students ---------------------------------------------------------------------------------


def _birth_date(grade: int, school_year_start: int, rng: random.Random) -> date:
    """Age 5 on September 1 in kindergarten; a few students are a year older (retained)."""
    born_by = date(school_year_start - 5 - grade, 9, 1)
    if rng.random() < 0.03:
        born_by = date(born_by.year - 1, 9, 1)
    return born_by - timedelta(rng.randrange(365))


def build_students(
    scale: Scale, schools: list[School], today: date, rng: random.Random, new_id: UuidSource
) -> list[Student]:
    start_year = year_start(current_year_end(today).year - 1).year
    numbers = list(range(1, scale.students + 1))
    rng.shuffle(numbers)
    students: list[Student] = []
    for school in schools:
        per_grade = _spread(school.size, [1.0] * len(school.grades))
        for grade, count in zip(school.grades, per_grade, strict=True):
            for _ in range(count):
                students.append(
                    Student(
                        id=new_id(),
                        number=f"S{numbers[len(students)]:06d}",
                        first_name=rng.choice(FIRST_NAMES),
                        last_name=rng.choice(LAST_NAMES),
                        grade=grade,
                        date_of_birth=_birth_date(grade, start_year, rng),
                        school=school,
                        nurse_id=rng.choice(school.nurses) if school.nurses else None,
                        is_active=rng.random() >= 0.01,
                    )
                )
    return students


# --- allergies --------------------------------------------------------------------------------

ALLERGY_COLUMNS = (
    "id",
    "student_id",
    "allergen",
    "medication_id",
    "severity",
    "reaction",
    "treatment",
    "verified",
    "verified_by",
    "verified_at",
    "is_active",
)

_ANAPHYLAXIS = (
    "Anaphylaxis: hives, throat tightness, wheezing, vomiting",
    "Epinephrine auto-injector immediately, call 911, then notify parent",
)
_SEVERE_FOOD = (
    "Hives, lip and eye swelling",
    "Epinephrine if any breathing symptoms; otherwise antihistamine per plan and call parent",
)
# allergen, kind, weight, school item whose medication it names (or None)
_ALLERGENS: tuple[tuple[str, str, float, str | None], ...] = (
    ("Peanuts", "food", 20, None),
    ("Tree nuts", "food", 10, None),
    ("Milk", "food", 6, None),
    ("Eggs", "food", 6, None),
    ("Shellfish", "food", 5, None),
    ("Fish", "food", 2, None),
    ("Wheat", "food", 2, None),
    ("Soy", "food", 2, None),
    ("Sesame", "food", 3, None),
    ("Bee and wasp stings", "venom", 4, None),
    ("Latex", "contact", 3, None),
    ("Penicillin", "drug", 10, "Penicillin V Potassium 250 mg"),
    ("Amoxicillin", "drug", 4, "Amoxicillin 500 mg"),
    ("Sulfa drugs (sulfamethoxazole)", "drug", 5, "Bactrim DS"),
    ("Cephalexin", "drug", 2, "Keflex 500 mg"),
    ("Ibuprofen", "drug", 2, "Ibuprofen 200 mg"),
    ("Codeine", "drug", 1, None),
    ("Adhesive tape", "contact", 2, None),
    ("Seasonal pollen", "environment", 6, None),
    ("Dust mites", "environment", 3, None),
    ("Cats", "environment", 2, None),
    ("Red dye 40", "food", 1, None),
)
_REACTIONS = {
    ("drug", "MODERATE"): ("Generalized hives", "Do not give; notify parent and prescriber"),
    ("drug", "SEVERE"): (
        "Facial swelling and hives",
        "Do not give; antihistamine per plan, epinephrine if breathing affected",
    ),
    ("drug", "MILD"): ("Rash", "Do not give; notify parent"),
    ("contact", "MILD"): ("Itchy rash where touched", "Wash area; hydrocortisone cream per plan"),
    ("contact", "MODERATE"): ("Hives and itching", "Remove exposure; antihistamine per plan"),
    ("environment", "MILD"): ("Sneezing, itchy watery eyes", "Cetirizine or loratadine as ordered"),
    ("environment", "MODERATE"): ("Wheezing on exposure", "Albuterol per asthma action plan"),
    ("food", "MILD"): ("Stomach ache, itchy mouth", "Antihistamine per plan; call parent"),
    ("food", "MODERATE"): _SEVERE_FOOD,
    ("venom", "MODERATE"): (
        "Large swelling around the sting",
        "Ice; antihistamine per plan; call parent",
    ),
}
_SEVERITIES = {
    "food": (("LIFE_THREATENING", 4), ("SEVERE", 3), ("MODERATE", 2), ("MILD", 1)),
    "venom": (("LIFE_THREATENING", 3), ("SEVERE", 2), ("MODERATE", 1)),
    "drug": (("SEVERE", 1), ("MODERATE", 4), ("MILD", 2)),
    "contact": (("MODERATE", 2), ("MILD", 3)),
    "environment": (("MODERATE", 1), ("MILD", 4)),
}
# Drug allergens that rule out a medication a student is taking (by school item name prefix).
_CONFLICTS = {
    "Penicillin": ("Amoxicillin", "Augmentin", "Penicillin"),
    "Amoxicillin": ("Amoxicillin", "Augmentin"),
    "Sulfa drugs (sulfamethoxazole)": ("Bactrim", "Sulfamethoxazole"),
    "Cephalexin": ("Cephalexin", "Keflex"),
    "Ibuprofen": ("Ibuprofen", "Advil", "Children's Ibuprofen", "Naproxen", "Aleve"),
}


def _reaction(kind: str, severity: str) -> tuple[str, str]:
    if severity == "LIFE_THREATENING":
        return _ANAPHYLAXIS
    if severity == "SEVERE" and kind in ("food", "venom"):
        return _SEVERE_FOOD
    return _REACTIONS.get((kind, severity)) or _REACTIONS[(kind, "MODERATE")]


def build_allergies(
    students: list[Student],
    needs_severe: set[UUID],
    takes: dict[UUID, set[str]],
    formulary: Formulary,
    rate: float,
    today: date,
    rng: random.Random,
    new_id: UuidSource,
) -> list[tuple[object, ...]]:
    """Allergy rows: a severe food or venom allergy for every student with an epinephrine
    order, and more students at random up to ``rate`` (a fifth with a second allergen)."""
    rows: list[tuple[object, ...]] = []
    weights = [a[2] for a in _ALLERGENS]
    severe = [a for a in _ALLERGENS if a[1] in ("food", "venom")]
    severe_w = [a[2] for a in severe]
    by_id = {s.id: s for s in students}

    def add(student: Student, allergen: tuple[str, str, float, str | None], sev: str) -> None:
        name, kind, _, item = allergen
        reaction, treatment = _reaction(kind, sev)
        verified = rng.random() < 0.7 and bool(student.school.nurses)
        verified_at = None
        if verified:
            when = today - timedelta(rng.randint(1, 300))
            verified_at = datetime(
                when.year, when.month, when.day, 13, rng.randrange(60), tzinfo=UTC
            )
        med = formulary.by_item.get(item) if item else None
        rows.append(
            (
                new_id(),
                student.id,
                name,
                med.id if med else None,
                sev,
                reaction,
                treatment,
                verified,
                rng.choice(student.school.nurses) if verified else None,
                verified_at,
                rng.random() >= 0.03 or sev in ("SEVERE", "LIFE_THREATENING"),
            )
        )

    def allowed(student: Student, allergen: str) -> bool:
        return not any(
            item.startswith(_CONFLICTS.get(allergen, ("\0",))) for item in takes.get(student.id, ())
        )

    target = round(rate * len(students))
    allergic: set[UUID] = set()
    for sid in sorted(needs_severe, key=lambda i: by_id[i].number):
        allergen = rng.choices(severe, severe_w)[0]
        add(by_id[sid], allergen, rng.choices(("LIFE_THREATENING", "SEVERE"), (7, 3))[0])
        allergic.add(sid)
    others = [s for s in students if s.id not in allergic]
    for student in rng.sample(others, max(0, min(len(others), target - len(allergic)))):
        count = 2 if rng.random() < 0.2 else 1
        chosen: set[str] = set()
        for _ in range(count):
            allergen = rng.choices(_ALLERGENS, weights)[0]
            if allergen[0] in chosen or not allowed(student, allergen[0]):
                continue
            chosen.add(allergen[0])
            levels = _SEVERITIES[allergen[1]]
            add(student, allergen, rng.choices([lv for lv, _ in levels], [w for _, w in levels])[0])
    return rows
