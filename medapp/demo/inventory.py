"""Medication on the office shelf: lots (student supplies and office stock) and their ledger.

Lots are planned before the dose logs so each GIVEN dose can point at the lot it came from;
the ledger (``inventory_adjustments``) is written after the logs: the receipt, one line per
dose taken from the lot, the odd witnessed waste of a controlled tablet, and disposal of some
expired lots. The lot's quantity is the ledger's last balance.

The spread a nurse should see on the stock screen: expired lots still on the shelf, lots
expiring within 30 days, empty and low lots (at or under the reorder level), lots close to it,
and plenty of ordinary ones.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from uuid import UUID

from medapp.demo.base import UuidSource
from medapp.demo.catalog import STOCK
from medapp.demo.formulary import Formulary, Med
from medapp.demo.people import School, Student
from medapp.demo.prescriptions import Rx
from medapp.demo.schoolcal import add_minutes

LOT_COLUMNS = (
    "id",
    "medication_id",
    "school_id",
    "student_id",
    "batch_number",
    "quantity",
    "reorder_level",
    "expiration_date",
    "created_at",
    "updated_at",
)
ADJUSTMENT_COLUMNS = (
    "id",
    "inventory_id",
    "delta",
    "quantity_after",
    "reason",
    "user_id",
    "witness_id",
    "medication_log_id",
    "created_at",
)

CATEGORIES = (
    ("expired", 0.08),
    ("near expiry", 0.12),
    ("empty", 0.03),
    ("low", 0.10),
    ("warning", 0.10),
    ("ok", 0.57),
)


@dataclass(eq=False)
class Lot:
    id: UUID
    med: Med
    school: School
    student: Student | None
    batch: str
    supply: int
    reorder: int
    per_dose: int | None
    received: date
    expiration: date
    category: str
    quantity: int  # on the shelf today (the row's quantity)
    disposed: int = 0  # removed after expiry
    wasted: int = 0  # controlled: dropped and wasted, witnessed
    uses: list[tuple[datetime, UUID, int, UUID]] = field(default_factory=list)

    def usable(self, day: date) -> bool:
        return self.received <= day <= self.expiration

    @property
    def received_at(self) -> datetime:
        """Checked in before the first dose of the day can be given from it."""
        return self.school.clock.at(self.received, add_minutes(self.school.day_start, -30))

    def row(self) -> tuple[object, ...]:
        created = self.received_at
        return (
            self.id,
            self.med.id,
            self.school.id,
            self.student.id if self.student else None,
            self.batch,
            self.quantity,
            self.reorder,
            self.expiration,
            created,
            created,
        )


@dataclass
class Shelf:
    lots: list[Lot]
    stock: dict[tuple[UUID, UUID], list[Lot]]  # (school, medication) -> office lots, newest first

    def lot_for(self, rx: Rx, day: date) -> Lot | None:
        """The lot a dose given on ``day`` came from: the student's own, else office stock."""
        lot = rx.lot
        if isinstance(lot, Lot) and lot.usable(day):
            return lot
        for lot in self.stock.get((rx.school.id, rx.med.id), ()):
            if lot.usable(day):
                return lot
        return None


def _batch(rng: random.Random) -> str:
    letters = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(1, 2)))
    return letters + "".join(rng.choices(string.digits, k=rng.randint(4, 6)))


def _category(rng: random.Random, allowed: tuple[str, ...] | None = None) -> str:
    options = [(c, w) for c, w in CATEGORIES if allowed is None or c in allowed]
    return rng.choices([c for c, _ in options], [w for _, w in options])[0]


def _quantity(category: str, supply: int, reorder: int, rng: random.Random) -> int:
    if category == "empty":
        return 0
    if category == "low":
        return rng.randint(1, reorder) if reorder >= 1 else 0
    if category == "warning":
        return rng.randint(reorder + 1, max(reorder + 1, 2 * reorder))
    return rng.randint(min(supply, 2 * reorder + 1), max(supply, 1))


def _dates(category: str, received: date, today: date, rng: random.Random) -> tuple[date, date]:
    """(received, expiration) for a lot of this category."""
    if category == "expired":
        expiration = today - timedelta(rng.randint(1, 40))
        if received >= expiration:
            received = expiration - timedelta(rng.randint(30, 150))
    elif category == "near expiry":
        expiration = today + timedelta(rng.randint(0, 30))
    else:
        expiration = today + timedelta(rng.randint(60, 540))
    return received, expiration


def plan_lots(
    orders: list[Rx],
    schools: list[School],
    formulary: Formulary,
    target: int,
    today: date,
    rng: random.Random,
    new_id: UuidSource,
) -> Shelf:
    lots: list[Lot] = []
    stock: dict[tuple[UUID, UUID], list[Lot]] = {}

    def add(
        med: Med,
        school: School,
        student: Student | None,
        supply: int,
        reorder: int,
        per_dose: int | None,
        received: date,
        category: str,
    ) -> Lot:
        received, expiration = _dates(category, received, today, rng)
        lot = Lot(
            id=new_id(),
            med=med,
            school=school,
            student=student,
            batch=_batch(rng),
            supply=supply,
            reorder=reorder,
            per_dose=per_dose,
            received=received,
            expiration=expiration,
            category=category,
            quantity=_quantity(category, supply, reorder, rng),
        )
        if category == "expired" and rng.random() < 0.4 and lot.quantity > 0:
            lot.disposed, lot.quantity = lot.quantity, 0
        if med.is_controlled and rng.random() < 0.1:
            lot.wasted = 1
        lots.append(lot)
        return lot

    # Office stock under standing orders: one lot per item, a second, older one now and then.
    for school in schools:
        for item, supply, reorder, per_dose in STOCK:
            if len(schools) > 1 and rng.random() < 0.1:
                continue
            med = formulary.by_item[item]
            shelf = stock.setdefault((school.id, med.id), [])
            if rng.random() < 0.2:
                old = today - timedelta(rng.randint(150, 300))
                category = rng.choice(("expired", "near expiry"))
                shelf.append(add(med, school, None, supply, reorder, per_dose, old, category))
            received = today - timedelta(rng.randint(10, 120))
            category = _category(rng, ("near expiry", "low", "warning", "ok", "expired"))
            shelf.append(add(med, school, None, supply, reorder, per_dose, received, category))
            shelf.sort(key=lambda lot: lot.received, reverse=True)

    # Students' own supplies: emergency and controlled medications first.
    candidates = [r for r in orders if r.is_active and (not r.med.is_otc or rng.random() < 0.4)]
    rng.shuffle(candidates)
    candidates.sort(key=lambda r: (r.template.emergency is None, not r.med.is_controlled))
    for rx in candidates[: max(0, target - len(lots))]:
        t = rx.template
        if t.course_days:
            received, category = rx.start_date, _category(rng, ("ok", "low"))
        elif t.emergency or rx.is_prn:
            received = rx.start_date
            category = _category(rng, ("expired", "near expiry", "ok", "low", "warning"))
        else:
            received = max(rx.start_date, today - timedelta(rng.randint(5, 45)))
            category = _category(rng)
        rx.lot = add(
            rx.med, rx.school, rx.student, t.supply, t.reorder, t.per_dose, received, category
        )
    return Shelf(lots=lots, stock=stock)


def adjustments(
    shelf: Shelf, today: date, rng: random.Random, new_id: UuidSource
) -> list[tuple[object, ...]]:
    """The ledger of every lot, ending at the lot's quantity."""
    rows: list[tuple[object, ...]] = []
    for lot in shelf.lots:
        school = lot.school
        staff = school.nurses or school.aides or [u for _, _, _, u in lot.uses[:1]]
        if not staff:
            continue
        controlled = lot.med.is_controlled
        used = sum(q for _, _, q, _ in lot.uses)
        received_qty = lot.quantity + lot.disposed + lot.wasted + used
        user = rng.choice(staff)

        def witness(user: UUID, school: School = school) -> UUID | None:
            others = [u for u in dict.fromkeys(school.nurses + school.aides) if u != user]
            return rng.choice(others) if others else None

        events: list[tuple[datetime, int, str, UUID, UUID | None, UUID | None]] = []
        if received_qty == 0:  # nothing ever in it: record the receipt and the loss
            received_qty = 1
            lot.wasted += 1
        who = "parent/guardian" if lot.student is not None else "district pharmacy order"
        events.append(
            (
                lot.received_at,
                received_qty,
                f"Received from {who}: {received_qty} counted",
                user,
                witness(user) if controlled else None,
                None,
            )
        )
        for at, log_id, qty, nurse in lot.uses:
            events.append((at, -qty, "Dose administered", nurse, None, log_id))
        if lot.wasted:
            day = lot.received + timedelta(rng.randint(0, max(0, (today - lot.received).days - 1)))
            day = min(day, today - timedelta(1), lot.expiration)
            nurse = rng.choice(staff)
            events.append(
                (
                    school.clock.at(day, time(13, rng.randint(0, 59))),
                    -lot.wasted,
                    "Wasted: dropped on the floor, witnessed and logged",
                    nurse,
                    witness(nurse),
                    None,
                )
            )
        if lot.disposed:
            day = min(lot.expiration + timedelta(rng.randint(1, 5)), today - timedelta(1))
            nurse = rng.choice(staff)
            events.append(
                (
                    school.clock.at(day, time(16, rng.randint(0, 59))),
                    -lot.disposed,
                    "Expired: removed from stock for disposal",
                    nurse,
                    witness(nurse) if controlled else None,
                    None,
                )
            )
        events.sort(key=lambda e: (e[0], e[1] < 0))
        balance = 0
        for at, delta, reason, by, wit, source in events:
            balance += delta
            rows.append((new_id(), lot.id, delta, balance, reason, by, wit, source, at))
        assert balance == lot.quantity, (lot.batch, balance, lot.quantity)
    return rows
